namespace Itsm.Functions.Tickets;

/// <summary>
/// Merging a duplicate into the ticket it duplicates: the duplicate is closed with resolution
/// "Duplicate" and a duplicate-of link; its requester and watchers become watchers of the survivor.
/// </summary>
public static class TicketMerge
{
    public const string DuplicateResolutionCode = "Duplicate";

    public static RuleOutcome<(Ticket Duplicate, Ticket Survivor)> Merge(Ticket duplicate, Ticket survivor, string actor, DateTimeOffset now)
    {
        if (duplicate.TenantId != survivor.TenantId)
        {
            throw new InvalidOperationException("Tickets of different tenants can never be merged.");
        }

        if (duplicate.Id == survivor.Id)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed("A ticket cannot be merged into itself.");
        }

        if (duplicate.Type != survivor.Type || duplicate.Type is not (TicketType.Incident or TicketType.ServiceRequest))
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed("Only incidents into incidents and requests into requests can be merged.");
        }

        if (!duplicate.IsOpen)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{duplicate.Number} is {duplicate.State} and cannot be merged.");
        }

        if (survivor.State is TicketState.Closed or TicketState.Cancelled)
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{survivor.Number} is {survivor.State}; merge into an open ticket.");
        }

        if (survivor.Links.Any(l => l.Kind == TicketLinkKind.DuplicateOf))
        {
            return RuleOutcome<(Ticket, Ticket)>.NotAllowed($"{survivor.Number} is itself a duplicate; merge into the ticket it duplicates.");
        }

        var closed = duplicate with
        {
            State = TicketState.Closed,
            HoldReason = null,
            Resolution = new Resolution(DuplicateResolutionCode, $"Duplicate of {survivor.Number}.", now, actor),
            Links = [.. duplicate.Links.Where(l => l.TicketId != survivor.Id), new TicketLink(TicketLinkKind.DuplicateOf, survivor.Id, survivor.Number)],
            ClosedAt = now,
            UpdatedAt = now,
        };
        var watchers = survivor.Watchers
            .Concat(duplicate.Watchers)
            .Append(duplicate.Requester.Id)
            .Where(w => w != survivor.Requester.Id)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var merged = survivor with { Watchers = watchers, UpdatedAt = now };
        return RuleOutcome<(Ticket, Ticket)>.Ok((closed, merged));
    }
}
