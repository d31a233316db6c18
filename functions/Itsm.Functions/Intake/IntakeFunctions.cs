using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Durable;
using Itsm.Functions.Notifications;
using Itsm.Functions.Storage;
using Microsoft.Extensions.Options;

namespace Itsm.Functions.Intake;

/// <summary>
/// The <c>intake</c> queue and the webhooks that feed it. Each message is recorded in the inbox, then becomes a
/// ticket or a comment exactly once per (channel, external id). Messages that can never succeed are kept in
/// <see cref="IntakeDeadLetters"/> with their reason and completed; anything else that fails is retried by the queue.
/// </summary>
public static class IntakeFunctions
{
    public const string QueueName = "intake";

    public static FunctionCatalogBuilder MapIntake(this FunctionCatalogBuilder functions) =>
        functions
            .Add(new FunctionDefinition(
                "Intake",
                new ServiceBusQueueTrigger("message", QueueName, FunctionCatalogBuilder.DefaultServiceBusConnection),
                [new DurableClientBinding(FunctionCatalogBuilder.DurableClientBindingName)],
                invocation => QueueMessageContext.RunAsync(invocation, ReceiveAsync)))
            .MapTimer("IntakeInboxRetention", "0 30 3 * * *", PurgeAsync)
            .MapTimer("IntakeMailSubscriptions", "0 0 */6 * * *", RenewSubscriptionsAsync, runOnStartup: true)
            .MapIntakeWebhook("Intake_GraphNotifications", "POST", "intake/graph",
                new ApiDocs("Microsoft Graph change notifications for intake mailboxes: the validationToken handshake, clientState checked, 202.", 202, QueryParameters: ["validationToken"], RequiresToken: false),
                IntakeWebhooks.GraphNotificationsAsync)
            .MapIntakeWebhook("Intake_Teams", "POST", "intake/teams/{source}",
                new ApiDocs("A Teams outgoing webhook message (HMAC-signed): answered with the ticket link, raised through the queue.", RequiresToken: false),
                IntakeWebhooks.TeamsAsync)
            .MapIntakeWebhook("Intake_Alerts", "POST", "intake/alerts/{source}",
                new ApiDocs("An Azure Monitor alert in the common alert schema (token in ?token= or X-Itsm-Alert-Token): one incident per rule and resource.", 202, QueryParameters: ["token"], RequiresToken: false),
                IntakeWebhooks.AlertsAsync);

    public static IServiceCollection AddIntake(this IServiceCollection services)
    {
        services.AddOptions<IntakeOptions>().BindConfiguration(IntakeOptions.SectionName);
        return services
            .AddSingleton<IntakeInbox>()
            .AddSingleton<IntakeThreads>()
            .AddSingleton<IntakeDeadLetters>()
            .AddSingleton<IntakeProcessor>();
    }

    private static async Task ReceiveAsync(QueueMessageContext context)
    {
        var services = context.Services;
        var logger = services.GetRequiredService<ILogger<IntakeInbox>>();
        IntakeMessage message;
        try
        {
            message = await ReadAsync(context);
        }
        catch (InvalidIntakeMessageException ex)
        {
            await DeadLetterAsync(context, "unknown", ex.Message);
            return;
        }

        var stored = await services.GetRequiredService<IntakeInbox>().StoreAsync(message, context.CancellationToken);
        if (stored)
        {
            logger.LogInformation("Stored intake message {Channel}/{ExternalId}.", message.Channel, message.ExternalId);
        }
        else
        {
            logger.LogInformation("Intake message {Channel}/{ExternalId} was already stored; delivery {Delivery} finishes its work.", message.Channel, message.ExternalId, context.DeliveryCount);
        }

        try
        {
            var durable = services.GetRequiredService<DurableClientResolver>().Resolve(context.Invocation);
            var outcome = await services.GetRequiredService<IntakeProcessor>().ProcessAsync(message, durable, context.CancellationToken);
            logger.LogInformation("Intake {Channel}/{ExternalId}: {Outcome} {Detail}{Duplicate}.", message.Channel, message.ExternalId, outcome.Kind, outcome.Detail, outcome.Duplicate ? " (already done by an earlier delivery)" : "");
        }
        catch (InvalidIntakeMessageException ex)
        {
            await DeadLetterAsync(context, message.Channel, ex.Message);
        }
    }

    /// <summary>The message itself, or for a Graph notification the mail it announces, fetched now.</summary>
    private static async Task<IntakeMessage> ReadAsync(QueueMessageContext context)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(context.Body).RootElement;
        }
        catch (JsonException ex)
        {
            throw new InvalidIntakeMessageException($"The intake message is not valid JSON: {ex.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != GraphMailWork.TypeName)
        {
            return IntakeMessage.Parse(context.Body);
        }

        var work = JsonSerializer.Deserialize<GraphMailWork>(context.Body, HttpResults.Json)!;
        if (!context.Services.GetRequiredService<IOptions<GraphOptions>>().Value.ReadsMail)
        {
            throw new InvalidIntakeMessageException("A Graph mail notification arrived but no Itsm:Graph:IntakeMailboxes are configured.");
        }

        var mailbox = context.Services.GetRequiredService<GraphMailbox>();
        var fetched = await mailbox.FetchAsync(work.Source, work.MessageId, context.CancellationToken)
            ?? throw new InvalidIntakeMessageException($"Message {work.MessageId} no longer exists in {work.Source}.");
        return IntakeMessage.Parse(JsonSerializer.Serialize(fetched, HttpResults.Json));
    }

    private static async Task DeadLetterAsync(QueueMessageContext context, string channel, string reason)
    {
        await context.Services.GetRequiredService<IntakeDeadLetters>().AddAsync(channel, context.Body, reason, context.MessageId, context.CancellationToken);
        context.Services.GetRequiredService<ILogger<IntakeInbox>>().LogWarning("Intake message {MessageId} dead-lettered: {Reason}", context.MessageId, reason);
    }

    private static async Task PurgeAsync(TimerContext context)
    {
        var inbox = context.Services.GetRequiredService<IntakeInbox>();
        var removed = await inbox.PurgeOlderThanAsync(IntakeInbox.Retention, context.CancellationToken);
        context.Invocation.Log($"Removed {removed} intake inbox entries older than {IntakeInbox.Retention.TotalDays} days.");
    }

    /// <summary>Creates or renews the Graph subscription of each intake mailbox (none without Graph settings).</summary>
    private static async Task RenewSubscriptionsAsync(TimerContext context)
    {
        var graph = context.Services.GetRequiredService<IOptions<GraphOptions>>().Value;
        if (!graph.ReadsMail)
        {
            return;
        }

        var mailbox = context.Services.GetRequiredService<GraphMailbox>();
        var intake = context.Services.GetRequiredService<IOptions<IntakeOptions>>().Value;
        var store = context.Services.GetRequiredService<IDocumentStore>();
        foreach (var name in graph.IntakeMailboxes)
        {
            if (intake.Find(name)?.Secret is not { Length: > 0 } clientState)
            {
                context.Invocation.Log($"Intake mailbox {name} has no intake source with a Secret (clientState); not subscribed.");
                continue;
            }

            var key = new DocumentKey(name.ToLowerInvariant(), "subscription");
            var known = await store.ReadAsync<MailSubscription>(MailSubscription.Container, key, context.CancellationToken);
            var (id, expires) = await mailbox.EnsureSubscriptionAsync(name, clientState, known?.Document.SubscriptionId, context.CancellationToken);
            await store.ExecuteBatchAsync(MailSubscription.Container, key.PartitionKey, [new BatchOperation.Upsert(key.Id, new MailSubscription("subscription", key.PartitionKey, id, expires))], context.CancellationToken);
            context.Invocation.Log($"Mail subscription of {name}: {id}, expires {expires:O}.");
        }
    }
}

/// <summary>The Graph subscription of an intake mailbox (<c>mailSubscriptions</c>, partition /mailbox).</summary>
public sealed record MailSubscription(string Id, string Mailbox, string SubscriptionId, DateTimeOffset ExpiresAt)
{
    public static readonly ContainerDefinition Container = new("mailSubscriptions", ["/mailbox"], []);
}
