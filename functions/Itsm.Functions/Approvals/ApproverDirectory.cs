namespace Itsm.Functions.Approvals;

/// <summary>Where the engine finds a requester's manager (<see cref="ApproverKind.RequesterManager"/>).</summary>
public interface IApproverDirectory
{
    /// <summary>The manager's user id, or null when the requester has none. Throws when the directory cannot answer now (the activity retries).</summary>
    Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken);
}

/// <summary>The tenant's approval settings are the directory: their <c>managers</c> map.</summary>
public sealed class SettingsApproverDirectory : IApproverDirectory
{
    public Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(settings.ManagerOf(userId));
}
