using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Itsm.Functions.Security;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Kb;

[JsonConverter(typeof(JsonStringEnumConverter<ArticleState>))]
public enum ArticleState
{
    Draft,
    InReview,
    Published,
    Retired,
}

[JsonConverter(typeof(JsonStringEnumConverter<ArticleKind>))]
public enum ArticleKind
{
    /// <summary>How-to, FAQ, solution: written by agents.</summary>
    Article,

    /// <summary>A problem's workaround published for incidents that problem causes.</summary>
    KnownError,
}

/// <summary>Who may read a published article.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ArticleAudience>))]
public enum ArticleAudience
{
    /// <summary>Everybody in the tenant, requesters included.</summary>
    Everyone,

    /// <summary>Agents, change managers and admins only (internal notes, diagnostics).</summary>
    Agents,
}

/// <summary>
/// A knowledge article, stored in <c>kbArticles</c> (partition /tenantId) next to its audit events, its feedback and
/// its feedback counters. <see cref="Revision"/> counts writes (the ETag changes with each); <see cref="Version"/>
/// counts publications.
/// </summary>
public sealed record KbArticle
{
    public const string DocumentType = "article";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required ArticleKind Kind { get; init; }

    public required ArticleState State { get; init; }

    public required string Title { get; init; }

    public string? Summary { get; init; }

    public required string Body { get; init; }

    public IReadOnlyList<string> Keywords { get; init; } = [];

    public string? Category { get; init; }

    public ArticleAudience Audience { get; init; } = ArticleAudience.Everyone;

    public required PersonRef Owner { get; init; }

    /// <summary>When the owner should check the article is still right; the review timer reminds them once it passes.</summary>
    public DateTimeOffset? ReviewAt { get; init; }

    /// <summary>Tickets (incidents, requests, changes) the article helps with or came from.</summary>
    public IReadOnlyList<string> Tickets { get; init; } = [];

    /// <summary>Problems the article documents (a known error names its problem here).</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Configuration items the article is about.</summary>
    public IReadOnlyList<string> Cis { get; init; } = [];

    public int Revision { get; init; }

    /// <summary>How many times it was published (0 until the first publication).</summary>
    public int Version { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    public required string UpdatedBy { get; init; }

    public DateTimeOffset? PublishedAt { get; init; }

    public string? PublishedBy { get; init; }

    public DateTimeOffset? RetiredAt { get; init; }

    /// <summary>Title, summary, keywords and body folded (lower case, no accents, words only): what search matches on Cosmos DB and what SQLite's FTS5 index is fed.</summary>
    public string SearchText { get; init; } = "";
}

/// <summary>
/// The text of one published version (docType "articleVersion", id <c>version:{articleId}:{version}</c>), written in the
/// same batch as the publication, so a revised or republished article keeps what readers saw before.
/// </summary>
public sealed record KbArticleVersion(string Id, string TenantId, string ArticleId, int Version, string Title, string? Summary, string Body, IReadOnlyList<string> Keywords, DateTimeOffset PublishedAt, string PublishedBy)
{
    public const string DocumentType = "articleVersion";

    public string DocType => DocumentType;

    public static string IdOf(string articleId, int version) => $"version:{articleId}:{version}";

    public static KbArticleVersion Of(KbArticle article) => new(
        IdOf(article.Id, article.Version), article.TenantId, article.Id, article.Version, article.Title, article.Summary, article.Body, article.Keywords,
        article.PublishedAt ?? article.UpdatedAt, article.PublishedBy ?? article.UpdatedBy);
}

/// <summary>An article's audit event (docType "audit").</summary>
public sealed record KbAuditEvent(string Id, string TenantId, string ArticleId, string Action, string Actor, DateTimeOffset At, int Revision, string? Detail = null)
{
    public const string DocumentType = "audit";

    public string DocType => DocumentType;
}

/// <summary>One person's "did this help?" answer for an article (their latest counts).</summary>
public sealed record KbFeedback(string Id, string TenantId, string ArticleId, string UserId, bool Helpful, string? Comment, DateTimeOffset At)
{
    public const string DocumentType = "feedback";

    public string DocType => DocumentType;
}

/// <summary>The feedback counters of an article, a document of their own so that votes never change the article's ETag.</summary>
public sealed record KbArticleStats(string Id, string TenantId, string ArticleId, int Helpful, int NotHelpful)
{
    public const string DocumentType = "stats";

    public string DocType => DocumentType;

    public static string IdFor(string articleId) => "stats:" + articleId;
}

[JsonConverter(typeof(JsonStringEnumConverter<ArticleAction>))]
public enum ArticleAction
{
    /// <summary>Draft to InReview: the author asks for review.</summary>
    Submit,

    /// <summary>InReview to Published (knowledge managers: admins).</summary>
    Publish,

    /// <summary>InReview back to Draft, with a reason.</summary>
    Reject,

    /// <summary>Published to Retired: out of search and suggestions.</summary>
    Retire,

    /// <summary>Published or Retired back to Draft to write the next version.</summary>
    Revise,
}

/// <summary>The article lifecycle as pure rules: which action leads where, and who may take it.</summary>
public static class KbRules
{
    public static readonly IReadOnlyDictionary<(ArticleState From, ArticleAction Action), ArticleState> Transitions =
        new Dictionary<(ArticleState, ArticleAction), ArticleState>
        {
            [(ArticleState.Draft, ArticleAction.Submit)] = ArticleState.InReview,
            [(ArticleState.InReview, ArticleAction.Publish)] = ArticleState.Published,
            [(ArticleState.InReview, ArticleAction.Reject)] = ArticleState.Draft,
            [(ArticleState.Published, ArticleAction.Retire)] = ArticleState.Retired,
            [(ArticleState.Published, ArticleAction.Revise)] = ArticleState.Draft,
            [(ArticleState.Retired, ArticleAction.Revise)] = ArticleState.Draft,
        };

    /// <summary>The state <paramref name="action"/> leads to, or why the caller may not take it (null state).</summary>
    public static (ArticleState? To, string? Refusal, int Status) Decide(KbArticle article, ArticleAction action, CallerPrincipal caller)
    {
        if (!caller.IsAgent)
        {
            return (null, "Only agents and admins change knowledge articles.", 403);
        }

        if (!Transitions.TryGetValue((article.State, action), out var to))
        {
            var allowed = Transitions.Keys.Where(k => k.From == article.State).Select(k => k.Action.ToString()).ToList();
            return (null, $"An article in state {article.State} cannot be sent '{action}'; allowed: {(allowed.Count == 0 ? "none" : string.Join(", ", allowed))}.", 409);
        }

        var isOwner = string.Equals(article.Owner.Id, caller.UserId, StringComparison.OrdinalIgnoreCase);
        var mayTake = action switch
        {
            // Publishing and rejecting are the reviewer's (knowledge manager's) call: admins.
            ArticleAction.Publish or ArticleAction.Reject => caller.IsAdmin,
            ArticleAction.Retire => caller.IsAdmin || isOwner,
            _ => true,
        };
        return mayTake
            ? (to, null, 200)
            : (null, action == ArticleAction.Retire ? "Only the article's owner or an admin retires it." : $"Only admins (knowledge managers) {action.ToString().ToLowerInvariant()} articles in review.", 403);
    }

    /// <summary>What the state change does to the rest of the article.</summary>
    public static KbArticle Apply(KbArticle article, ArticleState to, string actor, DateTimeOffset now) => article with
    {
        State = to,
        Version = to == ArticleState.Published ? article.Version + 1 : article.Version,
        PublishedAt = to == ArticleState.Published ? now : article.PublishedAt,
        PublishedBy = to == ArticleState.Published ? actor : article.PublishedBy,
        RetiredAt = to == ArticleState.Retired ? now : to == ArticleState.Draft ? null : article.RetiredAt,
        UpdatedAt = now,
        UpdatedBy = actor,
    };

    /// <summary>Whether <paramref name="caller"/> may read the article at all (agents: every state; others: published articles for everyone).</summary>
    public static bool MayRead(KbArticle article, CallerPrincipal caller) =>
        caller.IsAgent || (article.State == ArticleState.Published && article.Audience == ArticleAudience.Everyone);

    /// <summary>The audiences whose published articles the caller finds in search.</summary>
    public static IReadOnlyList<ArticleAudience> AudiencesOf(CallerPrincipal caller) =>
        caller.IsAgent ? [ArticleAudience.Everyone, ArticleAudience.Agents] : [ArticleAudience.Everyone];

    public static KbArticle WithSearchText(KbArticle article) =>
        article with { SearchText = Fold(string.Join(' ', new[] { article.Title, article.Summary ?? "", string.Join(' ', article.Keywords), article.Body })) };

    /// <summary>
    /// Lower case, accents of Latin letters removed (the app runs with invariant globalization, where Unicode
    /// normalisation is not available, so a table does it), every run of non-letters and non-digits one space.
    /// </summary>
    public static string Fold(string text)
    {
        var folded = new StringBuilder(text.Length);
        var space = true;
        foreach (var raw in text)
        {
            if (char.IsLetterOrDigit(raw))
            {
                var c = char.ToLowerInvariant(raw);
                var at = Accented.IndexOf(c, StringComparison.Ordinal);
                if (at >= 0)
                {
                    folded.Append(Plain[at]);
                }
                else if (c == 'ß')
                {
                    folded.Append("ss");
                }
                else if (c is 'æ' or 'œ')
                {
                    folded.Append(c == 'æ' ? "ae" : "oe");
                }
                else
                {
                    folded.Append(c);
                }

                space = false;
            }
            else if (CharUnicodeInfo.GetUnicodeCategory(raw) == UnicodeCategory.NonSpacingMark)
            {
                // A combining accent (decomposed input): dropped.
            }
            else if (!space)
            {
                folded.Append(' ');
                space = true;
            }
        }

        return folded.ToString().Trim();
    }

    private const string Accented = "àáâãäåāăąçćĉċčďđèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżžð";
    private const string Plain = "aaaaaaaaacccccddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzzd";

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "cannot", "do", "does", "for", "from", "has", "have", "how", "i",
        "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "please", "so", "that", "the", "this", "to", "was",
        "we", "what", "when", "where", "why", "with", "you", "your", "help", "issue", "problem", "error", "get", "got", "since", "any",
        "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "le", "la", "les", "et", "est", "pas", "un", "une",
    };

    /// <summary>The words of a search or of a ticket being raised, folded, without stop words, duplicates or one-letter words, at most <paramref name="max"/>.</summary>
    public static IReadOnlyList<string> Terms(string? text, int max = 8) =>
        Fold(text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(t => t.Length >= 2 && t.Length <= 40 && !StopWords.Contains(t))
            .Distinct(StringComparer.Ordinal)
            .Take(max)
            .ToList();
}
