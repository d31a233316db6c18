using System.Globalization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Itsm.Functions.Events;

/// <summary>The event feed <c>GET /api/events</c>, the sequencer's sweep and the retention purge.</summary>
public sealed class EventFunctions(HttpEndpoint http, EventSequencer sequencer, EventLog log, TopicPublisher publisher, WebhookStore webhooks, ItsmOptions options, TimeProvider time, ILogger<EventFunctions> logger)
{
    public const int MaxLimit = 500;
    public const int DefaultLimit = 100;

    [Function("Events_List")]
    [ApiDoc("The tenant's event feed, oldest first: ?after={cursor} (a position; 0 or absent from the oldest kept), ?limit (1-500, default 100), ?type (comma-separated event types). Resume with the answer's next (agents and admins).")]
    public Task<IResult> EventsList([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "events")] HttpRequest req) =>
        http.ApiAsync(req, ListAsync);

    /// <summary>Places the events a crash or an outage left pending (CIs and approvals; tickets' ride the follow-up sweep).</summary>
    [Function("Events_Sweep")]
    public async Task EventsSweep([TimerTrigger("*/15 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var done = await sequencer.SweepAsync(cancellationToken);
        if (done > 0)
        {
            logger.LogInformation("Placed {Count} pending events in the feed.", done);
        }
    }

    /// <summary>Deletes events, and finished webhook deliveries, older than <c>Itsm:Events:Retention</c>.</summary>
    [Function("Events_Purge")]
    public async Task EventsPurge([TimerTrigger("0 17 * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - options.Events.Retention;
        var deleted = await log.PurgeAsync(cutoff, 10_000, cancellationToken);
        var deliveries = await webhooks.PurgeDeliveriesAsync(cutoff, 10_000, cancellationToken);
        if (deleted + deliveries > 0)
        {
            logger.LogInformation("Deleted {Count} events and {Deliveries} finished webhook deliveries past the retention.", deleted, deliveries);
        }
    }

    /// <summary>Publishes the feed to the Service Bus topic, when one is configured.</summary>
    [Function("Events_TopicPublish")]
    public async Task EventsTopicPublish([TimerTrigger("*/10 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(options.Events.ServiceBus.FullyQualifiedNamespace))
        {
            return;
        }

        var published = await publisher.RunAsync(cancellationToken);
        if (published > 0)
        {
            logger.LogInformation("Published {Count} events to the Service Bus topic.", published);
        }
    }

    private async Task<HttpResponseOutput> ListAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The event feed is for agents and admins.");
        }

        var errors = new Dictionary<string, string[]>();
        long after = 0;
        if (api.Request.QueryValue("after") is { } afterText
            && !(long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after) && after >= 0))
        {
            errors["after"] = ["must be a cursor from the feed: a whole number, 0 or more."];
        }

        var limit = DefaultLimit;
        if (api.Request.QueryValue("limit") is { } limitText
            && !(int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= MaxLimit))
        {
            errors["limit"] = [$"must be between 1 and {MaxLimit}."];
        }

        string[] types = [];
        if (api.Request.QueryValue("type") is { } typeText)
        {
            types = typeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (types.Length == 0 || types.FirstOrDefault(t => !EventTypes.IsKnown(t)) is not null)
            {
                errors["type"] = [$"must be one or more of {string.Join(", ", EventTypes.All)}, comma-separated."];
            }
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var page = await log.ReadAsync(api.Caller.TenantId, after, limit, api.CancellationToken, types);
        return HttpResults.Ok(new
        {
            items = page.Items.Select(View).ToArray(),
            next = page.Next.ToString(CultureInfo.InvariantCulture),
            hasMore = page.HasMore,
            oldest = page.Oldest?.ToString(CultureInfo.InvariantCulture),
            truncated = page.Truncated(after),
        });
    }

    /// <summary>An event as integrators receive it (feed, webhook body, Service Bus message body).</summary>
    public static object View(FeedEvent e) => new
    {
        id = e.Id,
        position = e.Position,
        type = e.Type,
        tenantId = e.TenantId,
        subject = e.Subject,
        sessionKey = e.SessionKey,
        occurredAt = e.OccurredAt,
        recordedAt = e.RecordedAt,
        data = e.Data,
    };
}

/// <summary>The feature's services.</summary>
public static class EventFeature
{
    public static IServiceCollection AddEvents(this IServiceCollection services)
    {
        services.AddSingleton<EventLog>().AddSingleton<EventSequencer>().AddSingleton<TicketEvents>();
        services.AddSingleton<WebhookStore>().AddSingleton<WebhookDispatcher>().AddSingleton<TopicPublisher>();
        services.TryAddSingleton<IEventTopicSender>(sp =>
            sp.GetRequiredService<ItsmOptions>().Events.ServiceBus is { FullyQualifiedNamespace: { Length: > 0 } } settings
                ? new ServiceBusTopicSender(settings)
                : new NoTopicSender());
        services.AddSingleton<Tickets.ITicketWriteRule>(sp => sp.GetRequiredService<TicketEvents>());
        services.AddSingleton<Tickets.ITicketFollowUpHandler>(sp => sp.GetRequiredService<TicketEvents>());
        return services;
    }
}
