using System.Text.Json;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Tickets;

public sealed record FieldChange(string Field, JsonElement? Old, JsonElement? New);

/// <summary>
/// One append-only audit record: who did what, when, through which channel, and each field's old and new
/// value. Stored in the ticket's partition, written in the same transaction as the change it records.
/// </summary>
public sealed record AuditEvent : ITicketRecord
{
    public const string DocumentType = "audit";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string TicketId { get; init; }

    public string DocType => DocumentType;

    public required DateTimeOffset At { get; init; }

    public required string Actor { get; init; }

    public required string Channel { get; init; }

    public required string Action { get; init; }

    public IReadOnlyList<FieldChange> Changes { get; init; } = [];

    /// <summary>True when the event only concerns internal work (work notes): requesters never see it.</summary>
    public bool Internal { get; init; }

    public int Sequence { get; init; }

    public ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };
}

/// <summary>Computes the field changes between two versions of a ticket, for the audit trail.</summary>
public static class TicketAudit
{
    private static readonly string[] Ignored = ["updatedAt", "docType", "ticketId", "isOpen", "sla", "fulfilment"];

    public static IReadOnlyList<FieldChange> Diff(Ticket? before, Ticket after)
    {
        var old = before is null ? default : JsonSerializer.SerializeToElement(before, HttpResults.Json);
        var now = JsonSerializer.SerializeToElement(after, HttpResults.Json);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var property in now.EnumerateObject())
        {
            names.Add(property.Name);
        }

        if (before is not null)
        {
            foreach (var property in old.EnumerateObject())
            {
                names.Add(property.Name);
            }
        }

        var changes = new List<FieldChange>();
        foreach (var name in names.Where(n => !Ignored.Contains(n)))
        {
            JsonElement? oldValue = before is not null && old.TryGetProperty(name, out var o) ? o.Clone() : null;
            JsonElement? newValue = now.TryGetProperty(name, out var n) ? n.Clone() : null;
            var oldText = oldValue?.GetRawText();
            var newText = newValue?.GetRawText();
            if (oldText != newText)
            {
                changes.Add(new FieldChange(name, oldValue, newValue));
            }
        }

        return changes;
    }
}
