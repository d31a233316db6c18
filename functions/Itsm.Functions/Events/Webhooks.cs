using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Events;

/// <summary>A tenant's webhook: where to deliver which events, the secret that signs them, and how far it has been fed.</summary>
public sealed record WebhookSubscription
{
    public const string DocumentType = "subscription";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required string Url { get; init; }

    /// <summary>The event types delivered; empty for all.</summary>
    public IReadOnlyList<string> EventTypes { get; init; } = [];

    public string? Description { get; init; }

    /// <summary>Signs deliveries; shown to the admin once, when the subscription is made.</summary>
    public required string Secret { get; init; }

    /// <summary>The last log position turned into deliveries of this subscription (its own cursor on the feed).</summary>
    public long Cursor { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<DeliveryStatus>))]
public enum DeliveryStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>One event for one subscription: the exact body to send, and every attempt's outcome.</summary>
public sealed record WebhookDelivery
{
    public const string DocumentType = "delivery";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required string SubscriptionId { get; init; }

    public required string EventId { get; init; }

    public required string EventType { get; init; }

    public required long Position { get; init; }

    public required string Body { get; init; }

    public required DeliveryStatus Status { get; init; }

    public int Attempts { get; init; }

    /// <summary>When it is due (also a lease: an attempt in progress moves it past its own timeout).</summary>
    public required DateTimeOffset NextAttemptAt { get; init; }

    public DateTimeOffset? LastAttemptAt { get; init; }

    public int? LastStatusCode { get; init; }

    public string? LastError { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public static string IdFor(string subscriptionId, long position) => $"{subscriptionId}-{position:D12}";
}

/// <summary>The <c>webhooks</c> container, partitioned by tenant: subscriptions and their deliveries.</summary>
public sealed class WebhookStore(IDocumentStore store)
{
    public static readonly ContainerDefinition Webhooks = new(
        "webhooks",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("subscriptionId", "$.subscriptionId", FieldType.Text),
            new("status", "$.status", FieldType.Text),
            new("position", "$.position", FieldType.Number),
            new("nextAttemptAt", "$.nextAttemptAt", FieldType.Instant),
            new("createdAt", "$.createdAt", FieldType.Instant),
        ]);

    public IDocumentStore Documents => store;

    public Task<StoredDocument<WebhookSubscription>> CreateAsync(WebhookSubscription subscription, CancellationToken cancellationToken) =>
        store.CreateAsync(Webhooks, new DocumentKey(subscription.TenantId, subscription.Id), subscription, cancellationToken);

    public async Task<StoredDocument<WebhookSubscription>?> ReadAsync(string tenantId, string id, CancellationToken cancellationToken)
    {
        var stored = await store.ReadAsync<WebhookSubscription>(Webhooks, new DocumentKey(tenantId, id), cancellationToken);
        return stored?.Document.DocType == WebhookSubscription.DocumentType ? stored : null;
    }

    public Task<bool> DeleteAsync(string tenantId, string id, CancellationToken cancellationToken) =>
        store.DeleteAsync(Webhooks, new DocumentKey(tenantId, id), null, cancellationToken);

    /// <summary>The subscriptions of a tenant, or of every tenant (the dispatcher) when <paramref name="tenantId"/> is null.</summary>
    public async Task<IReadOnlyList<StoredDocument<WebhookSubscription>>> SubscriptionsAsync(string? tenantId, CancellationToken cancellationToken)
    {
        var all = new List<StoredDocument<WebhookSubscription>>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<WebhookSubscription>(
                Webhooks,
                new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, WebhookSubscription.DocumentType)], new QuerySort("createdAt", false), 500, continuation),
                cancellationToken);
            all.AddRange(page.Items);
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        return all;
    }

    public Task<DocumentPage<WebhookDelivery>> DeliveriesAsync(string tenantId, string subscriptionId, DeliveryStatus? status, int pageSize, string? continuation, CancellationToken cancellationToken, bool newestFirst = true)
    {
        List<QueryFilter> filters =
        [
            new QueryFilter("docType", FilterOperator.Equals, WebhookDelivery.DocumentType),
            new QueryFilter("subscriptionId", FilterOperator.Equals, subscriptionId),
        ];
        if (status is { } s)
        {
            filters.Add(new QueryFilter("status", FilterOperator.Equals, s.ToString()));
        }

        return store.QueryAsync<WebhookDelivery>(Webhooks, new DocumentQuery(tenantId, filters, new QuerySort("position", newestFirst), pageSize, continuation), cancellationToken);
    }

    /// <summary>Deletes finished (succeeded or failed) deliveries made before <paramref name="cutoff"/>, in every tenant; pending ones stay.</summary>
    public async Task<int> PurgeDeliveriesAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (deleted < max)
        {
            var page = await store.QueryAsync<WebhookDelivery>(
                Webhooks,
                new DocumentQuery(
                    null,
                    [
                        new QueryFilter("docType", FilterOperator.Equals, WebhookDelivery.DocumentType),
                        new QueryFilter("status", FilterOperator.In, new[] { nameof(DeliveryStatus.Succeeded), nameof(DeliveryStatus.Failed) }),
                        new QueryFilter("createdAt", FilterOperator.LessThan, cutoff),
                    ],
                    null,
                    Math.Min(500, max - deleted)),
                cancellationToken);
            if (page.Items.Count == 0)
            {
                break;
            }

            foreach (var item in page.Items)
            {
                deleted += await store.DeleteAsync(Webhooks, item.Key, null, cancellationToken) ? 1 : 0;
            }
        }

        return deleted;
    }

    public Task<StoredDocument<WebhookDelivery>?> ReadDeliveryAsync(string tenantId, string id, CancellationToken cancellationToken) =>
        store.ReadAsync<WebhookDelivery>(Webhooks, new DocumentKey(tenantId, id), cancellationToken);

    public Task<StoredDocument<WebhookDelivery>> ReplaceDeliveryAsync(WebhookDelivery delivery, string etag, CancellationToken cancellationToken) =>
        store.ReplaceAsync(Webhooks, new DocumentKey(delivery.TenantId, delivery.Id), delivery, etag, cancellationToken);
}

/// <summary>Exponential backoff between attempts: pure, so its rule is tested without a clock.</summary>
public static class WebhookBackoff
{
    /// <summary>The wait after the <paramref name="attempts"/>-th failed attempt (1-based).</summary>
    public static TimeSpan After(int attempts, ItsmOptions.WebhookSettings settings)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var wait = TimeSpan.FromTicks((long)Math.Min(settings.InitialBackoff.Ticks * factor, settings.MaxBackoff.Ticks));
        return wait < settings.MaxBackoff ? wait : settings.MaxBackoff;
    }

    /// <summary>The delivery after a failed attempt: due again after the backoff, or failed at the limit.</summary>
    public static WebhookDelivery Failed(WebhookDelivery delivery, DateTimeOffset now, int? statusCode, string error, ItsmOptions.WebhookSettings settings)
    {
        var attempts = delivery.Attempts + 1;
        return delivery with
        {
            Attempts = attempts,
            Status = attempts >= settings.MaxAttempts ? DeliveryStatus.Failed : DeliveryStatus.Pending,
            NextAttemptAt = now + After(attempts, settings),
            LastAttemptAt = now,
            LastStatusCode = statusCode,
            LastError = error,
        };
    }
}

/// <summary>
/// Feeds every subscription from the event log with its own cursor and delivers what is due, each subscription on its
/// own (at most <c>MaxConcurrentSubscriptions</c> at once, every request bounded by <c>Timeout</c>), so a subscriber that
/// is down or slow delays only its own deliveries. A subscription's deliveries go out in log order; a round for it stops
/// at its first failure (the rest stay due). Deliveries are leased by ETag before sending, so two dispatchers never send
/// the same delivery at once.
/// </summary>
public sealed class WebhookDispatcher(WebhookStore webhooks, EventLog log, ItsmOptions options, TimeProvider time, ILogger<WebhookDispatcher> logger) : IDisposable
{
    private const int FeedPage = 200;
    private const int DeliveriesPerRound = 50;

    private readonly ItsmOptions.WebhookSettings _settings = options.Events.Webhooks;
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = (context, ct) => WebhookTargets.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, options.Events.Webhooks.AllowLocalTargets, ct),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>One round over every subscription of every tenant; returns the deliveries that succeeded.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var subscriptions = await webhooks.SubscriptionsAsync(null, cancellationToken);
        var succeeded = 0;
        await Parallel.ForEachAsync(
            subscriptions,
            new ParallelOptions { MaxDegreeOfParallelism = _settings.MaxConcurrentSubscriptions, CancellationToken = cancellationToken },
            async (subscription, ct) =>
            {
                try
                {
                    await FeedAsync(subscription, ct);
                    Interlocked.Add(ref succeeded, await DeliverDueAsync(subscription.Document, ct));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Webhook {Subscription} of tenant {Tenant}: the round stopped; the next one resumes.", subscription.Document.Id, subscription.Document.TenantId);
                }
            });
        return succeeded;
    }

    /// <summary>Turns the log's new events into deliveries, then moves the cursor (a crash between the two repeats no delivery: ids are per position).</summary>
    private async Task FeedAsync(StoredDocument<WebhookSubscription> stored, CancellationToken cancellationToken)
    {
        var subscription = stored.Document;
        var etag = stored.ETag;
        while (true)
        {
            var page = await log.ReadAsync(subscription.TenantId, subscription.Cursor, FeedPage, cancellationToken, subscription.EventTypes);
            if (page.Items.Count == 0)
            {
                return;
            }

            var now = time.GetUtcNow();
            foreach (var feedEvent in page.Items)
            {
                var delivery = new WebhookDelivery
                {
                    Id = WebhookDelivery.IdFor(subscription.Id, feedEvent.Position),
                    TenantId = subscription.TenantId,
                    SubscriptionId = subscription.Id,
                    EventId = feedEvent.Id,
                    EventType = feedEvent.Type,
                    Position = feedEvent.Position,
                    Body = JsonSerializer.Serialize(EventFunctions.View(feedEvent), HttpResults.Json),
                    Status = DeliveryStatus.Pending,
                    NextAttemptAt = now,
                    CreatedAt = now,
                };
                try
                {
                    await webhooks.Documents.CreateAsync(WebhookStore.Webhooks, new DocumentKey(delivery.TenantId, delivery.Id), delivery, cancellationToken);
                }
                catch (DocumentConflictException)
                {
                    // Made by an earlier round that stopped before moving the cursor.
                }
            }

            subscription = subscription with { Cursor = page.Next };
            try
            {
                etag = (await webhooks.Documents.ReplaceAsync(WebhookStore.Webhooks, new DocumentKey(subscription.TenantId, subscription.Id), subscription, etag, cancellationToken)).ETag;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentNotFoundException)
            {
                return; // Another round moved it, or the subscription was deleted.
            }

            if (!page.HasMore)
            {
                return;
            }
        }
    }

    private async Task<int> DeliverDueAsync(WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        var page = await webhooks.DeliveriesAsync(subscription.TenantId, subscription.Id, DeliveryStatus.Pending, DeliveriesPerRound, null, cancellationToken, newestFirst: false);
        var succeeded = 0;
        foreach (var stored in page.Items)
        {
            var now = time.GetUtcNow();
            if (stored.Document.NextAttemptAt > now)
            {
                // Not yet due: later ones wait too, so one subscription's deliveries keep the log's order.
                break;
            }

            // The lease: no other dispatcher takes it until this attempt's own timeout has passed twice.
            StoredDocument<WebhookDelivery> leased;
            try
            {
                leased = await webhooks.ReplaceDeliveryAsync(stored.Document with { NextAttemptAt = now + (_settings.Timeout * 2) }, stored.ETag, cancellationToken);
            }
            catch (PreconditionFailedException)
            {
                break;
            }

            var (ok, status, error) = await SendAsync(subscription, leased.Document, cancellationToken);
            var after = time.GetUtcNow();
            var outcome = ok
                ? leased.Document with { Status = DeliveryStatus.Succeeded, Attempts = leased.Document.Attempts + 1, LastAttemptAt = after, LastStatusCode = status, LastError = null }
                : WebhookBackoff.Failed(leased.Document, after, status, error!, _settings);
            await webhooks.ReplaceDeliveryAsync(outcome, leased.ETag, cancellationToken);
            if (!ok)
            {
                logger.LogInformation("Webhook {Subscription} delivery {Delivery} failed (attempt {Attempt}): {Error}.", subscription.Id, outcome.Id, outcome.Attempts, error);
                break;
            }

            succeeded++;
        }

        return succeeded;
    }

    private async Task<(bool Ok, int? Status, string? Error)> SendAsync(WebhookSubscription subscription, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Body);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, subscription.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(WebhookSignature.IdHeader, delivery.Id);
        request.Headers.TryAddWithoutValidation(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, WebhookSignature.Sign(subscription.Secret, timestamp, body));
        request.Headers.TryAddWithoutValidation(WebhookSignature.EventTypeHeader, delivery.EventType);
        request.Headers.UserAgent.ParseAdd($"ItsmFunctions-Webhooks/{ItsmApp.Version}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 300 ? (true, code, null) : (false, code, $"HTTP {code}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, null, $"no answer within {_settings.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException ex)
        {
            return (false, null, ex.Message);
        }
    }

    public void Dispose() => _http.Dispose();
}
