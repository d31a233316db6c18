using System.Text.Json.Serialization;
using Itsm.Functions.Intake;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Notifications;

[JsonConverter(typeof(JsonStringEnumConverter<OutboxState>))]
public enum OutboxState
{
    Pending,
    Sending,
    Sent,
    Failed,
}

/// <summary>One notification to one recipient through one channel, stored before it is sent.</summary>
public sealed record OutboxNotification
{
    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string EventId { get; init; }

    public required string EventKind { get; init; }

    public required NotificationChannel Channel { get; init; }

    public required NotificationRecipient Recipient { get; init; }

    public required string Subject { get; init; }

    public required string Text { get; init; }

    public required string Html { get; init; }

    public string? Link { get; init; }

    public string? TicketId { get; init; }

    public required OutboxState State { get; init; }

    public int Attempts { get; init; }

    /// <summary>When the dispatcher may next take it: now for new ones, the Retry-After or backoff instant, or the end of a send lease.</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? SentAt { get; init; }

    public string? LastError { get; init; }
}

/// <summary>What a channel answered.</summary>
public sealed record SendResult(SendStatus Status, TimeSpan? RetryAfter = null, string? Error = null)
{
    public static readonly SendResult Sent = new(SendStatus.Sent);
}

public enum SendStatus
{
    Sent,

    /// <summary>429 (or 503 with Retry-After): try again no earlier than <see cref="SendResult.RetryAfter"/>.</summary>
    Throttled,
    Transient,
    Permanent,
}

/// <summary>Delivers one notification (Microsoft Graph in production). Not registered without Graph settings: then notifications stay in the outbox.</summary>
public interface INotificationSender
{
    Task<SendResult> SendAsync(OutboxNotification notification, CancellationToken cancellationToken);
}

/// <summary>
/// The notification outbox (<c>notificationOutbox</c>, partition /tenantId). <see cref="PublishAsync"/> is the API
/// other features call: it applies the tenant's rules and templates and stores one notification per
/// (event, channel, recipient) under an id derived from them, so publishing an event again adds nothing.
/// <see cref="DispatchDueAsync"/> sends due notifications, honouring Retry-After on throttling.
/// </summary>
public sealed class NotificationOutbox(
    IDocumentStore store,
    NotificationSettingsStore settings,
    TimeProvider time,
    IServiceProvider services,
    Microsoft.Extensions.Options.IOptions<GraphOptions> graph,
    ILogger<NotificationOutbox> logger)
{
    public const int MaxAttempts = 8;

    public static readonly TimeSpan SendLease = TimeSpan.FromMinutes(5);

    public static readonly ContainerDefinition Container = new(
        "notificationOutbox",
        ["/tenantId"],
        [
            new("state", "$.state", FieldType.Text),
            new("nextAttemptAt", "$.nextAttemptAt", FieldType.Instant),
            new("createdAt", "$.createdAt", FieldType.Instant),
            new("eventKind", "$.eventKind", FieldType.Text),
        ]);

    /// <summary>Stores the notifications of an event; returns those added now (none when the event was published before).</summary>
    public async Task<IReadOnlyList<OutboxNotification>> PublishAsync(NotificationEvent notificationEvent, CancellationToken cancellationToken)
    {
        var tenant = await settings.GetAsync(notificationEvent.TenantId, cancellationToken);
        var now = time.GetUtcNow();
        var targets = new List<(NotificationChannel Channel, NotificationRecipient Recipient)>();
        foreach (var rule in tenant.Rules.Where(r => r.Event == notificationEvent.Kind))
        {
            foreach (var audience in rule.Audiences)
            {
                foreach (var recipient in notificationEvent.Audiences.GetValueOrDefault(audience) ?? [])
                {
                    targets.AddRange(rule.Channels.Select(c => (c, recipient)));
                }
            }
        }

        foreach (var recipient in notificationEvent.Recipients)
        {
            targets.AddRange((notificationEvent.Channels ?? [NotificationChannel.Mail]).Select(c => (c, recipient)));
        }

        // Someone known only by an Entra id (a Teams requester) cannot be mailed: they are told in Teams instead.
        targets = targets
            .Select(t => t.Channel == NotificationChannel.Mail && string.IsNullOrEmpty(t.Recipient.Email) && !t.Recipient.Id.Contains('@', StringComparison.Ordinal) && !t.Recipient.Id.Contains(':', StringComparison.Ordinal)
                ? (NotificationChannel.Teams, t.Recipient)
                : t)
            .ToList();
        var added = new List<OutboxNotification>();
        foreach (var (channel, recipient) in targets.DistinctBy(t => (t.Channel, t.Recipient.Id.ToLowerInvariant())))
        {
            if (recipient.Id == notificationEvent.ActorId || (channel == NotificationChannel.Mail && string.IsNullOrEmpty(recipient.Email))
                || (channel == NotificationChannel.Teams && recipient.Id.Contains('@', StringComparison.Ordinal)))
            {
                continue;
            }

            var template = NotificationRules.TemplateFor(tenant, notificationEvent.Kind, recipient.Culture);
            if (template is null)
            {
                logger.LogWarning("No template for {Kind}; notification to {Recipient} not stored.", notificationEvent.Kind, recipient.Id);
                continue;
            }

            var rendered = NotificationRules.Render(template, NotificationRules.Values(notificationEvent, recipient));
            var notification = new OutboxNotification
            {
                Id = IntakeIds.Hash($"{notificationEvent.EventId}|{channel}|{recipient.Id.ToLowerInvariant()}"),
                TenantId = notificationEvent.TenantId,
                EventId = notificationEvent.EventId,
                EventKind = notificationEvent.Kind,
                Channel = channel,
                Recipient = recipient,
                Subject = rendered.Subject,
                Text = rendered.Text,
                Html = rendered.Html,
                Link = notificationEvent.Link,
                TicketId = notificationEvent.TicketId,
                State = OutboxState.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
            };
            try
            {
                await store.CreateAsync(Container, new DocumentKey(notification.TenantId, notification.Id), notification, cancellationToken);
                added.Add(notification);
            }
            catch (DocumentConflictException)
            {
                // Already stored for this event and recipient: never twice.
            }
        }

        return added;
    }

    public async Task<DocumentPage<OutboxNotification>> ListAsync(string tenantId, OutboxState? state, int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        IReadOnlyList<QueryFilter> filters = state is { } s ? [new QueryFilter("state", FilterOperator.Equals, s.ToString())] : [];
        return await store.QueryAsync<OutboxNotification>(Container, new DocumentQuery(tenantId, filters, new QuerySort("createdAt", Descending: true), pageSize, continuation), cancellationToken);
    }

    /// <summary>
    /// Sends every due notification once: each is first claimed (ETag) for <see cref="SendLease"/>, so two dispatchers
    /// never send the same one. A crash between the channel's acceptance and the "Sent" write can repeat a send after
    /// the lease: the one window where a duplicate is possible. Returns how many were sent.
    /// </summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        // Without Graph settings nothing is sent: notifications stay Pending, visible through the admin API.
        if (!graph.Value.Enabled || services.GetService<INotificationSender>() is not { } sender)
        {
            return 0;
        }

        var sent = 0;
        var now = time.GetUtcNow();
        var due = await store.QueryAsync<OutboxNotification>(
            Container,
            new DocumentQuery(null, [new QueryFilter("state", FilterOperator.In, new[] { nameof(OutboxState.Pending), nameof(OutboxState.Sending) }), new QueryFilter("nextAttemptAt", FilterOperator.LessThanOrEqual, now)], new QuerySort("nextAttemptAt", false), 100),
            cancellationToken);
        foreach (var item in due.Items)
        {
            StoredDocument<OutboxNotification> claimed;
            try
            {
                claimed = await store.ReplaceAsync(Container, item.Key, item.Document with { State = OutboxState.Sending, NextAttemptAt = now + SendLease, Attempts = item.Document.Attempts + 1 }, item.ETag, cancellationToken);
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentNotFoundException)
            {
                continue;
            }

            SendResult result;
            try
            {
                result = await sender.SendAsync(claimed.Document, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                result = new SendResult(SendStatus.Transient, Error: ex.Message);
            }

            var n = claimed.Document;
            var after = time.GetUtcNow();
            var next = result.Status switch
            {
                SendStatus.Sent => n with { State = OutboxState.Sent, SentAt = after, LastError = null },
                SendStatus.Permanent => n with { State = OutboxState.Failed, LastError = result.Error },
                _ when n.Attempts >= MaxAttempts => n with { State = OutboxState.Failed, LastError = result.Error ?? result.Status.ToString() },
                SendStatus.Throttled => n with { State = OutboxState.Pending, NextAttemptAt = after + (result.RetryAfter ?? Backoff(n.Attempts)), LastError = result.Error ?? "throttled" },
                _ => n with { State = OutboxState.Pending, NextAttemptAt = after + Backoff(n.Attempts), LastError = result.Error },
            };
            await store.ReplaceAsync(Container, claimed.Key, next, claimed.ETag, cancellationToken);
            sent += result.Status == SendStatus.Sent ? 1 : 0;
            if (result.Status != SendStatus.Sent)
            {
                logger.LogWarning("Notification {Id} ({Channel}) not sent: {Status} {Error}; next attempt {Next}.", n.Id, n.Channel, result.Status, result.Error, next.NextAttemptAt);
            }
        }

        return sent;
    }

    /// <summary>30 s, 1, 2, 4 ... minutes, at most an hour.</summary>
    public static TimeSpan Backoff(int attempts) =>
        TimeSpan.FromSeconds(Math.Min(3600, 30 * Math.Pow(2, Math.Max(0, attempts - 1))));
}
