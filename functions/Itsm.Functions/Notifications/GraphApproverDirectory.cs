using Itsm.Functions.Approvals;
using Itsm.Functions.Security;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using OrgContact = Microsoft.Graph.Models.OrgContact;
using Microsoft.Graph.Models.ODataErrors;

namespace Itsm.Functions.Notifications;

/// <summary>
/// Approvers from Microsoft Entra ID through Graph: a requester's manager (<c>GET /users/{id}/manager</c>) when
/// <see cref="GraphOptions.DirectoryManagers"/> is on, and the members of an Entra group named by its object id
/// (<c>GET /groups/{id}/transitiveMembers/graph.user</c>, nested groups included) when
/// <see cref="GraphOptions.DirectoryGroups"/> is on. Our user ids are the tokens' <c>oid</c> claims, which Graph
/// accepts as user ids, and Graph's <c>id</c>s are object ids: the ids people sign in with. Graph is asked only for the
/// app's own tenant (the one its identity reads). A user without a manager (or whose manager is an organizational
/// contact, who cannot sign in), a group name that is not an object id, or a group the directory does not know (404)
/// falls back to the approval settings, as does a refusal for want of the Graph permission (logged as an error); any
/// other failure is thrown, so the activity retries.
/// </summary>
public sealed class GraphApproverDirectory(IServiceProvider services, IOptions<GraphOptions> options, AuthOptions auth, ILogger<GraphApproverDirectory> logger) : IApproverDirectory
{
    /// <summary>Graph pages of 999 users; a group larger than this many pages is not an approval group.</summary>
    private const int MaxPages = 10;

    public async Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken)
    {
        if (!options.Value.DirectoryManagers || !IsHomeTenant(tenantId))
        {
            return settings.ManagerOf(userId);
        }

        try
        {
            var manager = await Graph().Users[userId].Manager.GetAsync(request => request.QueryParameters.Select = ["id"], cancellationToken);

            // Graph documents the manager as a user or an organizational contact; a contact cannot sign in to decide.
            return manager is null or OrgContact || string.IsNullOrWhiteSpace(manager.Id) ? settings.ManagerOf(userId) : manager.Id;
        }
        catch (ODataError error) when (error.ResponseStatusCode == 404)
        {
            return settings.ManagerOf(userId);
        }
        catch (ODataError error) when (IsMissingGrant(error))
        {
            NotGranted("User.Read.All", error);
            return settings.ManagerOf(userId);
        }
    }

    public async Task<IReadOnlyList<string>> GroupMembersAsync(string tenantId, string groupId, ApprovalSettings settings, CancellationToken cancellationToken)
    {
        if (!options.Value.DirectoryGroups || !IsHomeTenant(tenantId) || !Guid.TryParse(groupId, out _))
        {
            return settings.GroupMembers(groupId);
        }

        try
        {
            var users = Graph().Groups[groupId].TransitiveMembers.GraphUser;
            var page = await users.GetAsync(request => request.QueryParameters.Select = ["id"], cancellationToken);
            var members = new List<string>();
            for (var pages = 1; page is not null; pages++)
            {
                members.AddRange((page.Value ?? []).Select(u => u.Id).OfType<string>());
                if (page.OdataNextLink is not { } next || pages == MaxPages)
                {
                    break;
                }

                page = await users.WithUrl(next).GetAsync(cancellationToken: cancellationToken);
            }

            return members;
        }
        catch (ODataError error) when (error.ResponseStatusCode == 404)
        {
            return settings.GroupMembers(groupId);
        }
        catch (ODataError error) when (IsMissingGrant(error))
        {
            NotGranted("GroupMember.Read.All", error);
            return settings.GroupMembers(groupId);
        }
    }

    // A refusal is a set-up error that retrying cannot mend: the approval goes on with the settings' data rather than
    // failing its run, which would leave it pending with nobody prompted.
    private static bool IsMissingGrant(ODataError error) => error.ResponseStatusCode is 401 or 403;

    private void NotGranted(string permission, ODataError error) =>
        logger.LogError("Graph refused the directory read ({Status}: {Message}); approvers come from the approval settings until the app's identity is granted {Permission} (docs/deploy.md).", error.ResponseStatusCode, error.Error?.Message ?? error.Message, permission);

    private bool IsHomeTenant(string tenantId) =>
        string.IsNullOrWhiteSpace(auth.TenantId) || string.Equals(auth.TenantId, tenantId, StringComparison.OrdinalIgnoreCase);

    // Resolved when used, not injected: the Graph client is created only when the directory is actually read.
    private GraphServiceClient Graph() => services.GetRequiredService<GraphServiceClient>();
}
