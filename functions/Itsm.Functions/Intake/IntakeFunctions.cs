using System.Text.Json;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Intake;

/// <summary>
/// The <c>intake</c> queue: email, Teams, monitoring and other systems post normalised messages here.
/// For now each message lands in the intake inbox exactly once per (channel, external id); turning
/// them into tickets and comments belongs to the intake issue.
/// </summary>
public static class IntakeFunctions
{
    public const string QueueName = "intake";

    public static FunctionCatalogBuilder MapIntake(this FunctionCatalogBuilder functions) =>
        functions
            .MapServiceBusQueue("Intake", QueueName, ReceiveAsync)
            .MapTimer("IntakeInboxRetention", "0 30 3 * * *", PurgeAsync);

    public static IServiceCollection AddIntake(this IServiceCollection services) =>
        services.AddSingleton<IntakeInbox>();

    private static async Task ReceiveAsync(QueueMessageContext context)
    {
        var message = IntakeMessage.Parse(context.Body);
        var inbox = context.Services.GetRequiredService<IntakeInbox>();
        var stored = await inbox.StoreAsync(message, context.CancellationToken);
        var logger = context.Services.GetRequiredService<ILogger<IntakeInbox>>();
        if (stored)
        {
            logger.LogInformation("Stored intake message {Channel}/{ExternalId}.", message.Channel, message.ExternalId);
        }
        else
        {
            logger.LogInformation("Intake message {Channel}/{ExternalId} was already stored; delivery {Delivery} ignored.", message.Channel, message.ExternalId, context.DeliveryCount);
        }
    }

    private static async Task PurgeAsync(TimerContext context)
    {
        var inbox = context.Services.GetRequiredService<IntakeInbox>();
        var removed = await inbox.PurgeOlderThanAsync(IntakeInbox.Retention, context.CancellationToken);
        context.Invocation.Log($"Removed {removed} intake inbox entries older than {IntakeInbox.Retention.TotalDays} days.");
    }
}

/// <summary>A normalised intake message, whatever channel it came from.</summary>
public sealed record IntakeMessage(
    string Channel,
    string ExternalId,
    string Sender,
    string Subject,
    string? Body,
    DateTimeOffset ReceivedAt)
{
    // Channels add their own properties (headers, attachments): unknown members are ignored here.
    private static readonly JsonSerializerOptions Tolerant = new(HttpResults.Json)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };

    public static IntakeMessage Parse(string json)
    {
        IntakeMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<IntakeMessage>(json, Tolerant);
        }
        catch (JsonException ex)
        {
            throw new InvalidIntakeMessageException($"The intake message is not valid JSON: {ex.Message}");
        }

        if (message is null || string.IsNullOrWhiteSpace(message.Channel) || string.IsNullOrWhiteSpace(message.ExternalId)
            || string.IsNullOrWhiteSpace(message.Sender))
        {
            throw new InvalidIntakeMessageException("An intake message needs 'channel', 'externalId' and 'sender'.");
        }

        return message;
    }
}

public sealed class InvalidIntakeMessageException(string message) : Exception(message);
