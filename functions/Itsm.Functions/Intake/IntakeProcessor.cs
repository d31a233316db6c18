using Microsoft.DurableTask.Client;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Intake;

/// <summary>What became of an intake message.</summary>
public sealed record IntakeOutcome(IntakeOutcomeKind Kind, string? TicketId, string? TicketNumber, string Detail, bool Duplicate = false);

public enum IntakeOutcomeKind
{
    TicketCreated,
    Commented,
    Resolved,
    Ignored,
    Rejected,
}

/// <summary>
/// Turns a normalised intake message into a ticket or a comment, exactly once per (source tenant, channel,
/// external id): the ticket id and comment id are derived from that triple, so a redelivery finds its earlier
/// write. Throws <see cref="InvalidIntakeMessageException"/> for messages that will never succeed.
/// </summary>
public sealed class IntakeProcessor(
    TicketService tickets,
    TicketStore ticketStore,
    IntakeThreads threads,
    NotificationOutbox outbox,
    Microsoft.Extensions.Options.IOptions<IntakeOptions> options)
{
    public const string MonitoringChannel = "monitor";

    /// <summary>The configured source of <paramref name="message"/>; a message from no known source can never succeed.</summary>
    public IntakeSource SourceOf(IntakeMessage message)
    {
        var source = options.Value.Find(message.Source)
            ?? throw new InvalidIntakeMessageException($"No intake source '{message.Source}' is configured (Itsm:Intake:Sources), so its tenant is unknown.");
        return string.IsNullOrWhiteSpace(source.TenantId)
            ? throw new InvalidIntakeMessageException($"Intake source '{source.Name}' has no TenantId.")
            : source;
    }

    public async Task<IntakeOutcome> ProcessAsync(IntakeMessage message, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        var source = SourceOf(message);

        if (message.Channel == MonitoringChannel)
        {
            return await AlertAsync(message, source, durable, cancellationToken);
        }

        if (MailThreading.IgnoreReason(message, source) is { } ignore)
        {
            return new IntakeOutcome(IntakeOutcomeKind.Ignored, null, null, ignore);
        }

        var tenant = source.TenantId;
        var sender = SenderPrincipal(tenant, message);
        var key = $"{tenant}|{message.Channel}|{message.ExternalId}";
        var text = MailText.BodyOf(message);
        var ticketId = IntakeIds.Hash("ticket|" + key);
        if (await ticketStore.ReadAsync(tenant, ticketId, cancellationToken) is { } earlier)
        {
            // An earlier delivery raised the ticket (its thread keys now point at it, so threading must not run again).
            // It may have stopped before its notifications were stored; the outbox keeps one per event and recipient.
            await outbox.PublishAsync(TicketNotifications.Created(earlier.Document), cancellationToken);
            return new IntakeOutcome(IntakeOutcomeKind.TicketCreated, earlier.Document.Id, earlier.Document.Number, $"raised {earlier.Document.Number}", Duplicate: true);
        }

        var target = await FindTicketAsync(tenant, message, cancellationToken);
        if (target is not null)
        {
            var comment = MailText.Limit(MailText.TrimReply(text), 10_000);
            var written = await tickets.CommentFromSystemAsync(sender, target.Id, IntakeIds.Hash("comment|" + key), comment.Length == 0 ? "(empty reply)" : comment, CommentKind.Public, message.Channel, durable, cancellationToken);
            if (written is { Succeeded: true, Ticket: { } stored })
            {
                await RecordThreadAsync(tenant, message, stored.Document.Id, cancellationToken);
                return new IntakeOutcome(IntakeOutcomeKind.Commented, stored.Document.Id, stored.Document.Number, $"comment on {stored.Document.Number}", written.Duplicate);
            }

            if (written is { Errors: { } errors })
            {
                throw new InvalidIntakeMessageException("The comment was refused: " + Describe(errors));
            }
        }

        if (!source.IsKnownSender(message.Sender) && source.UnknownSenders == UnknownSenderPolicy.Reject)
        {
            await outbox.PublishAsync(
                new NotificationEvent(NotificationEventKinds.IntakeRejected, tenant, "intake-rejected:" + IntakeIds.Hash(key))
                {
                    Title = MailThreading.Title(message.Subject),
                    Recipients = [new NotificationRecipient(message.Sender, message.Sender, message.SenderName)],
                    Channels = [NotificationChannel.Mail],
                },
                cancellationToken);
            return new IntakeOutcome(IntakeOutcomeKind.Rejected, null, null, "unknown sender: a polite reply is in the outbox");
        }

        var description = MailText.Limit(text, 10_000);
        if (message.Attachments.Count > 0)
        {
            description = MailText.Limit(description + "\n\nAttachments: " + string.Join(", ", message.Attachments.Select(a => $"{a.Name} ({a.Size} bytes)")), 10_000);
        }

        var input = new SystemTicketInput(TicketType.Incident, MailThreading.Title(message.Subject), description.Length == 0 ? null : description);
        var created = await tickets.CreateFromSystemAsync(sender, ticketId, input, message.Channel, durable, cancellationToken);
        if (created.Errors is { } refused)
        {
            throw new InvalidIntakeMessageException("The ticket was refused: " + Describe(refused));
        }

        var ticket = created.Ticket!.Document;
        await RecordThreadAsync(tenant, message, ticket.Id, cancellationToken);
        return new IntakeOutcome(IntakeOutcomeKind.TicketCreated, ticket.Id, ticket.Number, $"raised {ticket.Number}", created.Duplicate);
    }

    /// <summary>
    /// A fired alert opens one incident per alert key (rule and resource) while that incident is open, and notes
    /// repeats on it; a resolved alert adds a note and, when the source says so, resolves the incident.
    /// </summary>
    private async Task<IntakeOutcome> AlertAsync(IntakeMessage message, IntakeSource source, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(message.CorrelationKey))
        {
            throw new InvalidIntakeMessageException("A monitoring message needs 'correlationKey' (alert rule and resource).");
        }

        var tenant = source.TenantId;
        var monitor = new CallerPrincipal(tenant, "system:monitoring", "Monitoring", null, new HashSet<string> { AppRoles.Agent });
        var key = $"{tenant}|{message.Channel}|{message.ExternalId}";
        var threadKey = IntakeThreads.AlertKey(message.CorrelationKey);
        if (await ticketStore.ReadAsync(tenant, IntakeIds.Hash("ticket|" + key), cancellationToken) is { } raised)
        {
            await threads.RecordAsync(tenant, threadKey, raised.Document.Id, cancellationToken);
            return new IntakeOutcome(IntakeOutcomeKind.TicketCreated, raised.Document.Id, raised.Document.Number, $"raised {raised.Document.Number}", Duplicate: true);
        }

        var ticketId = await threads.FindAsync(tenant, threadKey, cancellationToken);
        var open = ticketId is null ? null : await ticketStore.ReadAsync(tenant, ticketId, cancellationToken);
        var text = MailText.Limit(MailText.BodyOf(message), 10_000);
        if (open is not null && (open.Document.IsOpen || message.Resolved))
        {
            var note = (message.Resolved ? "Alert resolved: " : "Alert fired again: ") + message.Subject + (text.Length > 0 ? "\n\n" + text : "");
            var noted = await tickets.CommentFromSystemAsync(monitor, open.Document.Id, IntakeIds.Hash("comment|" + key), MailText.Limit(note, 10_000), CommentKind.WorkNote, message.Channel, durable, cancellationToken);
            var ticket = noted?.Ticket?.Document ?? open.Document;
            if (message.Resolved && source.ResolveOnAlertResolved && ticket.IsOpen)
            {
                var resolved = await tickets.TransitionFromSystemAsync(
                    monitor, ticket.Id, new TransitionRequest("resolve", ResolutionCode: "resolved-by-monitoring", ResolutionNotes: "The alert resolved: " + message.Subject), message.Channel, durable, cancellationToken);
                if (resolved is { Succeeded: true, Ticket: { } done })
                {
                    return new IntakeOutcome(IntakeOutcomeKind.Resolved, done.Document.Id, done.Document.Number, $"resolved {done.Document.Number}");
                }
            }

            return new IntakeOutcome(IntakeOutcomeKind.Commented, ticket.Id, ticket.Number, $"alert note on {ticket.Number}", noted?.Duplicate ?? false);
        }

        if (message.Resolved)
        {
            return new IntakeOutcome(IntakeOutcomeKind.Ignored, null, null, "a resolved alert without an open incident");
        }

        var input = new SystemTicketInput(
            TicketType.Incident,
            MailThreading.Title(message.Subject),
            text.Length == 0 ? null : text,
            Impact: message.Impact,
            Urgency: message.Urgency,
            Requester: new PersonRef("system:monitoring", "Monitoring"),
            Category: "monitoring",
            Tags: ["alert"]);
        var created = await tickets.CreateFromSystemAsync(monitor, IntakeIds.Hash("ticket|" + key), input, message.Channel, durable, cancellationToken);
        if (created.Errors is { } refused)
        {
            throw new InvalidIntakeMessageException("The incident was refused: " + Describe(refused));
        }

        var incident = created.Ticket!.Document;
        await threads.RecordAsync(tenant, threadKey, incident.Id, cancellationToken);
        return new IntakeOutcome(IntakeOutcomeKind.TicketCreated, incident.Id, incident.Number, $"raised {incident.Number}", created.Duplicate);
    }

    /// <summary>The open ticket a message continues: an explicit reference, the subject tag, replied-to message ids, then the conversation.</summary>
    private async Task<Ticket?> FindTicketAsync(string tenant, IntakeMessage message, CancellationToken cancellationToken)
    {
        if (message.TicketReference is { Length: > 0 } reference
            && (await ByNumberAsync(tenant, reference, cancellationToken) ?? await ByIdAsync(tenant, reference, cancellationToken)) is { } referenced)
        {
            return Continuable(referenced);
        }

        // A forward is someone bringing a conversation to the desk: a new ticket, even with our tag in its subject.
        if (MailThreading.IsForward(message.Subject))
        {
            return null;
        }

        if (MailThreading.TicketTag(message.Subject) is { } tag && await ByNumberAsync(tenant, tag, cancellationToken) is { } tagged)
        {
            return Continuable(tagged);
        }

        foreach (var id in MailThreading.RepliedTo(message))
        {
            if (await threads.FindAsync(tenant, IntakeThreads.MessageKey(id), cancellationToken) is { } ticketId
                && await ByIdAsync(tenant, ticketId, cancellationToken) is { } replied)
            {
                return Continuable(replied);
            }
        }

        if (message.ConversationId is { Length: > 0 } conversation
            && await threads.FindAsync(tenant, IntakeThreads.ConversationKey(conversation), cancellationToken) is { } conversationTicket
            && await ByIdAsync(tenant, conversationTicket, cancellationToken) is { } inConversation)
        {
            return Continuable(inConversation);
        }

        return null;
    }

    private static Ticket? Continuable(Ticket ticket) => ticket.State is TicketState.Closed or TicketState.Cancelled ? null : ticket;

    private async Task<Ticket?> ByIdAsync(string tenant, string id, CancellationToken cancellationToken) =>
        id.Length is 0 or > 64 || id.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal)
            ? null
            : (await ticketStore.ReadAsync(tenant, id, cancellationToken))?.Document;

    private async Task<Ticket?> ByNumberAsync(string tenant, string number, CancellationToken cancellationToken)
    {
        if (!TicketNumbering.TryParse(number, out _, out _))
        {
            return null;
        }

        var page = await ticketStore.QueryTicketsAsync(tenant, [new QueryFilter("number", FilterOperator.Equals, number.ToUpperInvariant())], new QuerySort("number", false), 1, null, cancellationToken);
        return page.Items.Count > 0 ? page.Items[0].Document : null;
    }

    private async Task RecordThreadAsync(string tenant, IntakeMessage message, string ticketId, CancellationToken cancellationToken)
    {
        if (message.InternetMessageId is { Length: > 0 } messageId)
        {
            await threads.RecordAsync(tenant, IntakeThreads.MessageKey(messageId), ticketId, cancellationToken);
        }

        if (message.ConversationId is { Length: > 0 } conversation && await threads.FindAsync(tenant, IntakeThreads.ConversationKey(conversation), cancellationToken) is null)
        {
            await threads.RecordAsync(tenant, IntakeThreads.ConversationKey(conversation), ticketId, cancellationToken);
        }
    }

    /// <summary>The sender as a requester of the source's tenant, identified by mail address (or Teams user id).</summary>
    private static CallerPrincipal SenderPrincipal(string tenant, IntakeMessage message)
    {
        var address = message.Sender.Trim().ToLowerInvariant();
        return new CallerPrincipal(tenant, address, message.SenderName ?? address, address.Contains('@', StringComparison.Ordinal) ? address : null, new HashSet<string>());
    }

    private static string Describe(IReadOnlyDictionary<string, string[]> errors) =>
        string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
}
