namespace Itsm.Functions.Security;

/// <summary>The authenticated caller of an API function, from a validated bearer token. Never from a header the caller sets.</summary>
public sealed record CallerPrincipal(string TenantId, string UserId, string? Name, string? Email, IReadOnlySet<string> Roles)
{
    public bool IsInRole(string role) => Roles.Contains(role);

    /// <summary>Agents, change managers and admins work tickets of their whole tenant.</summary>
    public bool IsAgent => Roles.Contains(AppRoles.Agent) || Roles.Contains(AppRoles.ChangeManager) || Roles.Contains(AppRoles.Admin);

    public bool IsAdmin => Roles.Contains(AppRoles.Admin);

    /// <summary>
    /// The Entra security groups (object ids) the token names in its <c>groups</c> claim: what catalogue items and
    /// knowledge articles restrict their audience to. Empty when the app registration emits no group claims.
    /// </summary>
    public IReadOnlySet<string> Groups { get; init; } = NoGroups;

    /// <summary>The one empty group set, so that callers without groups compare equal (a record compares sets by reference).</summary>
    public static readonly IReadOnlySet<string> NoGroups = new HashSet<string>();
}

/// <summary>The app roles of the Entra app registration. A token without any of them is a requester.</summary>
public static class AppRoles
{
    public const string Requester = "Itsm.Requester";
    public const string Agent = "Itsm.Agent";
    public const string Approver = "Itsm.Approver";
    public const string ChangeManager = "Itsm.ChangeManager";
    public const string Admin = "Itsm.Admin";

    public static readonly IReadOnlyList<string> All = [Requester, Agent, Approver, ChangeManager, Admin];
}

/// <summary>Validates the bearer token of a request.</summary>
public interface ICallerAuthenticator
{
    /// <param name="authorizationHeader">The raw <c>Authorization</c> header, or null.</param>
    Task<AuthenticationResult> AuthenticateAsync(string? authorizationHeader, CancellationToken cancellationToken);
}

/// <summary>Either a caller, or why not (always answered with 401 and a <c>WWW-Authenticate</c> header).</summary>
public sealed record AuthenticationResult(CallerPrincipal? Caller, string? Failure)
{
    public bool Succeeded => Caller is not null;

    public static AuthenticationResult Success(CallerPrincipal caller) => new(caller, null);

    public static AuthenticationResult Fail(string reason) => new(null, reason);
}
