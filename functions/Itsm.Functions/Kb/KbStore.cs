using Itsm.Functions.Intake;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Kb;

/// <summary>
/// Where the knowledge base lives: the <c>kbArticles</c> container, partitioned by tenant, so listing, search and the
/// review sweep of a tenant stay in one partition and an article change and its audit event are one transaction.
/// Feedback and its counters sit beside the article and never touch the article's ETag.
/// </summary>
public sealed class KbStore(IDocumentStore store)
{
    public static readonly ContainerDefinition Articles = new(
        "kbArticles",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("articleId", "$.articleId", FieldType.Text),
            new("kind", "$.kind", FieldType.Text),
            new("state", "$.state", FieldType.Text),
            new("audience", "$.audience", FieldType.Text),
            new("owner", "$.owner.id", FieldType.Text),
            new("reviewAt", "$.reviewAt", FieldType.Instant),
            new("updatedAt", "$.updatedAt", FieldType.Instant),
            new("at", "$.at", FieldType.Instant),
            new("searchText", "$.searchText", FieldType.Text),
            new("tickets", "$.tickets", FieldType.TextArray),
            new("problems", "$.problems", FieldType.TextArray),
            new("cis", "$.cis", FieldType.TextArray),
        ]);

    public IDocumentStore Documents => store;

    public static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    public async Task<StoredDocument<KbArticle>?> ReadAsync(string tenantId, string articleId, CancellationToken cancellationToken)
    {
        if (!IsValidId(articleId))
        {
            return null;
        }

        var stored = await store.ReadAsync<KbArticle>(Articles, new DocumentKey(tenantId, articleId), cancellationToken);
        return stored?.Document.DocType == KbArticle.DocumentType ? stored : null;
    }

    public async Task<StoredDocument<KbArticle>> CreateAsync(KbArticle article, string actor, CancellationToken cancellationToken)
    {
        var first = KbRules.WithSearchText(article with { Revision = 1 });
        var etags = await store.ExecuteBatchAsync(Articles, article.TenantId, [new BatchOperation.Create(first.Id, first), Audit(first, "created", actor, null), .. Snapshot(first)], cancellationToken);
        return new StoredDocument<KbArticle>(new DocumentKey(article.TenantId, article.Id), first, etags[0]);
    }

    /// <summary>Writes the next revision if the article is still at <paramref name="ifMatch"/>, with its audit event; all or nothing.</summary>
    public async Task<StoredDocument<KbArticle>> UpdateAsync(KbArticle article, string ifMatch, string action, string actor, string? detail, CancellationToken cancellationToken)
    {
        var next = KbRules.WithSearchText(article with { Revision = article.Revision + 1 });
        var etags = await store.ExecuteBatchAsync(Articles, article.TenantId, [new BatchOperation.Replace(next.Id, next, ifMatch), Audit(next, action, actor, detail), .. Snapshot(next)], cancellationToken);
        return new StoredDocument<KbArticle>(new DocumentKey(article.TenantId, article.Id), next, etags[0]);
    }

    public Task<DocumentPage<KbArticle>> QueryAsync(string? tenantId, IReadOnlyList<QueryFilter> filters, QuerySort? sort, int pageSize, string? continuation, CancellationToken cancellationToken) =>
        store.QueryAsync<KbArticle>(
            Articles,
            new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, KbArticle.DocumentType), .. filters], sort, pageSize, continuation),
            cancellationToken);

    public async Task<IReadOnlyList<KbAuditEvent>> HistoryAsync(string tenantId, string articleId, CancellationToken cancellationToken)
    {
        var all = new List<KbAuditEvent>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<KbAuditEvent>(
                Articles,
                new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, KbAuditEvent.DocumentType), new QueryFilter("articleId", FilterOperator.Equals, articleId)], new QuerySort("at", false), 500, continuation),
                cancellationToken);
            all.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return [.. all.OrderBy(e => e.Revision)];
    }

    public async Task<KbArticleStats?> StatsAsync(string tenantId, string articleId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<KbArticleStats>(Articles, new DocumentKey(tenantId, KbArticleStats.IdFor(articleId)), cancellationToken))?.Document;

    /// <summary>
    /// Records one person's answer (their latest replaces an earlier one) and moves the counters in the same
    /// transaction; retried when another vote moved the counters first.
    /// </summary>
    public async Task<KbArticleStats> RecordFeedbackAsync(KbFeedback feedback, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var earlier = await store.ReadAsync<KbFeedback>(Articles, new DocumentKey(feedback.TenantId, feedback.Id), cancellationToken);
            var statsKey = new DocumentKey(feedback.TenantId, KbArticleStats.IdFor(feedback.ArticleId));
            var stats = await store.ReadAsync<KbArticleStats>(Articles, statsKey, cancellationToken);
            var counts = stats?.Document ?? new KbArticleStats(statsKey.Id, feedback.TenantId, feedback.ArticleId, 0, 0);
            if (earlier is not null)
            {
                counts = earlier.Document.Helpful ? counts with { Helpful = counts.Helpful - 1 } : counts with { NotHelpful = counts.NotHelpful - 1 };
            }

            counts = feedback.Helpful ? counts with { Helpful = counts.Helpful + 1 } : counts with { NotHelpful = counts.NotHelpful + 1 };
            BatchOperation vote = earlier is null ? new BatchOperation.Create(feedback.Id, feedback) : new BatchOperation.Replace(feedback.Id, feedback, earlier.ETag);
            BatchOperation count = stats is null ? new BatchOperation.Create(statsKey.Id, counts) : new BatchOperation.Replace(statsKey.Id, counts, stats.ETag);
            try
            {
                await store.ExecuteBatchAsync(Articles, feedback.TenantId, [vote, count], cancellationToken);
                return counts;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException && attempt < 10)
            {
                // Someone else voted in between: read again.
            }
        }
    }

    public static string FeedbackId(string articleId, string userId) => $"feedback:{articleId}:{IntakeIds.Hash(userId.ToLowerInvariant())}";

    /// <summary>Every published version's text, oldest first.</summary>
    public async Task<IReadOnlyList<KbArticleVersion>> VersionsAsync(string tenantId, string articleId, CancellationToken cancellationToken)
    {
        var versions = new List<KbArticleVersion>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<KbArticleVersion>(
                Articles,
                new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, KbArticleVersion.DocumentType), new QueryFilter("articleId", FilterOperator.Equals, articleId)], null, 200, continuation),
                cancellationToken);
            versions.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return [.. versions.OrderBy(v => v.Version)];
    }

    /// <summary>A published article's text as this version (upserted: a write that leaves it published keeps the same text).</summary>
    private static IEnumerable<BatchOperation> Snapshot(KbArticle article)
    {
        if (article.State == ArticleState.Published && article.Version > 0)
        {
            var version = KbArticleVersion.Of(article);
            yield return new BatchOperation.Upsert(version.Id, version);
        }
    }

    private static BatchOperation.Create Audit(KbArticle article, string action, string actor, string? detail)
    {
        var id = $"audit:{article.Id}:{article.Revision}";
        return new BatchOperation.Create(id, new KbAuditEvent(id, article.TenantId, article.Id, action, actor, article.UpdatedAt, article.Revision, detail));
    }
}
