namespace Itsm.Functions.Approvals;

/// <summary>
/// Where the engine finds people for a level's sources: a requester's manager (<see cref="ApproverKind.RequesterManager"/>)
/// and a group's members (<see cref="ApproverKind.Group"/>, and the CI owner group of <see cref="ApproverKind.CiOwner"/>).
/// Both throw when the directory cannot answer now, so the approval activity retries.
/// </summary>
public interface IApproverDirectory
{
    /// <summary>The manager's user id, or null when the requester has none.</summary>
    Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken);

    /// <summary>The group's members (users, through nested groups too); empty for an unknown or empty group.</summary>
    Task<IReadOnlyList<string>> GroupMembersAsync(string tenantId, string groupId, ApprovalSettings settings, CancellationToken cancellationToken);
}

/// <summary>The tenant's approval settings are the directory: their <c>managers</c> and <c>groups</c>.</summary>
public sealed class SettingsApproverDirectory : IApproverDirectory
{
    public Task<string?> ManagerOfAsync(string tenantId, string userId, ApprovalSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(settings.ManagerOf(userId));

    public Task<IReadOnlyList<string>> GroupMembersAsync(string tenantId, string groupId, ApprovalSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(settings.GroupMembers(groupId));
}
