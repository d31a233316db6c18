using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Intake;

/// <summary>
/// A normalised intake message, whatever channel it came from. <see cref="Source"/> names the configured mailbox,
/// webhook or alert endpoint it arrived through, which decides the tenant (see <see cref="IntakeOptions"/>).
/// </summary>
public sealed record IntakeMessage(
    string Channel,
    string ExternalId,
    string Sender,
    string Subject,
    string? Body,
    DateTimeOffset ReceivedAt)
{
    public const int MaxSubjectLength = 1000;
    public const int MaxBodyLength = 200_000;

    // Channels add their own properties: unknown members are ignored here.
    private static readonly JsonSerializerOptions Tolerant = new(HttpResults.Json)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public string? Source { get; init; }

    public string? SenderName { get; init; }

    /// <summary>The HTML body, when the channel has one; it is reduced to text before anything is stored.</summary>
    public string? BodyHtml { get; init; }

    /// <summary>A ticket number or id the channel already knows the message belongs to.</summary>
    public string? TicketReference { get; init; }

    /// <summary>Mail: the Internet message id of this message, and those it replies to.</summary>
    public string? InternetMessageId { get; init; }

    public string? InReplyTo { get; init; }

    public IReadOnlyList<string> References { get; init; } = [];

    public string? ConversationId { get; init; }

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<IntakeAttachment> Attachments { get; init; } = [];

    /// <summary>Monitoring: the alert's rule-and-resource key (one incident per key), and whether it fired or resolved.</summary>
    public string? CorrelationKey { get; init; }

    public bool Resolved { get; init; }

    public int? Impact { get; init; }

    public int? Urgency { get; init; }

    public static IntakeMessage Parse(string json)
    {
        if (json.Length > MaxBodyLength * 2)
        {
            throw new InvalidIntakeMessageException($"The intake message is {json.Length} characters long; at most {MaxBodyLength * 2} are accepted.");
        }

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

        if (message.Channel.Length > 50 || message.ExternalId.Length > 1000 || message.Sender.Length > 320)
        {
            throw new InvalidIntakeMessageException("'channel' (50), 'externalId' (1000) or 'sender' (320) is too long.");
        }

        if ((message.Subject?.Length ?? 0) > MaxSubjectLength || (message.Body?.Length ?? 0) > MaxBodyLength || (message.BodyHtml?.Length ?? 0) > MaxBodyLength)
        {
            throw new InvalidIntakeMessageException($"The subject (at most {MaxSubjectLength}) or body (at most {MaxBodyLength} characters) is too long.");
        }

        return message with { Subject = message.Subject ?? "" };
    }

    public string? Header(string name) =>
        Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
}

public sealed record IntakeAttachment(string Name, string? ContentType, long Size);

/// <summary>A message that will never succeed, however often it is delivered: it is dead-lettered with this reason.</summary>
public sealed class InvalidIntakeMessageException(string message) : Exception(message);
