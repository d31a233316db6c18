using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Events;

/// <summary>The tenant's webhooks under <c>/api/webhooks</c> (admins), and the dispatcher's timer.</summary>
public sealed class WebhookFunctions(HttpEndpoint http, WebhookDispatcher dispatcher, ILogger<WebhookFunctions> logger)
{
    public const int MaxSubscriptionsPerTenant = 50;

    [Function("Events_WebhookCreate")]
    [ApiDoc("Subscribe a URL to the tenant's events: {url (https, public), eventTypes?: [...], description?}. The answer holds the signing secret, shown this once (admins).")]
    public Task<IResult> WebhooksCreate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks")] HttpRequest req) =>
        http.ApiAsync(req, CreateAsync);

    [Function("Events_WebhookList")]
    [ApiDoc("The tenant's webhooks, without their secrets (admins).")]
    public Task<IResult> WebhooksList([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks")] HttpRequest req) =>
        http.ApiAsync(req, ListAsync);

    [Function("Events_WebhookGet")]
    [ApiDoc("One webhook, without its secret, with its cursor on the feed (admins).")]
    public Task<IResult> WebhooksGet([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks/{id}")] HttpRequest req) =>
        http.ApiAsync(req, GetAsync);

    [Function("Events_WebhookDelete")]
    [ApiDoc("Stop a webhook: nothing more is delivered to it (admins).")]
    public Task<IResult> WebhooksDelete([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "webhooks/{id}")] HttpRequest req) =>
        http.ApiAsync(req, DeleteAsync);

    [Function("Events_WebhookDeliveries")]
    [ApiDoc("A webhook's deliveries, newest first: ?status=Pending|Succeeded|Failed, ?pageSize, ?continuation; attempts, last status and error of each (admins).")]
    public Task<IResult> WebhooksDeliveries([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "webhooks/{id}/deliveries")] HttpRequest req) =>
        http.ApiAsync(req, DeliveriesAsync);

    [Function("Events_WebhookRedeliver")]
    [ApiDoc("Send a delivery again (failed or not): it is due at once, with a fresh set of attempts (admins).")]
    public Task<IResult> WebhooksRedeliver([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/{id}/deliveries/{deliveryId}/redeliver")] HttpRequest req) =>
        http.ApiAsync(req, RedeliverAsync);

    /// <summary>Feeds every subscription from the log and delivers what is due.</summary>
    [Function("Events_WebhookDispatch")]
    public async Task WebhooksDispatch([TimerTrigger("*/10 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var delivered = await dispatcher.RunAsync(cancellationToken);
        if (delivered > 0)
        {
            logger.LogInformation("Delivered {Count} webhook events.", delivered);
        }
    }

    private static object View(WebhookSubscription s) => new
    {
        id = s.Id,
        url = s.Url,
        eventTypes = s.EventTypes,
        description = s.Description,
        cursor = s.Cursor.ToString(System.Globalization.CultureInfo.InvariantCulture),
        createdAt = s.CreatedAt,
        createdBy = s.CreatedBy,
    };

    private static object DeliveryView(WebhookDelivery d) => new
    {
        id = d.Id,
        eventId = d.EventId,
        eventType = d.EventType,
        position = d.Position,
        status = d.Status,
        attempts = d.Attempts,
        nextAttemptAt = d.Status == DeliveryStatus.Pending ? d.NextAttemptAt : (DateTimeOffset?)null,
        lastAttemptAt = d.LastAttemptAt,
        lastStatusCode = d.LastStatusCode,
        lastError = d.LastError,
        createdAt = d.CreatedAt,
    };

    private static HttpResponseOutput? AdminsOnly(ApiContext api) =>
        api.Caller.IsAdmin ? null : ApiFunctions.Forbidden("Webhooks are managed by admins.");

    private static async Task<HttpResponseOutput> CreateAsync(ApiContext api)
    {
        if (AdminsOnly(api) is { } refused)
        {
            return refused;
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var url = body.String("url", required: true, maxLength: 2000);
        var types = body.StringList("eventTypes", maxItems: EventTypes.All.Count) ?? [];
        var description = body.String("description", maxLength: 200);
        body.RejectUnknown();
        if (types.FirstOrDefault(t => !EventTypes.IsKnown(t)) is { } unknown)
        {
            body.AddError("eventTypes", $"'{unknown}' is not an event type; use {string.Join(", ", EventTypes.All)} (or none for all).");
        }

        var options = api.Services.GetRequiredService<ItsmOptions>();
        if (url is not null && await WebhookTargets.RefusalAsync(url, options.Events.Webhooks.AllowLocalTargets, api.CancellationToken) is { } refusal)
        {
            body.AddError("url", refusal);
        }

        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var store = api.Services.GetRequiredService<WebhookStore>();
        if ((await store.SubscriptionsAsync(api.Caller.TenantId, api.CancellationToken)).Count >= MaxSubscriptionsPerTenant)
        {
            return HttpResults.Problem(409, "Too many webhooks.", $"A tenant has at most {MaxSubscriptionsPerTenant} webhooks; delete one first.");
        }

        // A new subscription starts at the feed's head: it receives what happens from now on (the feed has the past).
        var head = await api.Services.GetRequiredService<EventLog>().HeadAsync(api.Caller.TenantId, api.CancellationToken);
        var subscription = new WebhookSubscription
        {
            Id = Guid.NewGuid().ToString("N"),
            TenantId = api.Caller.TenantId,
            Url = url!,
            EventTypes = types.Distinct(StringComparer.Ordinal).ToArray(),
            Description = description,
            Secret = WebhookSignature.NewSecret(),
            Cursor = head,
            CreatedAt = api.Services.GetRequiredService<TimeProvider>().GetUtcNow(),
            CreatedBy = api.Caller.UserId,
        };
        await store.CreateAsync(subscription, api.CancellationToken);
        return HttpResults.JsonBody(
            201,
            new { subscription = View(subscription), secret = subscription.Secret },
            new Dictionary<string, string> { ["Location"] = $"/api/webhooks/{subscription.Id}" });
    }

    private static async Task<HttpResponseOutput> ListAsync(ApiContext api) =>
        AdminsOnly(api) ?? HttpResults.Ok(new
        {
            items = (await api.Services.GetRequiredService<WebhookStore>().SubscriptionsAsync(api.Caller.TenantId, api.CancellationToken)).Select(s => View(s.Document)).ToArray(),
        });

    private static async Task<(WebhookSubscription? Subscription, HttpResponseOutput? Refusal)> FindAsync(ApiContext api)
    {
        if (AdminsOnly(api) is { } refused)
        {
            return (null, refused);
        }

        var id = api.Request.RouteValue("id") ?? "";
        var found = IsId(id) ? await api.Services.GetRequiredService<WebhookStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken) : null;
        return found is null ? (null, ApiFunctions.NotFound($"Webhook '{id}'")) : (found.Document, null);
    }

    private static async Task<HttpResponseOutput> GetAsync(ApiContext api)
    {
        var (subscription, refusal) = await FindAsync(api);
        return refusal ?? HttpResults.Ok(View(subscription!));
    }

    private static async Task<HttpResponseOutput> DeleteAsync(ApiContext api)
    {
        var (subscription, refusal) = await FindAsync(api);
        if (refusal is not null)
        {
            return refusal;
        }

        await api.Services.GetRequiredService<WebhookStore>().DeleteAsync(api.Caller.TenantId, subscription!.Id, api.CancellationToken);
        return HttpResults.NoContent();
    }

    private static async Task<HttpResponseOutput> DeliveriesAsync(ApiContext api)
    {
        var (subscription, refusal) = await FindAsync(api);
        if (refusal is not null)
        {
            return refusal;
        }

        var errors = new Dictionary<string, string[]>();
        DeliveryStatus? status = null;
        if (api.Request.QueryValue("status") is { } text)
        {
            if (Enum.TryParse<DeliveryStatus>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(text, out _))
            {
                status = parsed;
            }
            else
            {
                errors["status"] = ["must be Pending, Succeeded or Failed."];
            }
        }

        var pageSize = ListQueryParameters.PageSize(api.Request.QueryValue("pageSize"), 200, errors);
        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        try
        {
            var page = await api.Services.GetRequiredService<WebhookStore>().DeliveriesAsync(api.Caller.TenantId, subscription!.Id, status, pageSize, api.Request.QueryValue("continuation"), api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => DeliveryView(i.Document)).ToArray(), continuation = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuation"] = ["is not a token this list gave out (or the filters changed)."] });
        }
    }

    private static async Task<HttpResponseOutput> RedeliverAsync(ApiContext api)
    {
        var (subscription, refusal) = await FindAsync(api);
        if (refusal is not null)
        {
            return refusal;
        }

        var deliveryId = api.Request.RouteValue("deliveryId") ?? "";
        var store = api.Services.GetRequiredService<WebhookStore>();
        var stored = IsId(deliveryId) ? await store.ReadDeliveryAsync(api.Caller.TenantId, deliveryId, api.CancellationToken) : null;
        if (stored is null || stored.Document.DocType != WebhookDelivery.DocumentType || stored.Document.SubscriptionId != subscription!.Id)
        {
            return ApiFunctions.NotFound($"Delivery '{deliveryId}'");
        }

        var now = api.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        try
        {
            var again = await store.ReplaceDeliveryAsync(stored.Document with { Status = DeliveryStatus.Pending, Attempts = 0, NextAttemptAt = now }, stored.ETag, api.CancellationToken);
            return HttpResults.JsonBody(202, DeliveryView(again.Document));
        }
        catch (PreconditionFailedException)
        {
            return HttpResults.Problem(409, "The delivery is being sent.", "An attempt is in progress; ask again in a moment.");
        }
    }

    private static bool IsId(string id) => id.Length is > 0 and <= 100 && !id.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal);
}
