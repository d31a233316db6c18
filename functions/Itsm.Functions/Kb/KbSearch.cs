using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Itsm.Functions.Kb;

/// <summary>A search hit: the article's id and a score (higher is better, only comparable within one answer).</summary>
public sealed record KbHit(string ArticleId, double Score);

/// <summary>
/// Full-text search over a tenant's published articles of the given audiences. <paramref name="matchAll"/>: every term
/// must occur (search); otherwise any term may (suggestions for a ticket being raised), the best matches first.
/// The hits are candidates: <see cref="KbService"/> reads each article and checks state and audience again.
/// </summary>
public interface IKbSearchIndex
{
    Task<IReadOnlyList<KbHit>> SearchAsync(string tenantId, IReadOnlyList<string> terms, bool matchAll, IReadOnlyList<ArticleAudience> audiences, int limit, CancellationToken cancellationToken);
}

/// <summary>
/// Standalone: an FTS5 table (<c>kb_fts</c>, unicode61 tokenizer without accents) fed by triggers on the
/// <c>kbArticles</c> table, so the index changes in the same transaction as the article and is never stale. It holds
/// published articles only; ranking is BM25 with the title weighted five times the rest; terms match as prefixes.
/// </summary>
public sealed class SqliteKbSearchIndex(SqliteDatabase database, IDocumentStore store) : IKbSearchIndex
{
    private const string Table = "\"doc_kbArticles\"";
    private static string Indexed(string row) => $"json_extract({row}.body, '$.docType') = 'article' AND json_extract({row}.body, '$.state') = 'Published'";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _ready;

    public async Task<IReadOnlyList<KbHit>> SearchAsync(string tenantId, IReadOnlyList<string> terms, bool matchAll, IReadOnlyList<ArticleAudience> audiences, int limit, CancellationToken cancellationToken)
    {
        if (terms.Count == 0)
        {
            return [];
        }

        await EnsureAsync(cancellationToken);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: true);
        SqliteDatabase.LoadCurrentSchema(connection, transaction);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;

        // Terms are folded to letters and digits, so quoting them makes a safe FTS5 query.
        var match = string.Join(matchAll ? " AND " : " OR ", terms.Select(t => $"\"{t}\"*"));
        var audienceList = string.Join(", ", audiences.Select((_, i) => $"$a{i}"));
        command.CommandText = $"""
            SELECT d.id, bm25(kb_fts, 5.0, 1.0) FROM kb_fts JOIN {Table} d ON d.seq = kb_fts.rowid
            WHERE kb_fts MATCH $match AND d.pk = $tenant AND json_extract(d.body, '$.audience') IN ({audienceList})
            ORDER BY bm25(kb_fts, 5.0, 1.0), d.id LIMIT $limit
            """;
        command.Parameters.AddWithValue("$match", match);
        command.Parameters.AddWithValue("$tenant", tenantId);
        command.Parameters.AddWithValue("$limit", limit);
        for (var i = 0; i < audiences.Count; i++)
        {
            command.Parameters.AddWithValue($"$a{i}", audiences[i].ToString());
        }

        var hits = new List<KbHit>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            // bm25() is lower for better matches.
            hits.Add(new KbHit(reader.GetString(0), -reader.GetDouble(1)));
        }

        return hits;
    }

    private async Task EnsureAsync(CancellationToken cancellationToken)
    {
        if (_ready)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_ready)
            {
                return;
            }

            // The document store creates the article table on first use; the index and its triggers follow it.
            await store.QueryAsync<KbArticle>(KbStore.Articles, new DocumentQuery("-", [], null, 1), cancellationToken);
            string Values(string row) => $"{row}.seq, json_extract({row}.body, '$.title'), json_extract({row}.body, '$.searchText')";
            await using var connection = await database.OpenAsync(cancellationToken);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            SqliteDatabase.Execute(connection, $"""
                CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(title, content, tokenize = 'unicode61 remove_diacritics 2');
                DROP TRIGGER IF EXISTS kb_fts_ai;
                DROP TRIGGER IF EXISTS kb_fts_au;
                DROP TRIGGER IF EXISTS kb_fts_ad;
                CREATE TRIGGER kb_fts_ai AFTER INSERT ON {Table} WHEN {Indexed("NEW")} BEGIN
                    INSERT INTO kb_fts (rowid, title, content) VALUES ({Values("NEW")});
                END;
                CREATE TRIGGER kb_fts_au AFTER UPDATE OF body ON {Table} BEGIN
                    DELETE FROM kb_fts WHERE rowid = OLD.seq;
                    INSERT INTO kb_fts (rowid, title, content) SELECT {Values("NEW")} WHERE {Indexed("NEW")};
                END;
                CREATE TRIGGER kb_fts_ad AFTER DELETE ON {Table} BEGIN
                    DELETE FROM kb_fts WHERE rowid = OLD.seq;
                END;
                DELETE FROM kb_fts;
                INSERT INTO kb_fts (rowid, title, content) SELECT {Values("d")} FROM {Table} d WHERE {Indexed("d")};
                """, transaction);
            await transaction.CommitAsync(cancellationToken);
            _ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }
}

/// <summary>
/// Cosmos DB (and any other document store): the port's filters over the article's folded <c>searchText</c>, which the
/// Cosmos adapter turns into <c>CONTAINS(c.searchText, @term, true)</c> inside the tenant's partition. Search needs every
/// term (one query, all terms as filters); suggestions run one query per term and rank by how many terms an article
/// has and how often, title hits counting five times. No stemming and no BM25: see docs/kb.md.
/// </summary>
public sealed class DocumentStoreKbSearchIndex(KbStore store) : IKbSearchIndex
{
    public async Task<IReadOnlyList<KbHit>> SearchAsync(string tenantId, IReadOnlyList<string> terms, bool matchAll, IReadOnlyList<ArticleAudience> audiences, int limit, CancellationToken cancellationToken)
    {
        if (terms.Count == 0)
        {
            return [];
        }

        List<QueryFilter> common =
        [
            new("state", FilterOperator.Equals, nameof(ArticleState.Published)),
            new("audience", FilterOperator.In, audiences.Select(a => a.ToString()).ToArray()),
        ];
        var found = new Dictionary<string, KbArticle>(StringComparer.Ordinal);
        IEnumerable<IReadOnlyList<QueryFilter>> queries = matchAll
            ? [[.. common, .. terms.Select(t => new QueryFilter("searchText", FilterOperator.Contains, t))]]
            : terms.Select(t => (IReadOnlyList<QueryFilter>)[.. common, new QueryFilter("searchText", FilterOperator.Contains, t)]);
        foreach (var filters in queries)
        {
            var page = await store.QueryAsync(tenantId, filters, new QuerySort("updatedAt", Descending: true), 200, null, cancellationToken);
            foreach (var item in page.Items)
            {
                found.TryAdd(item.Document.Id, item.Document);
            }
        }

        return found.Values
            .Select(a => new KbHit(a.Id, Score(a, terms)))
            .OrderByDescending(h => h.Score)
            .ThenBy(h => h.ArticleId, StringComparer.Ordinal)
            .Take(limit)
            .ToList();
    }

    private static double Score(KbArticle article, IReadOnlyList<string> terms)
    {
        var title = " " + KbRules.Fold(article.Title) + " ";
        var text = " " + article.SearchText + " ";
        double score = 0;
        foreach (var term in terms)
        {
            var inText = Count(text, " " + term);
            var inTitle = Count(title, " " + term);
            score += inText + inTitle * 5 + (inText + inTitle > 0 ? 10 : 0);
        }

        return score;
    }

    private static int Count(string text, string word)
    {
        var count = 0;
        for (var at = text.IndexOf(word, StringComparison.Ordinal); at >= 0; at = text.IndexOf(word, at + word.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
