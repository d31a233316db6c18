using System.Globalization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Kb;

/// <summary>The knowledge base API under <c>/api/kb</c>, a ticket's linked articles, and the daily review reminders.</summary>
public sealed class KbFunctions(HttpEndpoint http)
{
    [Function("Kb_CreateArticle")]
    [ApiDoc("Write a draft article (agents): title, body, summary, keywords, category, audience, owner, reviewAt, tickets, problems, cis.", SuccessStatus = 201)]
    public Task<IResult> KbCreateArticle([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "kb/articles")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).CreateAsync(api));

    [Function("Kb_ListArticles")]
    [ApiDoc("List articles, newest change first (requesters: published articles for everyone).", QueryParameters = ["state", "kind", "audience", "owner", "ticket", "problem", "ci", "pageSize", "continuationToken"])]
    public Task<IResult> KbListArticles([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "kb/articles")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListAsync(api));

    [Function("Kb_GetArticle")]
    [ApiDoc("Read an article with its feedback counts; the ETag header is its version.")]
    public Task<IResult> KbGetArticle([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "kb/articles/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).GetAsync(api, Id(api)));

    [Function("Kb_UpdateArticle")]
    [ApiDoc("Change an article (JSON merge patch, If-Match required; the text only while it is a draft).")]
    public Task<IResult> KbUpdateArticle([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "kb/articles/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PatchAsync(api, Id(api)));

    [Function("Kb_TransitionArticle")]
    [ApiDoc("Move an article through its lifecycle: {\"action\": Submit|Publish|Reject|Retire|Revise, \"comment\"} with If-Match.")]
    public Task<IResult> KbTransitionArticle([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "kb/articles/{id}/transitions")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).TransitionAsync(api, Id(api)));

    [Function("Kb_ArticleHistory")]
    [ApiDoc("An article's audit trail (agents).")]
    public Task<IResult> KbArticleHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "kb/articles/{id}/history")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).HistoryAsync(api, Id(api)));

    [Function("Kb_ArticleVersions")]
    [ApiDoc("Every published version of an article with its text, oldest first (agents).")]
    public Task<IResult> KbArticleVersions([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "kb/articles/{id}/versions")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).VersionsAsync(api, Id(api)));

    [Function("Kb_ArticleFeedback")]
    [ApiDoc("\"Did this help?\": {\"helpful\": true|false, \"comment\"}; one answer per person, the latest counts.")]
    public Task<IResult> KbArticleFeedback([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "kb/articles/{id}/feedback")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).FeedbackAsync(api, Id(api)));

    [Function("Kb_Search")]
    [ApiDoc("Full-text search over the published articles the caller may read (?q=words, all must match, best first).", QueryParameters = ["q"])]
    public Task<IResult> KbSearch([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "kb/search")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).SearchAsync(api));

    [Function("Kb_Suggest")]
    [ApiDoc("Articles that may answer a ticket being raised: {\"title\", \"description\", \"limit\"}; any word may match.")]
    public Task<IResult> KbSuggest([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "kb/suggestions")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).SuggestAsync(api));

    [Function("Kb_PublishKnownError")]
    [ApiDoc("Publish a problem's workaround as its known-error article ({\"problemId\", \"title\", \"audience\"}); again for a new version.", SuccessStatus = 201)]
    public Task<IResult> KbPublishKnownError([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "kb/known-errors")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PublishKnownErrorAsync(api));

    [Function("Tickets_Articles")]
    [ApiDoc("Published articles linked to the ticket and, for an incident, the known errors of the problems causing it.")]
    public Task<IResult> TicketsArticles([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/articles")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).TicketArticlesAsync(api, Id(api)));

    private static KbService Service(ApiContext api) => api.Services.GetRequiredService<KbService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}

/// <summary>
/// Reminds owners of published articles whose review date has passed, through the notification outbox. The event id
/// is the article and its review date, so a timer that runs twice (or a day later) never reminds twice for the same
/// date; setting a new review date starts a new reminder.
/// </summary>
public sealed class KbReviewReminders(KbStore store, NotificationOutbox outbox, TimeProvider time, ILogger<KbReviewReminders> logger)
{
    [Function("Kb_ReviewReminders")]
    public async Task KbReviewRemindersTimer([TimerTrigger("0 0 6 * * *")] TimerInfo timer, CancellationToken cancellationToken) =>
        await RunAsync(cancellationToken);

    /// <summary>Returns how many reminders were added to the outbox now.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var added = 0;
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync(
                null,
                [new QueryFilter("state", FilterOperator.Equals, nameof(ArticleState.Published)), new QueryFilter("reviewAt", FilterOperator.LessThanOrEqual, now)],
                new QuerySort("reviewAt", Descending: false),
                200,
                continuation,
                cancellationToken);
            foreach (var article in page.Items.Select(i => i.Document))
            {
                var owner = article.Owner;
                var notification = new NotificationEvent(NotificationEventKinds.KbReviewDue, article.TenantId, $"kb.review-due:{article.Id}:{article.ReviewAt!.Value.UtcTicks}")
                {
                    Title = article.Title,
                    Link = $"/api/kb/articles/{article.Id}",
                    Recipients = [new NotificationRecipient(owner.Id, owner.Email ?? (owner.Id.Contains('@', StringComparison.Ordinal) ? owner.Id : null), owner.Name)],
                    Values = new Dictionary<string, string> { ["kb.reviewAt"] = article.ReviewAt.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), ["kb.id"] = article.Id },
                };
                added += (await outbox.PublishAsync(notification, cancellationToken)).Count;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        if (added > 0)
        {
            logger.LogInformation("Reminded owners of {Count} knowledge articles due for review.", added);
        }

        return added;
    }
}

public static class KbFeature
{
    public static IServiceCollection AddKb(this IServiceCollection services)
    {
        services.AddSingleton<KbStore>().AddSingleton<KbService>().AddSingleton<KbReviewReminders>();

        // FTS5 when the articles are in SQLite; the port's filters over the folded text on Cosmos DB.
        services.AddSingleton<IKbSearchIndex>(sp => sp.GetRequiredService<StoreInfo>().Provider == StoreProvider.Sqlite && sp.GetRequiredService<IDocumentStore>() is SqliteDocumentStore
            ? new SqliteKbSearchIndex(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<IDocumentStore>())
            : new DocumentStoreKbSearchIndex(sp.GetRequiredService<KbStore>()));
        return services;
    }
}
