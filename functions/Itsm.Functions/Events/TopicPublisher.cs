using System.Text.Json;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Events;

/// <summary>One event as a topic message: what the SDK boundary sends.</summary>
/// <param name="MessageId">The event id (Service Bus duplicate detection drops a resend within its window).</param>
/// <param name="SessionId">The ticket the event belongs to, so a session-enabled subscription gets each ticket's events in order.</param>
/// <param name="Subject">The event type.</param>
public sealed record TopicMessage(string MessageId, string SessionId, string Subject, string Body, string TenantId, long Position);

/// <summary>The SDK boundary: sends one ordered batch to the topic, all or nothing from the caller's point of view.</summary>
public interface IEventTopicSender
{
    Task SendAsync(IReadOnlyList<TopicMessage> messages, CancellationToken cancellationToken);
}

/// <summary>The real sender: <see cref="ServiceBusSender"/> on the topic, signed in with the managed identity.</summary>
public sealed class ServiceBusTopicSender : IEventTopicSender, IAsyncDisposable
{
    private readonly ServiceBusClient _client;
    private readonly ServiceBusSender _sender;

    public ServiceBusTopicSender(ItsmOptions.ServiceBusSettings settings)
    {
        var credential = string.IsNullOrEmpty(settings.ManagedIdentityClientId)
            ? (Azure.Core.TokenCredential)new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(settings.ManagedIdentityClientId));
        _client = new ServiceBusClient(settings.FullyQualifiedNamespace, credential);
        _sender = _client.CreateSender(settings.Topic);
    }

    public static ServiceBusMessage ToMessage(TopicMessage message)
    {
        var sbMessage = new ServiceBusMessage(BinaryData.FromString(message.Body))
        {
            MessageId = message.MessageId,
            SessionId = message.SessionId,
            Subject = message.Subject,
            ContentType = "application/json",
        };
        sbMessage.ApplicationProperties["tenantId"] = message.TenantId;
        sbMessage.ApplicationProperties["position"] = message.Position;
        sbMessage.ApplicationProperties["eventType"] = message.Subject;
        return sbMessage;
    }

    public async Task SendAsync(IReadOnlyList<TopicMessage> messages, CancellationToken cancellationToken)
    {
        // One batch per call while it fits (a batch is one transfer); the rest in further batches, in order.
        var index = 0;
        while (index < messages.Count)
        {
            using var batch = await _sender.CreateMessageBatchAsync(cancellationToken);
            while (index < messages.Count && batch.TryAddMessage(ToMessage(messages[index])))
            {
                index++;
            }

            if (batch.Count == 0)
            {
                throw new InvalidOperationException($"Event {messages[index].MessageId} is larger than a Service Bus message may be.");
            }

            await _sender.SendMessagesAsync(batch, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _sender.DisposeAsync();
        await _client.DisposeAsync();
    }
}

/// <summary>The publisher's own cursor on a tenant's log (the last position sent to the topic).</summary>
public sealed record TopicCursor(string Id, string TenantId, long Position)
{
    public const string CursorId = "topic-cursor";

    public string DocType => "topic-cursor";
}

/// <summary>
/// Publishes every tenant's feed to the Service Bus topic in log order, from its own cursor per tenant: the cursor moves
/// only after the topic accepted the events, so an outage of Service Bus (or a crash) loses nothing; after one, the
/// unsent events go out again (at least once: the message id is the event id, for the topic's duplicate detection).
/// </summary>
public sealed class TopicPublisher(IDocumentStore store, EventLog log, IEventTopicSender sender, ILogger<TopicPublisher> logger)
{
    public const int BatchSize = 100;

    /// <summary>One round over every tenant with a log; returns how many events were published.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var published = 0;
        string? continuation = null;
        do
        {
            var heads = await store.QueryAsync<EventLogHead>(
                EventLog.Events,
                new DocumentQuery(null, [new QueryFilter("docType", FilterOperator.Equals, "head")], null, 500, continuation),
                cancellationToken);
            foreach (var head in heads.Items)
            {
                try
                {
                    published += await PublishTenantAsync(head.Document.TenantId, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Publishing the events of tenant {Tenant} to Service Bus failed; the next round resumes from its cursor.", head.Document.TenantId);
                }
            }

            continuation = heads.ContinuationToken;
        }
        while (continuation is not null);

        return published;
    }

    public async Task<int> PublishTenantAsync(string tenantId, CancellationToken cancellationToken)
    {
        var key = new DocumentKey(tenantId, TopicCursor.CursorId);
        var published = 0;
        while (true)
        {
            var cursor = await store.ReadAsync<TopicCursor>(EventLog.Events, key, cancellationToken);
            var after = cursor?.Document.Position ?? 0;
            var page = await log.ReadAsync(tenantId, after, BatchSize, cancellationToken);
            if (page.Items.Count == 0)
            {
                return published;
            }

            await sender.SendAsync(page.Items.Select(ToMessage).ToArray(), cancellationToken);
            var moved = new TopicCursor(TopicCursor.CursorId, tenantId, page.Next);
            if (cursor is null)
            {
                await store.CreateAsync(EventLog.Events, key, moved, cancellationToken);
            }
            else
            {
                await store.ReplaceAsync(EventLog.Events, key, moved, cursor.ETag, cancellationToken);
            }

            published += page.Items.Count;
            if (!page.HasMore)
            {
                return published;
            }
        }
    }

    public static TopicMessage ToMessage(FeedEvent e) =>
        new(e.Id, e.SessionKey, e.Type, JsonSerializer.Serialize(EventFunctions.View(e), HttpResults.Json), e.TenantId, e.Position);
}

/// <summary>No topic configured: nothing is published (standalone, tests, deployments without Service Bus).</summary>
public sealed class NoTopicSender : IEventTopicSender
{
    public Task SendAsync(IReadOnlyList<TopicMessage> messages, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("No Service Bus topic is configured (Itsm:Events:ServiceBus:FullyQualifiedNamespace).");
}
