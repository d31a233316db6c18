using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Notifications;
using Itsm.Functions.Storage;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Itsm.Functions.Intake;

/// <summary>
/// The <c>intake</c> Storage queue and the webhooks that feed it. Each message is recorded in the inbox, then becomes a
/// ticket or a comment exactly once per (channel, external id). A message that can never succeed (not JSON, not a
/// valid intake message, a mail that no longer exists) goes at once to <c>intake-poison</c> and nothing is written;
/// anything else that fails is retried by the queue and, after five dequeues, poisoned by the host.
/// </summary>
public sealed class IntakeFunctions(HttpEndpoint http, IServiceProvider services, ILogger<IntakeFunctions> logger)
{
    public const string QueueName = "intake";
    public const string PoisonQueueName = QueueName + "-poison";

    /// <summary>The connection of the intake queue: the app's own Storage account (identity-based in Azure).</summary>
    public const string Connection = "AzureWebJobsStorage";

    [Function("Intake")]
    public async Task<IntakeOutcomeOutput> Intake([QueueTrigger(QueueName, Connection = Connection)] QueueMessage message, [DurableClient] DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var body = message.Body.ToString();
        IntakeMessage intake;
        try
        {
            intake = await ReadAsync(body, cancellationToken);
            services.GetRequiredService<IntakeProcessor>().SourceOf(intake);
        }
        catch (InvalidIntakeMessageException ex)
        {
            return Poison(message, ex.Message);
        }

        var stored = await services.GetRequiredService<IntakeInbox>().StoreAsync(intake, cancellationToken);
        if (stored)
        {
            logger.LogInformation("Stored intake message {Channel}/{ExternalId}.", intake.Channel, intake.ExternalId);
        }
        else
        {
            logger.LogInformation("Intake message {Channel}/{ExternalId} was already stored; delivery {Delivery} finishes its work.", intake.Channel, intake.ExternalId, message.DequeueCount);
        }

        try
        {
            var outcome = await services.GetRequiredService<IntakeProcessor>().ProcessAsync(intake, durable, cancellationToken);
            logger.LogInformation("Intake {Channel}/{ExternalId}: {Outcome} {Detail}{Duplicate}.", intake.Channel, intake.ExternalId, outcome.Kind, outcome.Detail, outcome.Duplicate ? " (already done by an earlier delivery)" : "");
        }
        catch (InvalidIntakeMessageException ex)
        {
            return Poison(message, ex.Message);
        }

        return new IntakeOutcomeOutput(null);
    }

    [Function("IntakeInboxRetention")]
    public async Task IntakeInboxRetention([TimerTrigger("0 30 3 * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var removed = await services.GetRequiredService<IntakeInbox>().PurgeOlderThanAsync(IntakeInbox.Retention, cancellationToken);
        logger.LogInformation("Removed {Count} intake inbox entries older than {Days} days.", removed, IntakeInbox.Retention.TotalDays);
    }

    /// <summary>Creates or renews the Graph subscription of each intake mailbox (none without Graph settings).</summary>
    [Function("IntakeMailSubscriptions")]
    public async Task IntakeMailSubscriptions([TimerTrigger("0 0 */6 * * *", RunOnStartup = true)] TimerInfo timer, CancellationToken cancellationToken)
    {
        var graph = services.GetRequiredService<IOptions<GraphOptions>>().Value;
        if (!graph.ReadsMail)
        {
            return;
        }

        var mailbox = services.GetRequiredService<GraphMailbox>();
        var intake = services.GetRequiredService<IOptions<IntakeOptions>>().Value;
        var store = services.GetRequiredService<IDocumentStore>();
        foreach (var name in graph.IntakeMailboxes)
        {
            if (intake.Find(name)?.Secret is not { Length: > 0 } clientState)
            {
                logger.LogWarning("Intake mailbox {Mailbox} has no intake source with a Secret (clientState); not subscribed.", name);
                continue;
            }

            var key = new DocumentKey(name.ToLowerInvariant(), "subscription");
            var known = await store.ReadAsync<MailSubscription>(MailSubscription.Container, key, cancellationToken);
            var (id, expires) = await mailbox.EnsureSubscriptionAsync(name, clientState, known?.Document.SubscriptionId, cancellationToken);
            await store.ExecuteBatchAsync(MailSubscription.Container, key.PartitionKey, [new BatchOperation.Upsert(key.Id, new MailSubscription("subscription", key.PartitionKey, id, expires))], cancellationToken);
            logger.LogInformation("Mail subscription of {Mailbox}: {SubscriptionId}, expires {Expires:O}.", name, id, expires);
        }
    }

    [Function("Intake_GraphNotifications")]
    [ApiDoc("Microsoft Graph change notifications for intake mailboxes: the validationToken handshake, clientState checked, 202.", SuccessStatus = 202, QueryParameters = ["validationToken"], RequiresToken = false)]
    public Task<IntakeWebhookOutput> IntakeGraphNotifications([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "intake/graph")] HttpRequest req) =>
        WebhookAsync(req, IntakeWebhooks.GraphNotificationsAsync);

    [Function("Intake_Teams")]
    [ApiDoc("A Teams outgoing webhook message (HMAC-signed): answered with the ticket link, raised through the queue.", RequiresToken = false)]
    public Task<IntakeWebhookOutput> IntakeTeams([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "intake/teams/{source}")] HttpRequest req) =>
        WebhookAsync(req, IntakeWebhooks.TeamsAsync);

    [Function("Intake_Alerts")]
    [ApiDoc("An Azure Monitor alert in the common alert schema (token in ?token= or X-Itsm-Alert-Token): one incident per rule and resource.", SuccessStatus = 202, QueryParameters = ["token"], RequiresToken = false)]
    public Task<IntakeWebhookOutput> IntakeAlerts([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "intake/alerts/{source}")] HttpRequest req) =>
        WebhookAsync(req, IntakeWebhooks.AlertsAsync);

    /// <summary>A webhook answers at once and hands its messages to the intake queue through the output binding, so a spike never loses input.</summary>
    private async Task<IntakeWebhookOutput> WebhookAsync(HttpRequest req, Func<HttpFunctionContext, Task<(HttpResponseOutput Response, IReadOnlyList<string> Messages)>> handler)
    {
        IReadOnlyList<string> messages = [];
        var result = await http.PublicAsync(req, async context =>
        {
            var (response, queued) = await handler(context);
            messages = queued;
            return response;
        });
        return new IntakeWebhookOutput(result, messages.Count == 0 ? null : messages.ToArray());
    }

    private IntakeOutcomeOutput Poison(QueueMessage message, string reason)
    {
        logger.LogWarning("Intake message {MessageId} moved to {PoisonQueue}: {Reason}", message.MessageId, PoisonQueueName, reason);
        return new IntakeOutcomeOutput(message.Body.ToString());
    }

    /// <summary>The message itself, or for a Graph notification the mail it announces, fetched now.</summary>
    private async Task<IntakeMessage> ReadAsync(string body, CancellationToken cancellationToken)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement;
        }
        catch (JsonException ex)
        {
            throw new InvalidIntakeMessageException($"The intake message is not valid JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != GraphMailWork.TypeName)
        {
            return IntakeMessage.Parse(body);
        }

        var work = JsonSerializer.Deserialize<GraphMailWork>(body, HttpResults.Json)!;
        if (!services.GetRequiredService<IOptions<GraphOptions>>().Value.ReadsMail)
        {
            throw new InvalidIntakeMessageException("A Graph mail notification arrived but no Itsm:Graph:IntakeMailboxes are configured.");
        }

        var mailbox = services.GetRequiredService<GraphMailbox>();
        var fetched = await mailbox.FetchAsync(work.Source, work.MessageId, cancellationToken)
            ?? throw new InvalidIntakeMessageException($"Message {work.MessageId} no longer exists in {work.Source}.");
        return IntakeMessage.Parse(JsonSerializer.Serialize(fetched, HttpResults.Json));
    }
}

/// <summary>What the queue function leaves behind: the message itself in <c>intake-poison</c> when it can never succeed.</summary>
public sealed record IntakeOutcomeOutput([property: QueueOutput(IntakeFunctions.PoisonQueueName, Connection = IntakeFunctions.Connection)] string? Poison);

/// <summary>A webhook's answer, and the messages it queues on <c>intake</c>.</summary>
public sealed record IntakeWebhookOutput(
    [property: HttpResult] IResult Response,
    [property: QueueOutput(IntakeFunctions.QueueName, Connection = IntakeFunctions.Connection)] string[]? Messages);

/// <summary>The feature's services.</summary>
public static class IntakeFeature
{
    public static IServiceCollection AddIntake(this IServiceCollection services)
    {
        services.AddOptions<IntakeOptions>().BindConfiguration(IntakeOptions.SectionName);
        return services
            .AddSingleton<IntakeInbox>()
            .AddSingleton<IntakeThreads>()
            .AddSingleton<IntakeProcessor>();
    }
}

/// <summary>The Graph subscription of an intake mailbox (<c>mailSubscriptions</c>, partition /mailbox).</summary>
public sealed record MailSubscription(string Id, string Mailbox, string SubscriptionId, DateTimeOffset ExpiresAt)
{
    public static readonly ContainerDefinition Container = new("mailSubscriptions", ["/mailbox"], []);
}
