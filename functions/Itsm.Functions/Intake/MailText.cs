using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Itsm.Functions.Intake;

/// <summary>
/// Mail bodies become plain text before anything is stored: HTML is never kept, so no script, style, event
/// handler or link target of a hostile mail can reach a browser later. Replies are trimmed of quoted history
/// and signatures.
/// </summary>
public static partial class MailText
{
    /// <summary>The text of an HTML body: script, style, head and comments dropped with their content, block ends as line breaks, every other tag removed, entities decoded once.</summary>
    public static string HtmlToText(string html)
    {
        var text = Comments().Replace(html, "");
        text = DangerousBlocks().Replace(text, "");
        text = BlockBreaks().Replace(text, "\n");
        text = Tags().Replace(text, "");
        text = WebUtility.HtmlDecode(text);

        // Decoding may reveal '<' that was written as '&lt;': it stays text, but never a tag-looking string.
        text = text.Replace("<", "‹", StringComparison.Ordinal).Replace(">", "›", StringComparison.Ordinal);
        return Normalise(text);
    }

    /// <summary>The body to store: the text part when there is one, else the HTML part reduced to text.</summary>
    public static string BodyOf(IntakeMessage message) =>
        !string.IsNullOrWhiteSpace(message.Body) ? Normalise(message.Body)
        : !string.IsNullOrWhiteSpace(message.BodyHtml) ? HtmlToText(message.BodyHtml)
        : "";

    /// <summary>A reply without the quoted history below it and without its signature.</summary>
    public static string TrimReply(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var kept = new List<string>();
        foreach (var line in lines)
        {
            var trimmed = line.Trim();
            if (trimmed == "--" || line == "-- " || QuoteHeader().IsMatch(trimmed) || SentFrom().IsMatch(trimmed))
            {
                break;
            }

            if (trimmed.StartsWith('>'))
            {
                continue;
            }

            kept.Add(line);
        }

        var result = Normalise(string.Join('\n', kept));
        return result.Length == 0 ? Normalise(text) : result;
    }

    /// <summary>At most <paramref name="max"/> characters, with a note when cut.</summary>
    public static string Limit(string text, int max) =>
        text.Length <= max ? text : text[..(max - 40)] + "\n[... truncated by the service desk]";

    private static string Normalise(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n').Select(l => l.TrimEnd());
        var builder = new StringBuilder();
        var blank = 0;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                blank++;
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append(blank > 0 ? "\n\n" : "\n");
            }

            builder.Append(line);
            blank = 0;
        }

        return builder.ToString().Trim();
    }

    [GeneratedRegex(@"<!--.*?(-->|$)", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"<\s*(script|style|head|title|template|iframe|object|noscript|svg|math)\b.*?(<\s*/\s*\1\s*>|$)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex DangerousBlocks();

    [GeneratedRegex(@"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", RegexOptions.IgnoreCase)]
    private static partial Regex BlockBreaks();

    [GeneratedRegex(@"<[^>]*(>|$)")]
    private static partial Regex Tags();

    [GeneratedRegex(@"^(-{2,}\s*(original message|ursprüngliche nachricht)\s*-{2,}|_{5,}|(from|von):\s.+|on .+ wrote:|am .+ schrieb .+:)$", RegexOptions.IgnoreCase)]
    private static partial Regex QuoteHeader();

    [GeneratedRegex(@"^(sent from my|von meinem .+ gesendet|get outlook for)", RegexOptions.IgnoreCase)]
    private static partial Regex SentFrom();
}
