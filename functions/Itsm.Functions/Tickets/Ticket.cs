using System.Text.Json;
using System.Text.Json.Serialization;

namespace Itsm.Functions.Tickets;

[JsonConverter(typeof(JsonStringEnumConverter<TicketType>))]
public enum TicketType
{
    Incident,
    ServiceRequest,
    Problem,
    Change,
}

[JsonConverter(typeof(JsonStringEnumConverter<TicketState>))]
public enum TicketState
{
    New,
    InProgress,
    OnHold,
    Resolved,
    Closed,
    Cancelled,

    // Problems
    Assess,
    RootCauseAnalysis,
    FixInProgress,

    // Changes (Assess is shared)
    Authorize,
    Scheduled,
    Implement,
    Review,
}

/// <summary>Why an incident or request waits (ServiceNow's on-hold reasons).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<HoldReason>))]
public enum HoldReason
{
    AwaitingCaller,
    AwaitingVendor,
    AwaitingChange,
    AwaitingProblem,

    /// <summary>A service request waiting for its approval (set and cleared by the approval engine).</summary>
    AwaitingApproval,
}

[JsonConverter(typeof(JsonStringEnumConverter<ChangeType>))]
public enum ChangeType
{
    Standard,
    Normal,
    Emergency,
}

public sealed record PersonRef(string Id, string? Name = null, string? Email = null);

public sealed record Resolution(string Code, string Notes, DateTimeOffset ResolvedAt, string ResolvedBy);

public sealed record ProblemRecord(string? RootCause = null, string? Workaround = null, bool KnownError = false);

/// <summary>The pre-approved template (and its version) a standard change was raised from.</summary>
public sealed record ChangeTemplateRef(string Id, int Version, string Name);

public sealed record ChangeRecord(
    ChangeType ChangeType = ChangeType.Normal,
    DateTimeOffset? PlannedStart = null,
    DateTimeOffset? PlannedEnd = null,
    string? ImplementationPlan = null,
    string? BackoutPlan = null,
    string? ReviewOutcome = null,
    ChangeTemplateRef? Template = null);

[JsonConverter(typeof(JsonStringEnumConverter<TicketLinkKind>))]
public enum TicketLinkKind
{
    /// <summary>This ticket is the parent of the linked one.</summary>
    ParentOf,

    /// <summary>This ticket is a child of the linked one.</summary>
    ChildOf,

    /// <summary>This ticket duplicates the linked one (set by a merge).</summary>
    DuplicateOf,

    /// <summary>This incident is caused by the linked problem.</summary>
    CausedBy,

    /// <summary>This ticket is implemented (fixed) by the linked change.</summary>
    ImplementedBy,
}

public sealed record TicketLink(TicketLinkKind Kind, string TicketId, string Number);

/// <summary>
/// An incident, service request, problem or change. Stored in the <c>tickets</c> container under the
/// partition (tenantId, ticketId), next to its comments and audit events.
/// </summary>
public sealed record Ticket
{
    public const string DocumentType = "ticket";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Same as <see cref="Id"/>: the second level of the partition key.</summary>
    public string TicketId => Id;

    public string DocType => DocumentType;

    public required string Number { get; init; }

    /// <summary>Counts the writes of this ticket; its audit events, comments and time entries carry the revision that added them.</summary>
    public int Revision { get; init; }

    public required TicketType Type { get; init; }

    public required TicketState State { get; init; }

    public HoldReason? HoldReason { get; init; }

    public required string Title { get; init; }

    public string? Description { get; init; }

    public required int Impact { get; init; }

    public required int Urgency { get; init; }

    public required int Priority { get; init; }

    public bool MajorIncident { get; init; }

    public required PersonRef Requester { get; init; }

    public string? AssignmentGroup { get; init; }

    public PersonRef? Assignee { get; init; }

    public string? Category { get; init; }

    public string? AffectedService { get; init; }

    public IReadOnlyList<string> ConfigurationItems { get; init; } = [];

    public IReadOnlyList<string> Watchers { get; init; } = [];

    public IReadOnlyList<string> Tags { get; init; } = [];

    public IReadOnlyDictionary<string, JsonElement> CustomFields { get; init; } = new Dictionary<string, JsonElement>();

    public IReadOnlyList<TicketLink> Links { get; init; } = [];

    public Resolution? Resolution { get; init; }

    public ProblemRecord? Problem { get; init; }

    public ChangeRecord? Change { get; init; }

    public int TimeWorkedMinutes { get; init; }

    public required string Channel { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>When an agent first responded: a public comment by an agent, or the ticket leaving New.</summary>
    public DateTimeOffset? FirstRespondedAt { get; init; }

    /// <summary>The ticket's SLA and OLA clocks, moved by every write (see <c>Sla/SlaTracker</c>); read them through <c>/api/tickets/{id}/sla</c>.</summary>
    public IReadOnlyList<Sla.TicketSla> Sla { get; init; } = [];

    /// <summary>A service request ordered from the service catalogue: the item, the version ordered and the answered variables (never changed after the order).</summary>
    public Catalog.CatalogRequest? Catalog { get; init; }

    /// <summary>The fulfilment plan of a catalogue request and its tasks, moved by the catalogue's write rule (see <c>Catalog/Fulfilment.cs</c>).</summary>
    public Catalog.Fulfilment? Fulfilment { get; init; }

    /// <summary>What reports need from the ticket's past (reopens, group changes, approval waits), kept by every write (see <c>Reports/ReportMarks</c>).</summary>
    public Reports.ReportMarks? Marks { get; init; }

    [JsonIgnore]
    public bool IsOpen => State is not (TicketState.Closed or TicketState.Cancelled or TicketState.Resolved);
}
