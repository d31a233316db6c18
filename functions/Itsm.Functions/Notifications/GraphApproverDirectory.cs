using Itsm.Functions.Approvals;
using Itsm.Functions.Security;
using Microsoft.Extensions.Options;
using Microsoft.Graph;
using Microsoft.Graph.Models.ODataErrors;

namespace Itsm.Functions.Notifications;

/// <summary>
/// Requesters' managers from Microsoft Entra ID through Graph (<c>GET /users/{id}/manager</c>), when
/// <see cref="GraphOptions.DirectoryManagers"/> is on. Our user ids are the tokens' <c>oid</c> claims, which Graph
/// accepts as user ids, and the manager's <c>id</c> is its object id: the id the manager signs in with. Graph is asked
/// only for users of the app's own tenant (the one its identity reads); a user without a manager in the directory (404)
/// falls back to the approval settings' <c>managers</c>. Any other failure is thrown, so the approval activity retries.
/// </summary>
public sealed class GraphApproverDirectory(IServiceProvider services, IOptions<GraphOptions> options, AuthOptions auth) : IApproverDirectory
{
    public async Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken)
    {
        var homeTenant = string.IsNullOrWhiteSpace(auth.TenantId) || string.Equals(auth.TenantId, tenantId, StringComparison.OrdinalIgnoreCase);
        if (!options.Value.DirectoryManagers || !homeTenant)
        {
            return settings.ManagerOf(userId);
        }

        try
        {
            // Resolved here, not injected: the Graph client is created only when the directory is actually read.
            var graph = services.GetRequiredService<GraphServiceClient>();
            var manager = await graph.Users[userId].Manager.GetAsync(request => request.QueryParameters.Select = ["id"], cancellationToken);
            return string.IsNullOrWhiteSpace(manager?.Id) ? settings.ManagerOf(userId) : manager.Id;
        }
        catch (ODataError error) when (error.ResponseStatusCode == 404)
        {
            return settings.ManagerOf(userId);
        }
    }
}
