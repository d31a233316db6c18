using System.Globalization;
using Itsm.Functions.Intake;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Notifications;

/// <summary>
/// Turns ticket writes into notification events (created, assigned, commented for public comments, resolved, and a
/// change scheduled) and writes each as a follow-up in the write's own transaction, so a crash after the write never
/// loses one. Carrying out a follow-up publishes its event to the outbox (idempotent on the event id).
/// </summary>
public sealed class TicketNotifications(NotificationOutbox outbox) : ITicketFollowUpSource, ITicketFollowUpHandler
{
    public const string FollowUpKind = "notify";

    public string Kind => FollowUpKind;

    public IEnumerable<TicketFollowUp> FollowUpsFor(TicketWriteContext context, Ticket after, IReadOnlyList<ITicketRecord> appended) =>
        EventsFor(context.Before, after, appended, context.Actor.UserId)
            .Select(e => TicketFollowUp.Create(FollowUpKind, "notify:" + IntakeIds.Hash(e.EventId), after, e, after.UpdatedAt));

    public Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken) =>
        outbox.PublishAsync(followUp.Read<NotificationEvent>(), cancellationToken);

    /// <summary>The events of one write: what changed between <paramref name="before"/> (null: created) and <paramref name="after"/>, and the public comments written with it.</summary>
    public static IReadOnlyList<NotificationEvent> EventsFor(Ticket? before, Ticket after, IReadOnlyList<ITicketRecord> appended, string actorId)
    {
        if (before is null)
        {
            return [Created(after) with { ActorId = null }];
        }

        var events = new List<NotificationEvent>();
        if (after.Assignee is { } assignee && assignee.Id != before.Assignee?.Id)
        {
            events.Add(Event(NotificationEventKinds.TicketAssigned, after, $"assigned:{assignee.Id}") with { ActorId = actorId });
        }

        if (after.State == TicketState.Resolved && before.State != TicketState.Resolved)
        {
            events.Add(Event(NotificationEventKinds.TicketResolved, after, "resolved") with { ActorId = actorId });
        }

        if (after is { Type: TicketType.Change, State: TicketState.Scheduled, Change: { PlannedStart: { } start, PlannedEnd: { } end } } && before.State != TicketState.Scheduled)
        {
            events.Add(Event(NotificationEventKinds.ChangeScheduled, after, $"scheduled:{after.Revision}") with
            {
                ActorId = actorId,
                Values = new Dictionary<string, string>
                {
                    ["change.start"] = start.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                    ["change.end"] = end.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
                },
            });
        }

        foreach (var comment in appended.OfType<TicketComment>().Where(c => c.Kind == CommentKind.Public))
        {
            events.Add(Event(NotificationEventKinds.TicketCommented, after, "comment:" + comment.Id) with
            {
                ActorId = comment.Author.Id,
                Values = new Dictionary<string, string> { ["comment.author"] = comment.Author.Name ?? comment.Author.Id, ["comment.body"] = comment.Body },
            });
        }

        return events;
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
