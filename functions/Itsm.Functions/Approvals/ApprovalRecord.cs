using System.Text.Json.Serialization;
using Itsm.Functions.Changes;

namespace Itsm.Functions.Approvals;

[JsonConverter(typeof(JsonStringEnumConverter<ApprovalState>))]
public enum ApprovalState
{
    Pending,

    /// <summary>Waiting because the change has conflicts and the policy blocks them (an emergency change may override).</summary>
    Blocked,
    Approved,
    Rejected,

    /// <summary>The change left Authorize by other means (authorised by hand, cancelled) before the approval finished.</summary>
    Withdrawn,
}

[JsonConverter(typeof(JsonStringEnumConverter<ApprovalVerdict>))]
public enum ApprovalVerdict
{
    Approve,
    Reject,
}

/// <summary>One approver of a level and, when a delegation is active as the level opens, the delegate answering for them.</summary>
public sealed record ApproverSlot(string UserId, string? Delegate = null, bool Substitute = false);

/// <summary>A level as it runs: its rule copied from the policy, its resolved approvers, and how it closed.</summary>
public sealed record ApprovalLevelState(
    string Name,
    ApprovalRule Rule,
    int? QuorumCount,
    int? QuorumPercent,
    bool RejectOnFirstRejection,
    int? TimeoutMinutes,
    TimeoutOutcome OnTimeout,
    IReadOnlyList<string> Substitutes,
    IReadOnlyList<ApproverSource> Sources)
{
    public IReadOnlyList<ApproverSlot> Approvers { get; init; } = [];

    public DateTimeOffset? OpenedAt { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    public bool Escalated { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    public ApprovalVerdict? Outcome { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset? LastReminderAt { get; init; }

    [JsonIgnore]
    public bool IsOpen => OpenedAt is not null && ClosedAt is null;
}

/// <summary>One answer, as recorded: who answered, for whom, when, through which channel, and the comment.</summary>
public sealed record ApprovalDecision(
    int Level,
    string Approver,
    string AnsweredBy,
    ApprovalVerdict Verdict,
    DateTimeOffset At,
    string Channel,
    string? Comment = null,
    string? OnBehalfOf = null);

/// <summary>A prompt or reminder sent to an approver (or their delegate), with the link to the approval page.</summary>
public sealed record ApprovalPrompt(
    int Level,
    string Recipient,
    string Approver,
    string Kind,
    DateTimeOffset At,
    string Link,
    DateTimeOffset LinkExpiresAt);

public sealed record ConflictOverride(string By, string Reason, DateTimeOffset At);

/// <summary>
/// One approval of one subject (a change at the revision that entered Authorize, or a service request at the revision
/// that put it on hold awaiting approval): the snapshot of its policy, its levels, every decision and prompt. Written
/// by the orchestration's activity and by the decision API, each with the ETag of the version it read, so a vote and a
/// level closing can never both win.
/// </summary>
public sealed record ApprovalRecord
{
    public const string DocumentType = "approval";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public string SubjectType { get; init; } = "Change";

    public required string SubjectId { get; init; }

    public required string SubjectNumber { get; init; }

    public required string Title { get; init; }

    public string? Summary { get; init; }

    /// <summary>The change type when the subject is a change; null for a service request.</summary>
    public string? ChangeType { get; init; }

    /// <summary>The subject's category (for a service request, the catalogue item).</summary>
    public string? Category { get; init; }

    public string? Requester { get; init; }

    public DateTimeOffset? PlannedStart { get; init; }

    public DateTimeOffset? PlannedEnd { get; init; }

    public required ChangeRisk Risk { get; init; }

    public IReadOnlyList<ChangeConflict> Conflicts { get; init; } = [];

    public required string PolicyId { get; init; }

    public required string PolicyName { get; init; }

    public int? ReminderAfterMinutes { get; init; }

    public int LinkLifetimeHours { get; init; } = 72;

    public required ApprovalState State { get; init; }

    public int CurrentLevel { get; init; }

    public required IReadOnlyList<ApprovalLevelState> Levels { get; init; }

    public IReadOnlyList<ApprovalDecision> Decisions { get; init; } = [];

    public IReadOnlyList<ApprovalPrompt> Prompts { get; init; } = [];

    /// <summary>Link tokens already used to decide: a replayed link is refused.</summary>
    public IReadOnlyList<string> UsedLinks { get; init; } = [];

    public ConflictOverride? Override { get; init; }

    public bool RetrospectiveReviewRequired { get; init; }

    public string? OutcomeReason { get; init; }

    /// <summary>True once the outcome has been applied to the change.</summary>
    public bool OutcomeApplied { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    [JsonIgnore]
    public bool IsFinished => State is ApprovalState.Approved or ApprovalState.Rejected or ApprovalState.Withdrawn;
}
