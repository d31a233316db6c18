using System.Text.Json;
using System.Text.Json.Serialization;

namespace Itsm.Functions.Events;

/// <summary>What an event is about: the kind of record, its id, and (for tickets and changes) its number and revision.</summary>
public sealed record EventSubject(string Kind, string Id, string? Number = null, int? Revision = null);

/// <summary>
/// One change to a ticket, change, approval or CI as integrators see it: in the feed, in a webhook delivery's body and in a
/// Service Bus message. <see cref="Position"/> orders the events of a tenant (dense, strictly increasing from 1);
/// <see cref="SessionKey"/> is the ticket a change belongs to (the ticket itself, the change an approval decides), so
/// consumers that need per-ticket order can group by it.
/// </summary>
public sealed record FeedEvent
{
    public const string DocumentType = "event";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>0 until the sequencer has placed the event in the tenant's log.</summary>
    public long Position { get; init; }

    /// <summary><c>ticket.created</c>, <c>ticket.updated</c>, <c>change.created</c>, <c>change.updated</c>, <c>approval.created</c>, <c>approval.updated</c>, <c>ci.created</c>, <c>ci.updated</c>.</summary>
    public required string Type { get; init; }

    public required EventSubject Subject { get; init; }

    public required string SessionKey { get; init; }

    /// <summary>When the change was written.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>When it was placed in the log (retention counts from here).</summary>
    public DateTimeOffset RecordedAt { get; init; }

    /// <summary>The record as written by the change (its whole new version).</summary>
    public required JsonElement Data { get; init; }

    /// <summary>Stored only: tells log entries from the sequencer's head document.</summary>
    [JsonInclude]
    public string DocType { get; private init; } = DocumentType;
}

/// <summary>The event names, one place.</summary>
public static class EventTypes
{
    public static readonly IReadOnlyList<string> All =
    [
        "ticket.created", "ticket.updated", "change.created", "change.updated",
        "approval.created", "approval.updated", "ci.created", "ci.updated",
    ];

    public static bool IsKnown(string type) => All.Contains(type, StringComparer.Ordinal);
}

/// <summary>
/// An event waiting for its position, stored in the changed record's own partition in the change's transaction
/// (CIs and approvals; tickets carry theirs as a ticket follow-up). Partition key properties of both containers are
/// present: <c>tenantId</c> always, <c>ciId</c> for a CI's partition.
/// </summary>
public sealed record PendingEvent
{
    public const string DocumentType = "pending-event";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string? CiId { get; init; }

    public string DocType => DocumentType;

    /// <summary>When the change happened (the sweep leaves young ones to the writer).</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>Orders the pending events of one partition (the record's revision, or its write instant's ticks).</summary>
    public required long Order { get; init; }

    public required FeedEvent Event { get; init; }

    public static string IdFor(string eventId) => "pending-event-" + eventId;
}
