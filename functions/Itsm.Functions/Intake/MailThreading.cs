using System.Text.RegularExpressions;

namespace Itsm.Functions.Intake;

/// <summary>
/// The pure rules of mail threading: what to ignore (auto-replies, bounces, our own mail), which ticket a
/// message names, and which stored thread keys to look up, strongest first.
/// </summary>
public static partial class MailThreading
{
    /// <summary>Why a message must not become a ticket or comment at all; null when it may.</summary>
    public static string? IgnoreReason(IntakeMessage message, IntakeSource source)
    {
        var sender = message.Sender.Trim();
        if (source.OwnAddresses.Any(a => string.Equals(a, sender, StringComparison.OrdinalIgnoreCase))
            || message.Header("X-Itsm-Notification") is not null)
        {
            return "loop: the message was sent by this service";
        }

        if (message.Header("Auto-Submitted") is { } autoSubmitted && !string.Equals(autoSubmitted.Trim(), "no", StringComparison.OrdinalIgnoreCase))
        {
            return $"auto-submitted ({autoSubmitted.Trim()})";
        }

        if (message.Header("X-Autoreply") is not null || message.Header("X-Autorespond") is not null
            || message.Header("Precedence") is { } precedence && precedence.Trim().ToLowerInvariant() is "bulk" or "junk" or "auto_reply" or "list")
        {
            return "automatic reply";
        }

        var local = sender.Split('@')[0].ToLowerInvariant();
        if (local is "mailer-daemon" or "postmaster" or "noreply" or "no-reply" || message.Header("Content-Type")?.Contains("report-type=delivery-status", StringComparison.OrdinalIgnoreCase) == true)
        {
            return "bounce or no-reply sender";
        }

        return AutoReplySubject().IsMatch(message.Subject) ? "automatic reply (subject)" : null;
    }

    /// <summary>The ticket number tagged in a subject, e.g. <c>RE: [INC0001001] Printer</c>.</summary>
    public static string? TicketTag(string subject) =>
        TicketTagPattern().Match(subject) is { Success: true } match ? match.Groups[1].Value.ToUpperInvariant() : null;

    public static bool IsForward(string subject) => ForwardPrefix().IsMatch(subject);

    /// <summary>The subject without reply/forward prefixes and ticket tags: the title of a new ticket.</summary>
    public static string Title(string subject)
    {
        var title = subject;
        string previous;
        do
        {
            previous = title;
            title = LeadingPrefix().Replace(title, "").Trim();
            title = TicketTagPattern().Replace(title, "").Trim();
        }
        while (title != previous);
        title = string.IsNullOrWhiteSpace(title) ? "(no subject)" : title;
        return title.Length > 200 ? title[..200] : title;
    }

    /// <summary>The message ids this message replies to: In-Reply-To first, then References newest first.</summary>
    public static IReadOnlyList<string> RepliedTo(IntakeMessage message)
    {
        var ids = new List<string>();
        if (!string.IsNullOrWhiteSpace(message.InReplyTo))
        {
            ids.Add(NormaliseMessageId(message.InReplyTo));
        }

        foreach (var reference in message.References.Reverse())
        {
            foreach (var id in reference.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries))
            {
                var normalised = NormaliseMessageId(id);
                if (!ids.Contains(normalised))
                {
                    ids.Add(normalised);
                }
            }
        }

        return ids;
    }

    public static string NormaliseMessageId(string id) => id.Trim().Trim('<', '>').ToLowerInvariant();

    [GeneratedRegex(@"\[((?:INC|REQ|PRB|CHG)\d{7,})\]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex TicketTagPattern();

    [GeneratedRegex(@"^\s*(fw|fwd|wg|tr)\s*:", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ForwardPrefix();

    [GeneratedRegex(@"^\s*(re|aw|sv|antw|fw|fwd|wg|tr)\s*:\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LeadingPrefix();

    [GeneratedRegex(@"^\s*(automatic reply|auto(matische)? ?(reply|antwort)|out of (the )?office|abwesenheitsnotiz|undeliverable|undelivered mail|delivery status notification|mail delivery failed|unzustellbar)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex AutoReplySubject();
}
