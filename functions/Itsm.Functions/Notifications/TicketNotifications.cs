using System.Globalization;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Notifications;

/// <summary>Turns ticket writes into notification events: created, assigned, commented (public comments), resolved, and a change scheduled.</summary>
public sealed class TicketNotifications(NotificationOutbox outbox, IDocumentStore store) : ITicketChangeObserver
{
    public async Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken)
    {
        var (before, after) = (change.Before, change.After);
        if (before is null)
        {
            await outbox.PublishAsync(Created(after) with { ActorId = null }, cancellationToken);
            return;
        }

        if (after.Assignee is { } assignee && assignee.Id != before.Assignee?.Id)
        {
            await outbox.PublishAsync(Event(NotificationEventKinds.TicketAssigned, after, $"assigned:{assignee.Id}") with { ActorId = change.Actor.UserId }, cancellationToken);
        }

        if (after.State == TicketState.Resolved && before.State != TicketState.Resolved)
        {
            await outbox.PublishAsync(Event(NotificationEventKinds.TicketResolved, after, "resolved") with { ActorId = change.Actor.UserId }, cancellationToken);
        }

        if (after is { Type: TicketType.Change, State: TicketState.Scheduled, Change: { PlannedStart: { } start, PlannedEnd: { } end } } && before.State != TicketState.Scheduled)
        {
            await outbox.PublishAsync(
                Event(NotificationEventKinds.ChangeScheduled, after, $"scheduled:{after.Revision}") with
                {
                    ActorId = change.Actor.UserId,
                    Values = new Dictionary<string, string>
                    {
                        ["change.start"] = start.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                        ["change.end"] = end.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                    },
                },
                cancellationToken);
        }

        var comments = await store.QueryAsync<TicketComment>(
            TicketStore.Tickets,
            new DocumentQuery(DocumentKey.Compose(after.TenantId, after.Id), [new QueryFilter("docType", FilterOperator.Equals, TicketComment.DocumentType), new QueryFilter("sequence", FilterOperator.Equals, after.Revision)], null, 10),
            cancellationToken);
        foreach (var comment in comments.Items.Select(c => c.Document).Where(c => c.Kind == CommentKind.Public))
        {
            await outbox.PublishAsync(
                Event(NotificationEventKinds.TicketCommented, after, "comment:" + comment.Id) with
                {
                    ActorId = comment.Author.Id,
                    Values = new Dictionary<string, string> { ["comment.author"] = comment.Author.Name ?? comment.Author.Id, ["comment.body"] = comment.Body },
                },
                cancellationToken);
        }
    }

    /// <summary>The acknowledgement of a new ticket (to its requester, by the default rules).</summary>
    public static NotificationEvent Created(Ticket ticket) => Event(NotificationEventKinds.TicketCreated, ticket, "created");

    /// <summary>An event about a ticket with its people as audiences; <paramref name="occurrence"/> makes the event id unique.</summary>
    public static NotificationEvent Event(string kind, Ticket ticket, string occurrence) =>
        new(kind, ticket.TenantId, $"{kind}:{ticket.Id}:{occurrence}")
        {
            TicketId = ticket.Id,
            TicketNumber = ticket.Number,
            Title = ticket.Title,
            Link = $"/api/tickets/{ticket.Id}",
            Audiences = new Dictionary<string, IReadOnlyList<NotificationRecipient>>
            {
                [NotificationAudiences.Requester] = [Person(ticket.Requester)],
                [NotificationAudiences.Assignee] = ticket.Assignee is { } a ? [Person(a)] : [],
                [NotificationAudiences.Watchers] = ticket.Watchers.Select(w => new NotificationRecipient(w, w.Contains('@', StringComparison.Ordinal) ? w : null)).ToArray(),
            },
        };

    private static NotificationRecipient Person(PersonRef person) => new(person.Id, person.Email, person.Name);
}
