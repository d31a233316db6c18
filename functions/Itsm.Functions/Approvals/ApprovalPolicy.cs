using System.Text.Json.Serialization;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Approvals;

/// <summary>How a level decides: one approval is enough, everyone must approve, or a quorum (a count or a percentage).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApprovalRule>))]
public enum ApprovalRule
{
    Any,
    All,
    Quorum,
}

/// <summary>What happens when a level's timeout passes without a decision.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TimeoutOutcome>))]
public enum TimeoutOutcome
{
    /// <summary>The level's substitutes are added as approvers and get one more timeout period; then it is rejected.</summary>
    Escalate,
    AutoReject,

    /// <summary>Approves only a low-risk subject (standard risk); anything riskier is rejected instead, and the record says why.</summary>
    AutoApprove,
}

/// <summary>Where a level's approvers come from.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApproverKind>))]
public enum ApproverKind
{
    /// <summary>A named user (<see cref="ApproverSource.Id"/>).</summary>
    User,

    /// <summary>The members of a group of the approval directory (CAB, change managers).</summary>
    Group,

    /// <summary>The owners of the change's configuration items (from the CMDB).</summary>
    CiOwner,

    /// <summary>The requester's manager (from the approval directory).</summary>
    RequesterManager,
}

[JsonConverter(typeof(JsonStringEnumConverter<RiskLevel>))]
public enum RiskLevel
{
    Low,
    Medium,
    High,
}

public sealed record ApproverSource(ApproverKind Kind, string? Id = null);

/// <summary>One level of a policy. Levels run in order; a level closes approved or rejected before the next one opens.</summary>
public sealed record ApprovalLevelDefinition(
    string Name,
    IReadOnlyList<ApproverSource> Approvers,
    ApprovalRule Rule = ApprovalRule.Any,
    int? QuorumCount = null,
    int? QuorumPercent = null,
    bool RejectOnFirstRejection = true,
    int? TimeoutMinutes = null,
    TimeoutOutcome OnTimeout = TimeoutOutcome.AutoReject,
    IReadOnlyList<string>? Substitutes = null);

/// <summary>
/// Which approvals a change or a service request needs. The first policy of the tenant that applies to the ticket's
/// type and matches it is used. For changes: their change types and risk levels (all when absent); a change that no
/// policy matches is authorised by hand (the <c>authorize</c> action of a change manager). For service requests:
/// their category (the catalogue item; all when absent); a request that no policy matches needs no approval.
/// </summary>
public sealed record ApprovalPolicy(
    string Id,
    string Name,
    IReadOnlyList<ApprovalLevelDefinition> Levels,
    IReadOnlyList<ChangeType>? ChangeTypes = null,
    IReadOnlyList<RiskLevel>? RiskLevels = null,
    int? ReminderAfterMinutes = null,
    bool BlockOnConflicts = false,
    int LinkLifetimeHours = 72,
    TicketType TicketType = TicketType.Change,
    IReadOnlyList<string>? Categories = null)
{
    public bool Matches(Ticket ticket, RiskLevel risk) =>
        ticket.Type == TicketType
        && (Categories is null || Categories.Count == 0 || (ticket.Category is { } category && Categories.Contains(category, StringComparer.OrdinalIgnoreCase)))
        && (ticket.Type != TicketType.Change
            || ((ChangeTypes is null || ChangeTypes.Count == 0 || ChangeTypes.Contains(ticket.Change?.ChangeType ?? ChangeType.Normal))
                && (RiskLevels is null || RiskLevels.Count == 0 || RiskLevels.Contains(risk))));
}

/// <summary>An approver's delegate for a date range: receives the prompts and may answer in their place (recorded as such).</summary>
public sealed record Delegation(string Approver, string Delegate, DateTimeOffset From, DateTimeOffset To)
{
    public bool ActiveAt(DateTimeOffset instant) => instant >= From && instant < To;
}

/// <summary>A tenant's approval settings: policies, and the directory data used when Graph is not configured.</summary>
public sealed record ApprovalSettings(
    IReadOnlyList<ApprovalPolicy> Policies,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Groups = null,
    IReadOnlyDictionary<string, string>? Managers = null,
    IReadOnlyList<Delegation>? Delegations = null)
{
    public static readonly ApprovalSettings Empty = new([]);

    public IReadOnlyList<string> GroupMembers(string group) =>
        Groups is not null && Groups.TryGetValue(group, out var members) ? members : [];

    /// <summary>
    /// The policy that decides a ticket: for a request ordered from the service catalogue whose item names a policy,
    /// that policy (null when it no longer exists); otherwise the first policy that matches the ticket.
    /// </summary>
    public ApprovalPolicy? PolicyFor(Ticket ticket, RiskLevel risk) =>
        ticket.Catalog?.ApprovalPolicy is { } named
            ? Policies.FirstOrDefault(p => p.Id == named && p.TicketType == ticket.Type)
            : Policies.FirstOrDefault(p => p.Matches(ticket, risk));

    public string? ManagerOf(string userId) => Managers is not null && Managers.TryGetValue(userId, out var manager) ? manager : null;

    /// <summary>The delegate answering for <paramref name="approver"/> at an instant; delegations never cascade.</summary>
    public string? DelegateOf(string approver, DateTimeOffset instant) =>
        Delegations?.FirstOrDefault(d => d.Approver == approver && d.ActiveAt(instant))?.Delegate;

    /// <summary>Every problem, by field path; empty when the settings are usable.</summary>
    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var p = 0; p < Policies.Count; p++)
        {
            var policy = Policies[p];
            var at = $"policies[{p}]";
            if (string.IsNullOrWhiteSpace(policy.Id) || policy.Id.Length > 64)
            {
                errors[$"{at}.id"] = ["is required (at most 64 characters)."];
            }
            else if (!ids.Add(policy.Id))
            {
                errors[$"{at}.id"] = [$"'{policy.Id}' is used by another policy."];
            }

            if (string.IsNullOrWhiteSpace(policy.Name))
            {
                errors[$"{at}.name"] = ["is required."];
            }

            if (policy.Levels is null || policy.Levels.Count == 0)
            {
                errors[$"{at}.levels"] = ["A policy needs at least one level."];
            }

            if (policy.ReminderAfterMinutes is < 1)
            {
                errors[$"{at}.reminderAfterMinutes"] = ["must be at least 1."];
            }

            if (policy.LinkLifetimeHours is < 1 or > 24 * 30)
            {
                errors[$"{at}.linkLifetimeHours"] = ["must be between 1 and 720."];
            }

            if (policy.TicketType is not (TicketType.Change or TicketType.ServiceRequest))
            {
                errors[$"{at}.ticketType"] = ["Approval policies are for Change or ServiceRequest tickets."];
            }
            else if (policy.TicketType == TicketType.ServiceRequest)
            {
                if (policy.ChangeTypes is { Count: > 0 })
                {
                    errors[$"{at}.changeTypes"] = ["applies only to change policies."];
                }

                if (policy.RiskLevels is { Count: > 0 })
                {
                    errors[$"{at}.riskLevels"] = ["applies only to change policies; a service request has no change risk."];
                }

                if (policy.BlockOnConflicts)
                {
                    errors[$"{at}.blockOnConflicts"] = ["applies only to change policies; a service request has no schedule to conflict."];
                }
            }

            if (policy.Categories is not null && policy.Categories.Any(string.IsNullOrWhiteSpace))
            {
                errors[$"{at}.categories"] = ["must be a list of category names."];
            }

            for (var l = 0; l < (policy.Levels?.Count ?? 0); l++)
            {
                ValidateLevel(policy.Levels![l], $"{at}.levels[{l}]", errors);
            }
        }

        foreach (var (group, members) in Groups ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (members is null || members.Any(string.IsNullOrWhiteSpace))
            {
                errors[$"groups.{group}"] = ["must be a list of user ids."];
            }
        }

        for (var d = 0; d < (Delegations?.Count ?? 0); d++)
        {
            var delegation = Delegations![d];
            if (string.IsNullOrWhiteSpace(delegation.Approver) || string.IsNullOrWhiteSpace(delegation.Delegate) || delegation.Approver == delegation.Delegate)
            {
                errors[$"delegations[{d}]"] = ["needs an approver and a different delegate."];
            }
            else if (delegation.To <= delegation.From)
            {
                errors[$"delegations[{d}].to"] = ["must be after 'from'."];
            }
        }

        return errors;
    }

    private static void ValidateLevel(ApprovalLevelDefinition level, string at, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(level.Name))
        {
            errors[$"{at}.name"] = ["is required."];
        }

        if (level.Approvers is null || level.Approvers.Count == 0)
        {
            errors[$"{at}.approvers"] = ["A level needs at least one approver source."];
        }
        else
        {
            for (var a = 0; a < level.Approvers.Count; a++)
            {
                if (level.Approvers[a].Kind is ApproverKind.User or ApproverKind.Group && string.IsNullOrWhiteSpace(level.Approvers[a].Id))
                {
                    errors[$"{at}.approvers[{a}].id"] = [$"A {level.Approvers[a].Kind} approver needs an id."];
                }
            }
        }

        if (level.Rule == ApprovalRule.Quorum)
        {
            if ((level.QuorumCount is null) == (level.QuorumPercent is null))
            {
                errors[$"{at}.quorumCount"] = ["A quorum level needs either quorumCount or quorumPercent."];
            }
            else if (level.QuorumCount is < 1)
            {
                errors[$"{at}.quorumCount"] = ["must be at least 1."];
            }
            else if (level.QuorumPercent is < 1 or > 100)
            {
                errors[$"{at}.quorumPercent"] = ["must be between 1 and 100."];
            }
        }
        else if (level.QuorumCount is not null || level.QuorumPercent is not null)
        {
            errors[$"{at}.rule"] = ["quorumCount and quorumPercent apply only to the Quorum rule."];
        }

        if (level.TimeoutMinutes is < 1)
        {
            errors[$"{at}.timeoutMinutes"] = ["must be at least 1."];
        }

        if (level.OnTimeout == TimeoutOutcome.Escalate && (level.Substitutes is null || level.Substitutes.Count == 0))
        {
            errors[$"{at}.substitutes"] = ["Escalating on timeout needs at least one substitute."];
        }
    }
}
