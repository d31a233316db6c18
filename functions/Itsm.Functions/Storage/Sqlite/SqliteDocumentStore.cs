using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using static Itsm.Functions.Storage.DocumentStoreSupport;

namespace Itsm.Functions.Storage.Sqlite;

/// <summary>
/// The document-store port on the embedded SQLite database. One table <c>doc_{container}</c> per container
/// (created on first use with idempotent DDL): the composed partition key, for hierarchical containers its first
/// level, the id, the ETag, the JSON document, and one virtual generated column per declared field
/// (<c>json_extract</c>) with an index on (partition, field, id), or for a hierarchical container on (first level,
/// field, id, partition) only (a full partition is small and read through (partition, id)).
/// TextArray fields are kept in a side table <c>doc_{container}__arr</c> (field, value, partition, document),
/// maintained by triggers in the writing transaction, so ArrayContains is an index lookup.
/// Writes run in <c>BEGIN IMMEDIATE</c> transactions; queries use keyset pagination.
/// </summary>
public sealed class SqliteDocumentStore : IDocumentStore
{
    /// <summary>At most this many operations in one batch (the Cosmos limit, so both adapters agree).</summary>
    public const int MaxBatchOperations = 100;

    private readonly SqliteDatabase _database;
    /// <summary>Writes between two refreshes of the query planner's statistics.</summary>
    public const int WritesBetweenStatisticsRefresh = 20_000;

    private readonly ConcurrentDictionary<string, ContainerDefinition> _ensured = new(StringComparer.Ordinal);
    private readonly Lock _schemaGate = new();
    private int _writesSinceStatistics;
    private int _refreshingStatistics;

    public SqliteDocumentStore(SqliteDatabase database)
    {
        _database = database;
    }

    public async Task<StoredDocument<T>?> ReadAsync<T>(ContainerDefinition container, DocumentKey key, CancellationToken cancellationToken = default)
    {
        Ensure(container);
        FullLevels(container, key.PartitionKey);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT etag, body FROM {Table(container)} WHERE pk = $pk AND id = $id";
        command.Parameters.AddWithValue("$pk", key.PartitionKey);
        command.Parameters.AddWithValue("$id", key.Id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredDocument<T>(key, Deserialize<T>(reader.GetString(1)), reader.GetString(0));
    }

    public async Task<StoredDocument<T>> CreateAsync<T>(ContainerDefinition container, DocumentKey key, T document, CancellationToken cancellationToken = default)
    {
        var json = ToJsonObject(container, key, document, typeof(T)).ToJsonString(Json);
        var etag = await WriteAsync(container, key.PartitionKey, [new Write(WriteKind.Create, key.Id, json, null)], cancellationToken);
        return new StoredDocument<T>(key, Deserialize<T>(json), etag[0]);
    }

    public async Task<StoredDocument<T>> ReplaceAsync<T>(ContainerDefinition container, DocumentKey key, T document, string ifMatch, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(ifMatch);
        var json = ToJsonObject(container, key, document, typeof(T)).ToJsonString(Json);
        var etag = await WriteAsync(container, key.PartitionKey, [new Write(WriteKind.Replace, key.Id, json, ifMatch)], cancellationToken);
        return new StoredDocument<T>(key, Deserialize<T>(json), etag[0]);
    }

    public async Task<bool> DeleteAsync(ContainerDefinition container, DocumentKey key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        ValidateId(key.Id);
        try
        {
            await WriteAsync(container, key.PartitionKey, [new Write(WriteKind.Delete, key.Id, null, ifMatch)], cancellationToken);
            return true;
        }
        catch (DocumentNotFoundException)
        {
            return false;
        }
    }

    public async Task<IReadOnlyList<string>> ExecuteBatchAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken = default)
    {
        return await WriteAsync(container, partitionKey, ToWrites(container, partitionKey, operations), cancellationToken);
    }

    private static List<Write> ToWrites(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations)
    {
        if (operations.Count > MaxBatchOperations)
        {
            throw new ArgumentException($"A batch holds at most {MaxBatchOperations} operations.", nameof(operations));
        }

        return operations.Select(operation =>
        {
            var key = new DocumentKey(partitionKey, operation.Id);
            return operation switch
            {
                BatchOperation.Create c => new Write(WriteKind.Create, c.Id, Serialize(container, key, c.Document), null),
                BatchOperation.Replace r => new Write(WriteKind.Replace, r.Id, Serialize(container, key, r.Document), r.IfMatch),
                BatchOperation.Upsert u => new Write(WriteKind.Upsert, u.Id, Serialize(container, key, u.Document), null),
                BatchOperation.Delete d => new Write(WriteKind.Delete, d.Id, null, d.IfMatch),
                _ => throw new ArgumentException($"Unknown batch operation {operation.GetType().Name}.", nameof(operations)),
            };
        }).ToList();
    }

    private static string Serialize(ContainerDefinition container, DocumentKey key, object document) =>
        ToJsonObject(container, key, document, document.GetType()).ToJsonString(Json);

    /// <summary>Sees the SQL of each list query before it runs (tests check which plan was chosen).</summary>
    internal Action<string>? QueryIssued { get; set; }

    public async Task<DocumentPage<T>> QueryAsync<T>(ContainerDefinition container, DocumentQuery query, CancellationToken cancellationToken = default)
    {
        Ensure(container);
        ValidateQuery(container, query);
        var fingerprint = Fingerprint(container, query);
        var table = Table(container);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = query.Filters.Any(f => f.Operator == FilterOperator.Contains && UsesTextIndex(container.Field(f.Field), f.Value))
            ? connection.BeginTransaction(deferred: true)
            : null;
        if (transaction is not null)
        {
            SqliteDatabase.LoadCurrentSchema(connection, transaction);
        }

        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var where = new List<string>();
        var parameters = 0;
        string Parameter(object? value)
        {
            var name = "$p" + parameters++.ToString(CultureInfo.InvariantCulture);
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            return name;
        }

        string? partitionCondition = null;
        var tenantScope = false;
        if (query.PartitionKey is { } partitionKey)
        {
            var (_, isPrefix) = QueryLevels(container, partitionKey);
            partitionCondition = isPrefix ? $"pk1 = {Parameter(partitionKey)}" : $"pk = {Parameter(partitionKey)}";
            where.Add("t." + partitionCondition);
            tenantScope = isPrefix || !IsHierarchical(container);
        }

        var filters = new List<(QueryFilter Filter, IndexedField Field, List<object?> Values)>();
        var textDrives = new HashSet<QueryFilter>(ReferenceEqualityComparer.Instance);
        foreach (var filter in query.Filters)
        {
            var field = container.Field(filter.Field);
            var values = FilterValues(field, filter).Select(v => ToSqlValue(field, v)).ToList();
            filters.Add((filter, field, values));
            if (filter.Operator == FilterOperator.Contains && UsesTextIndex(field, values[0]))
            {
                var use = await TextIndexUseAsync(connection, transaction, container, FullTextMatch(field, (string)values[0]!), cancellationToken);
                if (use == TextIndexUse.NoMatch)
                {
                    return new DocumentPage<T>([], null);
                }

                if (use == TextIndexUse.Drive)
                {
                    textDrives.Add(filter);
                }
            }
        }

        // A few text hits already make a small set to start from; otherwise the filters' own counts choose the plan.
        var plan = tenantScope && textDrives.Count == 0
            ? await ChoosePlanAsync(connection, transaction, container, query.PartitionKey!, query.Sort, filters, cancellationToken)
            : FilterPlan.Planner;
        if (plan.NoMatch)
        {
            return new DocumentPage<T>([], null);
        }

        foreach (var (filter, field, values) in filters)
        {
            var column = $"t.{Column(field)}";
            where.Add(filter.Operator switch
            {
                FilterOperator.Equals when values[0] is null => $"{column} IS NULL",
                FilterOperator.NotEquals when values[0] is null => $"{column} IS NOT NULL",
                FilterOperator.Equals => $"{column} = {Parameter(values[0])}",
                FilterOperator.NotEquals => $"{column} <> {Parameter(values[0])}",
                FilterOperator.LessThan => $"{column} < {Parameter(values[0])}",
                FilterOperator.LessThanOrEqual => $"{column} <= {Parameter(values[0])}",
                FilterOperator.GreaterThan => $"{column} > {Parameter(values[0])}",
                FilterOperator.GreaterThanOrEqual => $"{column} >= {Parameter(values[0])}",
                FilterOperator.In => $"{column} IN ({string.Join(", ", values.Select(Parameter))})",
                FilterOperator.Contains when textDrives.Contains(filter) =>
                    $"t.seq IN (SELECT rowid FROM {FullTextTable(container)} WHERE {FullTextTable(container)} MATCH {Parameter(FullTextMatch(field, (string)values[0]!))}) "
                    + $"AND instr(itsm_fold({column}), itsm_fold({Parameter(values[0])})) > 0",
                FilterOperator.Contains => $"instr(itsm_fold({column}), itsm_fold({Parameter(values[0])})) > 0",

                // Tested row by row while walking the sort order: a common value's matches would otherwise all be
                // collected and sorted first (docs/benchmarks.md, "List at 1,000,000 tickets").
                FilterOperator.ArrayContains when plan.Walk =>
                    $"EXISTS (SELECT 1 FROM {ArrayTable(container)} a WHERE a.field = {Parameter(field.Name)} AND a.value = {Parameter(values[0])} AND a.pk = t.pk AND a.doc = t.seq)",
                FilterOperator.ArrayContains =>
                    $"t.seq IN (SELECT a.doc FROM {ArrayTable(container)} a WHERE a.field = {Parameter(field.Name)} AND a.value = {Parameter(values[0])}"
                    + (partitionCondition is null ? ")" : $" AND a.{partitionCondition})"),
                _ => throw new ArgumentException($"Unknown operator {filter.Operator}.", nameof(query)),
            });
        }

        var sortField = query.Sort is { } sort ? container.Field(sort.Field) : null;
        var descending = query.Sort?.Descending == true;
        var comparison = descending ? "<" : ">";
        var direction = descending ? "DESC" : "ASC";
        var sortColumn = sortField is null ? "NULL" : $"t.{Column(sortField)}";
        if (query.ContinuationToken is { } token)
        {
            var position = UnwrapToken(fingerprint, token);
            var (lastValue, lastId, lastPk) = ReadPosition(position);
            var tail = $"(t.id, t.pk) {comparison} ({Parameter(lastId)}, {Parameter(lastPk)})";
            if (sortField is null)
            {
                where.Add(tail);
            }
            else if (lastValue is null)
            {
                // NULLs sort first ascending, last descending.
                where.Add(descending ? $"({sortColumn} IS NULL AND {tail})" : $"(({sortColumn} IS NULL AND {tail}) OR {sortColumn} IS NOT NULL)");
            }
            else
            {
                var after = $"({sortColumn}, t.id, t.pk) {comparison} ({Parameter(lastValue)}, {Parameter(lastId)}, {Parameter(lastPk)})";
                where.Add(descending ? $"({after} OR {sortColumn} IS NULL)" : after);
            }
        }

        var sql = new StringBuilder($"SELECT t.pk, t.id, t.etag, t.body, {sortColumn} FROM {table} t");
        if (plan.DriveIndex is { } driveIndex)
        {
            sql.Append(driveIndex.Length == 0 ? " NOT INDEXED" : $" INDEXED BY \"{driveIndex}\"");
        }

        if (where.Count > 0)
        {
            sql.Append(" WHERE ").AppendJoin(" AND ", where);
        }

        sql.Append(" ORDER BY ");
        if (sortField is not null)
        {
            sql.Append(sortColumn).Append(' ').Append(direction).Append(", ");
        }

        sql.Append($"t.id {direction}, t.pk {direction} LIMIT {Parameter(query.PageSize + 1)}");
        command.CommandText = sql.ToString();
        QueryIssued?.Invoke(command.CommandText);

        var items = new List<StoredDocument<T>>();
        object? lastSort = null;
        var more = false;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                if (items.Count == query.PageSize)
                {
                    more = true;
                    break;
                }

                items.Add(new StoredDocument<T>(new DocumentKey(reader.GetString(0), reader.GetString(1)), Deserialize<T>(reader.GetString(3)), reader.GetString(2)));
                lastSort = reader.IsDBNull(4) ? null : reader.GetValue(4);
            }
        }

        if (!more)
        {
            return new DocumentPage<T>(items, null);
        }

        var last = items[^1].Key;
        return new DocumentPage<T>(items, WrapToken(fingerprint, WritePosition(lastSort, last.Id, last.PartitionKey)));
    }

    private static JsonObject WritePosition(object? sortValue, string id, string partitionKey) => new()
    {
        ["k"] = sortValue switch { null => "n", long => "i", double => "r", _ => "s" },
        ["v"] = sortValue switch
        {
            null => null,
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            _ => JsonValue.Create(Convert.ToString(sortValue, CultureInfo.InvariantCulture)),
        },
        ["id"] = id,
        ["pk"] = partitionKey,
    };

    private static (object? Value, string Id, string PartitionKey) ReadPosition(JsonObject position)
    {
        try
        {
            var kind = position["k"]!.GetValue<string>();
            object? value = kind switch
            {
                "n" => null,
                "i" => position["v"]!.GetValue<long>(),
                "r" => position["v"]!.GetValue<double>(),
                "s" => position["v"]!.GetValue<string>(),
                _ => throw new InvalidContinuationTokenException("The continuation token is malformed."),
            };
            return (value, position["id"]!.GetValue<string>(), position["pk"]!.GetValue<string>());
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new InvalidContinuationTokenException("The continuation token is malformed.");
        }
    }

    private static object? ToSqlValue(IndexedField field, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => 1L,
        JsonValueKind.False => 0L,
        JsonValueKind.Number => value.TryGetInt64(out var l) ? l : value.GetDouble(),
        JsonValueKind.String when field.Type == FieldType.Instant => EpochMilliseconds(DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture)),
        JsonValueKind.String => value.GetString(),
        _ => throw new ArgumentException($"Unsupported filter value {value.GetRawText()}.", nameof(value)),
    };

    /// <summary>Milliseconds since the Unix epoch, rounded like SQLite's <c>unixepoch(..., 'subsec')</c> parses.</summary>
    private static long EpochMilliseconds(DateTimeOffset instant)
    {
        var ticks = instant.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return (long)Math.Round(ticks / (double)TimeSpan.TicksPerMillisecond, MidpointRounding.AwayFromZero);
    }

    private enum WriteKind
    {
        Create,
        Replace,
        Upsert,
        Delete,
    }

    private sealed record Write(WriteKind Kind, string Id, string? Json, string? IfMatch);

    private async Task<IReadOnlyList<string>> WriteAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<Write> writes, CancellationToken cancellationToken)
    {
        Ensure(container);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = connection.BeginTransaction(deferred: false);
        SqliteDatabase.LoadCurrentSchema(connection, transaction);
        var etags = await WriteInAsync(connection, transaction, container, partitionKey, writes, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        CountWrites(writes.Count);
        return etags;
    }

    /// <summary>All the batches in one write transaction: a document failure rolls back its own batch only.</summary>
    public async Task<IReadOnlyList<BatchResult>> ExecuteBatchesAsync(ContainerDefinition container, IReadOnlyList<PartitionBatch> batches, CancellationToken cancellationToken = default)
    {
        Ensure(container);
        var writes = batches.Select(batch => ToWrites(container, batch.PartitionKey, batch.Operations)).ToList();
        await using var connection = await OpenAsync(cancellationToken);

        // Thousands of documents, each entered in every index of its table, touch far more pages than a connection's
        // default cache holds (2 MB): SQLite spilled dirty pages to the WAL mid-transaction and wrote them again each
        // time they changed. And each savepoint keeps the pages it changes in a journal of its own, a temporary file by
        // default. Together: 12 GB written for a 120 MB import of 10,000 CIs. With a cache for the whole transaction and
        // the savepoint journals in memory, each page reaches the WAL once. The connection goes back to the defaults
        // afterwards (pooled connections keep their settings).
        SqliteDatabase.Execute(connection, $"PRAGMA cache_size = -{BulkWriteCacheKiB}; PRAGMA temp_store = MEMORY;");
        try
        {
            return await WriteBatchesAsync(connection, container, batches, writes, cancellationToken);
        }
        finally
        {
            SqliteDatabase.Execute(connection, "PRAGMA cache_size = -2000; PRAGMA temp_store = DEFAULT;");
        }
    }

    /// <summary>The page cache, in KiB, of the connection that writes many batches in one transaction.</summary>
    public const int BulkWriteCacheKiB = 256 * 1024;

    /// <summary>
    /// Most batches of a bulk write succeed, and a savepoint copies every page its batch changes before changing it, so
    /// the batches are first applied without savepoints; only when one of them fails is that transaction rolled back
    /// and the batches applied again, each under a savepoint of its own.
    /// </summary>
    private async Task<IReadOnlyList<BatchResult>> WriteBatchesAsync(SqliteConnection connection, ContainerDefinition container, IReadOnlyList<PartitionBatch> batches, List<List<Write>> writes, CancellationToken cancellationToken)
    {
        for (var savepoints = false; ; savepoints = true)
        {
            await using var transaction = connection.BeginTransaction(deferred: false);
            SqliteDatabase.LoadCurrentSchema(connection, transaction);
            var results = new List<BatchResult>(batches.Count);
            for (var i = 0; i < batches.Count && results.Count == i; i++)
            {
                if (savepoints)
                {
                    transaction.Save("batch");
                }

                try
                {
                    results.Add(new BatchResult(await WriteInAsync(connection, transaction, container, batches[i].PartitionKey, writes[i], cancellationToken), null));
                }
                catch (DocumentStoreException failure) when (savepoints && BatchResult.IsDocumentFailure(failure))
                {
                    transaction.Rollback("batch");
                    results.Add(new BatchResult([], failure));
                }
                catch (DocumentStoreException failure) when (BatchResult.IsDocumentFailure(failure))
                {
                    // Stops the loop: results.Count stays at i.
                }

                if (savepoints)
                {
                    transaction.Release("batch");
                }
            }

            if (results.Count < batches.Count)
            {
                await transaction.RollbackAsync(cancellationToken);
                continue;
            }

            await transaction.CommitAsync(cancellationToken);
            CountWrites(writes.Sum(w => w.Count));
            return results;
        }
    }

    private void CountWrites(int count)
    {
        if (Interlocked.Add(ref _writesSinceStatistics, count) >= WritesBetweenStatisticsRefresh)
        {
            Interlocked.Exchange(ref _writesSinceStatistics, 0);
            _ = Task.Run(RefreshStatistics, CancellationToken.None);
        }
    }

    private async Task<List<string>> WriteInAsync(SqliteConnection connection, SqliteTransaction transaction, ContainerDefinition container, string partitionKey, IReadOnlyList<Write> writes, CancellationToken cancellationToken)
    {
        var levels = FullLevels(container, partitionKey);
        foreach (var write in writes)
        {
            ValidateId(write.Id);
        }

        var table = Table(container);
        var hierarchical = IsHierarchical(container);
        var etags = new List<string>(writes.Count);
        foreach (var write in writes)
        {
            var key = new DocumentKey(partitionKey, write.Id);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$pk", partitionKey);
            command.Parameters.AddWithValue("$id", write.Id);
            var etag = NewETag();
            command.Parameters.AddWithValue("$etag", etag);
            if (write.Json is not null)
            {
                command.Parameters.AddWithValue("$body", write.Json);
            }

            if (write.IfMatch is not null)
            {
                command.Parameters.AddWithValue("$ifMatch", write.IfMatch);
            }

            var insert = hierarchical
                ? $"INSERT INTO {table} (pk, pk1, id, etag, body) VALUES ($pk, $pk1, $id, $etag, $body)"
                : $"INSERT INTO {table} (pk, id, etag, body) VALUES ($pk, $id, $etag, $body)";
            if (hierarchical)
            {
                command.Parameters.AddWithValue("$pk1", levels[0]);
            }

            command.CommandText = write.Kind switch
            {
                WriteKind.Create => insert + " ON CONFLICT (pk, id) DO NOTHING",
                WriteKind.Upsert => insert + " ON CONFLICT (pk, id) DO UPDATE SET etag = excluded.etag, body = excluded.body",
                WriteKind.Replace => $"UPDATE {table} SET etag = $etag, body = $body WHERE pk = $pk AND id = $id AND etag = $ifMatch",
                WriteKind.Delete when write.IfMatch is null => $"DELETE FROM {table} WHERE pk = $pk AND id = $id",
                WriteKind.Delete => $"DELETE FROM {table} WHERE pk = $pk AND id = $id AND etag = $ifMatch",
                _ => throw new InvalidOperationException(),
            };
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                if (write.Kind == WriteKind.Create)
                {
                    throw new DocumentConflictException(key);
                }

                command.CommandText = $"SELECT 1 FROM {table} WHERE pk = $pk AND id = $id";
                var exists = await command.ExecuteScalarAsync(cancellationToken) is not null;
                throw exists ? new PreconditionFailedException(key) : new DocumentNotFoundException(key);
            }

            etags.Add(etag);
        }

        return etags;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = await _database.OpenAsync(cancellationToken);
        connection.CreateFunction("itsm_fold", (string? value) => value?.ToLowerInvariant(), isDeterministic: true);
        return connection;
    }

    private static string Table(ContainerDefinition container) => $"\"doc_{container.Name}\"";

    private static string ArrayTable(ContainerDefinition container) => $"\"doc_{container.Name}__arr\"";

    private static string Column(IndexedField field) => $"\"f_{field.Name}\"";

    private static string FullTextTable(ContainerDefinition container) => $"\"doc_{container.Name}__fts\"";

    /// <summary>
    /// Whether a Contains filter can be answered from the trigram index with the same result as the scan: the index
    /// finds substrings of three characters or more, and its case folding agrees with <c>itsm_fold</c> for ASCII.
    /// The scan's test stays in the query as well, so the index only narrows the candidates.
    /// </summary>
    private static bool UsesTextIndex(IndexedField field, object? value) =>
        field.FullText && value is string { Length: >= 3 } text && text.All(char.IsAscii) && !text.Any(char.IsControl);

    /// <summary>
    /// Below this many matches a text search or a filter is the small side: the query starts from its matches and sorts
    /// them. At or above it, walking the sort order and testing each document finds a page sooner.
    /// </summary>
    public const int DriveLimit = 2_000;

    private enum TextIndexUse
    {
        None,
        NoMatch,
        Drive,
        Walk,
    }

    /// <summary>
    /// How to use the text index for one search, from a bounded count of its hits (all tenants): none means no document
    /// can match (the index finds a superset of the matches), so the answer is an empty page without reading anything;
    /// a few means starting from them and sorting them; many means the matches are common, so walking the sort order
    /// and testing each document finds a page sooner than sorting thousands of hits.
    /// </summary>
    private static async Task<TextIndexUse> TextIndexUseAsync(SqliteConnection connection, SqliteTransaction? transaction, ContainerDefinition container, string match, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT count(*) FROM (SELECT rowid FROM {FullTextTable(container)} WHERE {FullTextTable(container)} MATCH $match LIMIT {DriveLimit})";
        command.Parameters.AddWithValue("$match", match);
        var hits = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
        return hits == 0 ? TextIndexUse.NoMatch : hits < DriveLimit ? TextIndexUse.Drive : TextIndexUse.Walk;
    }

    /// <summary>
    /// How a tenant-wide query with equality filters reads. <see cref="NoMatch"/>: a filter has no match, so the page is
    /// empty. <see cref="DriveIndex"/>: start from the matches of the filter with the fewest, through this index ("" for
    /// an array filter: from the document ids it lists). <see cref="Walk"/>: every filter matches many, so walk the sort
    /// order and test each document. <see cref="Planner"/>: nothing to choose between, SQLite's planner decides.
    /// </summary>
    private sealed record FilterPlan(bool NoMatch, string? DriveIndex, bool Walk)
    {
        public static readonly FilterPlan Planner = new(false, null, false);
    }

    /// <summary>
    /// Chooses between starting from a filter's matches and walking the sort order, from a bounded count of each equality
    /// filter's matches (an index-only read of at most <see cref="DriveLimit"/> entries each). SQLite's statistics only
    /// hold a field's average number of rows per value, so alone it takes a rare value for a common one: it walked a
    /// whole tenant in the sort order for a combination with no match, and sorted all tickets of the most used CI to
    /// give one page (docs/benchmarks.md, "List at 1,000,000 tickets"). A count is an upper bound on the query's
    /// matches, so zero means none and a small one bounds the sort.
    /// </summary>
    private static async Task<FilterPlan> ChoosePlanAsync(
        SqliteConnection connection,
        SqliteTransaction? transaction,
        ContainerDefinition container,
        string scope,
        QuerySort? sort,
        IReadOnlyList<(QueryFilter Filter, IndexedField Field, List<object?> Values)> filters,
        CancellationToken cancellationToken)
    {
        var candidates = filters
            .Where(f => f.Filter.Operator is FilterOperator.In or FilterOperator.ArrayContains
                || (f.Filter.Operator == FilterOperator.Equals && f.Values[0] is not null))
            .ToList();
        if (candidates.Count < 2)
        {
            return FilterPlan.Planner;
        }

        var hierarchical = IsHierarchical(container);
        var scopeColumn = hierarchical ? "pk1" : "pk";
        var fewest = long.MaxValue;
        var smallest = candidates[0];
        foreach (var candidate in candidates)
        {
            var (filter, field, values) = candidate;
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.Parameters.AddWithValue("$scope", scope);
            string matches;
            if (filter.Operator == FilterOperator.ArrayContains)
            {
                command.Parameters.AddWithValue("$field", field.Name);
                command.Parameters.AddWithValue("$value", values[0]);
                matches = $"SELECT 1 FROM {ArrayTable(container)} WHERE field = $field AND value = $value AND {scopeColumn} = $scope";
            }
            else
            {
                var names = new List<string>(values.Count);
                foreach (var value in values)
                {
                    names.Add("$v" + names.Count.ToString(CultureInfo.InvariantCulture));
                    command.Parameters.AddWithValue(names[^1], value ?? DBNull.Value);
                }

                matches = $"SELECT 1 FROM {Table(container)} WHERE {scopeColumn} = $scope AND {Column(field)} IN ({string.Join(", ", names)})";
            }

            command.CommandText = $"SELECT count(*) FROM ({matches} LIMIT {DriveLimit})";
            var count = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            if (count == 0)
            {
                return new FilterPlan(true, null, false);
            }

            if (count < fewest)
            {
                (fewest, smallest) = (count, candidate);
            }
        }

        if (fewest >= DriveLimit)
        {
            return new FilterPlan(false, null, true);
        }

        var (drive, driveField, driveValues) = smallest;
        if (drive.Operator == FilterOperator.ArrayContains)
        {
            return new FilterPlan(false, string.Empty, false);
        }

        // One value of a field with a filter-then-sort index on the sort field: that index gives the matches in order.
        var suffix = hierarchical ? "_l1" : string.Empty;
        var sorted = sort is not null && driveValues.Count == 1
            && container.SortedIndexes.Any(i => i.Count == 2 && i[0] == driveField.Name && i[1] == sort.Field);
        return new FilterPlan(false, sorted ? $"ix_{container.Name}_{driveField.Name}_{sort!.Field}{suffix}" : $"ix_{container.Name}_{driveField.Name}{suffix}", false);
    }

    /// <summary>An FTS5 query for the substring in one column: a quoted phrase (quotes doubled), which trigram matches anywhere.</summary>
    private static string FullTextMatch(IndexedField field, string text) => $"{{f_{field.Name}}} : \"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>Creates the container's table, columns, indexes and triggers once per store (idempotent DDL).</summary>
    private void Ensure(ContainerDefinition container)
    {
        if (_ensured.TryGetValue(container.Name, out var known))
        {
            if (!SameDefinition(known, container))
            {
                throw new ArgumentException($"Container '{container.Name}' is used with two different definitions.", nameof(container));
            }

            return;
        }

        ValidateContainer(container);
        lock (_schemaGate)
        {
            if (_ensured.ContainsKey(container.Name))
            {
                Ensure(container);
                return;
            }

            using var connection = _database.Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            CreateSchema(connection, transaction, container);
            transaction.Commit();
            _ensured[container.Name] = container;
        }

        RefreshStatistics();
    }

    /// <summary>
    /// Keeps the query planner's statistics current. Without them SQLite walks the sort index of a whole
    /// tenant for selective filters (seconds at 250,000 tickets instead of milliseconds, see
    /// docs/benchmarks.md). <c>optimize=0x10002</c> runs a full ANALYZE only on tables that were never analysed
    /// or whose size changed about tenfold since, so the cost stays amortised. (A sampled ANALYZE with
    /// <c>analysis_limit</c> was tried and produced statistics too coarse to change any plan.)
    /// </summary>
    private void RefreshStatistics()
    {
        if (Interlocked.Exchange(ref _refreshingStatistics, 1) == 1)
        {
            return;
        }

        try
        {
            using var connection = _database.Open();
            SqliteDatabase.Execute(connection, "PRAGMA optimize=0x10002;");
        }
        catch (SqliteException)
        {
            // Statistics are an optimisation: a busy or read-only database answers the same queries, only slower.
        }
        finally
        {
            Volatile.Write(ref _refreshingStatistics, 0);
        }
    }

    private static bool SameDefinition(ContainerDefinition a, ContainerDefinition b) =>
        a.PartitionKeyPaths.SequenceEqual(b.PartitionKeyPaths, StringComparer.Ordinal) && a.Fields.SequenceEqual(b.Fields)
        && a.SortedIndexes.Count == b.SortedIndexes.Count && a.SortedIndexes.Zip(b.SortedIndexes).All(p => p.First.SequenceEqual(p.Second, StringComparer.Ordinal));

    private static void CreateSchema(SqliteConnection connection, SqliteTransaction transaction, ContainerDefinition container)
    {
        var name = container.Name;
        var table = Table(container);
        var arrays = ArrayTable(container);
        var hierarchical = IsHierarchical(container);
        var ddl = new StringBuilder();
        ddl.Append($"""
            CREATE TABLE IF NOT EXISTS {table} (
                seq INTEGER PRIMARY KEY,
                pk TEXT NOT NULL,
                {(hierarchical ? "pk1 TEXT NOT NULL," : string.Empty)}
                id TEXT NOT NULL,
                etag TEXT NOT NULL,
                body TEXT NOT NULL CHECK (json_valid(body)),
                UNIQUE (pk, id));
            CREATE TABLE IF NOT EXISTS {arrays} (
                field TEXT NOT NULL,
                value TEXT NOT NULL,
                pk1 TEXT NOT NULL,
                pk TEXT NOT NULL,
                doc INTEGER NOT NULL,
                PRIMARY KEY (field, value, pk, doc)) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS "ix_{name}__arr_doc" ON {arrays} (doc);
            """);
        if (hierarchical)
        {
            ddl.Append($"""
                CREATE INDEX IF NOT EXISTS "ix_{name}__l1" ON {table} (pk1, id, pk);
                CREATE INDEX IF NOT EXISTS "ix_{name}__arr_l1" ON {arrays} (field, value, pk1);
                """);
        }

        SqliteDatabase.Execute(connection, ddl.ToString(), transaction);

        var existing = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"SELECT name FROM pragma_table_xinfo('doc_{name}')";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                existing.Add(reader.GetString(0));
            }
        }

        ddl.Clear();
        foreach (var field in container.Fields.Where(f => f.Type != FieldType.TextArray))
        {
            var column = Column(field);
            if (!existing.Contains("f_" + field.Name))
            {
                var extract = $"json_extract(body, '{field.JsonPath}')";
                var expression = field.Type == FieldType.Instant
                    ? $"CAST(round(unixepoch({extract}, 'subsec') * 1000) AS INTEGER)"
                    : extract;
                ddl.Append($"ALTER TABLE {table} ADD COLUMN {column} ANY GENERATED ALWAYS AS ({expression}) VIRTUAL;\n");
            }

            if (hierarchical)
            {
                // A full partition of a hierarchical container is one record and its own documents (a ticket or a CI,
                // its audit events, comments, relationship copies): its queries read it through (pk, id) and filter or
                // sort the few rows. Indexes per field inside the partition would cost every write of every document
                // an entry each (most of them NULL) for no faster read; they were there until the CMDB import showed it
                // (docs/benchmarks.md), so a database that has them loses them.
                ddl.Append($"DROP INDEX IF EXISTS \"ix_{name}_{field.Name}\";\n");
                ddl.Append($"CREATE INDEX IF NOT EXISTS \"ix_{name}_{field.Name}_l1\" ON {table} (pk1, {column}, id, pk);\n");
            }
            else
            {
                ddl.Append($"CREATE INDEX IF NOT EXISTS \"ix_{name}_{field.Name}\" ON {table} (pk, {column}, id);\n");
            }
        }

        foreach (var fields in container.SortedIndexes)
        {
            var columns = string.Join(", ", fields.Select(f => Column(container.Field(f))));
            var first = Column(container.Field(fields[0]));
            var indexName = $"ix_{name}_{string.Join("_", fields)}";
            ddl.Append(hierarchical
                ? $"CREATE INDEX IF NOT EXISTS \"{indexName}_l1\" ON {table} (pk1, {columns}, id, pk) WHERE {first} IS NOT NULL;\n"
                : $"CREATE INDEX IF NOT EXISTS \"{indexName}\" ON {table} (pk, {columns}, id) WHERE {first} IS NOT NULL;\n");
        }

        // Triggers keep the array side table in step with every write, inside the writing transaction.
        var arrayFields = container.Fields.Where(f => f.Type == FieldType.TextArray).ToList();
        string Explode(string row) => string.Concat(arrayFields.Select(f =>
            $"INSERT OR IGNORE INTO {arrays} (field, value, pk1, pk, doc) SELECT '{f.Name}', j.value, {row}.{(hierarchical ? "pk1" : "pk")}, {row}.pk, {row}.seq "
            + $"FROM json_each({row}.body, '{f.JsonPath}') j WHERE j.type = 'text' AND json_type({row}.body, '{f.JsonPath}') = 'array';\n"));
        ddl.Append($"""
            DROP TRIGGER IF EXISTS "tr_{name}_ai";
            DROP TRIGGER IF EXISTS "tr_{name}_au";
            DROP TRIGGER IF EXISTS "tr_{name}_ad";
            CREATE TRIGGER "tr_{name}_ad" AFTER DELETE ON {table} BEGIN DELETE FROM {arrays} WHERE doc = OLD.seq; END;

            """);
        if (arrayFields.Count > 0)
        {
            ddl.Append($"CREATE TRIGGER \"tr_{name}_ai\" AFTER INSERT ON {table} BEGIN\n{Explode("NEW")}END;\n");
            ddl.Append($"CREATE TRIGGER \"tr_{name}_au\" AFTER UPDATE OF body ON {table} BEGIN\nDELETE FROM {arrays} WHERE doc = OLD.seq;\n{Explode("NEW")}END;\n");

            // Backfill fields declared after documents were written (a no-op when the side table is current).
            foreach (var field in arrayFields)
            {
                ddl.Append($"""
                    INSERT OR IGNORE INTO {arrays} (field, value, pk1, pk, doc)
                    SELECT '{field.Name}', j.value, t.{(hierarchical ? "pk1" : "pk")}, t.pk, t.seq FROM {table} t, json_each(t.body, '{field.JsonPath}') j
                    WHERE j.type = 'text' AND json_type(t.body, '{field.JsonPath}') = 'array'
                      AND NOT EXISTS (SELECT 1 FROM {arrays} WHERE field = '{field.Name}');

                    """);
            }
        }

        SqliteDatabase.Execute(connection, ddl.ToString(), transaction);
        CreateFullTextIndex(connection, transaction, container);
    }

    /// <summary>
    /// The FTS5 trigram table of the container's full-text fields (rowid = the document's seq), kept by triggers in the
    /// writing transaction like the array side table, and filled from the documents when it is created.
    /// </summary>
    private static void CreateFullTextIndex(SqliteConnection connection, SqliteTransaction transaction, ContainerDefinition container)
    {
        var fields = container.Fields.Where(f => f.FullText).ToList();
        if (fields.Count == 0)
        {
            return;
        }

        var name = container.Name;
        var table = Table(container);
        var fts = FullTextTable(container);
        var columns = string.Join(", ", fields.Select(f => $"f_{f.Name}"));
        var values = string.Join(", ", fields.Select(f => $"NEW.{Column(f)}"));
        var anySet = string.Join(" OR ", fields.Select(f => $"NEW.{Column(f)} IS NOT NULL"));
        bool exists;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = $"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'doc_{name}__fts'";
            exists = command.ExecuteScalar() is not null;
        }

        var ddl = new StringBuilder();
        if (!exists)
        {
            ddl.Append($"""
                CREATE VIRTUAL TABLE {fts} USING fts5({columns}, tokenize = 'trigram case_sensitive 0');
                INSERT INTO {fts} (rowid, {columns}) SELECT seq, {string.Join(", ", fields.Select(Column))} FROM {table} WHERE {anySet.Replace("NEW.", string.Empty, StringComparison.Ordinal)};

                """);
        }

        ddl.Append($"""
            DROP TRIGGER IF EXISTS "tr_{name}_fts_ai";
            DROP TRIGGER IF EXISTS "tr_{name}_fts_au";
            DROP TRIGGER IF EXISTS "tr_{name}_fts_ad";
            CREATE TRIGGER "tr_{name}_fts_ai" AFTER INSERT ON {table} WHEN {anySet} BEGIN
              INSERT INTO {fts} (rowid, {columns}) VALUES (NEW.seq, {values});
            END;
            CREATE TRIGGER "tr_{name}_fts_au" AFTER UPDATE OF body ON {table} BEGIN
              DELETE FROM {fts} WHERE rowid = OLD.seq;
              INSERT INTO {fts} (rowid, {columns}) SELECT NEW.seq, {values} WHERE {anySet};
            END;
            CREATE TRIGGER "tr_{name}_fts_ad" AFTER DELETE ON {table} BEGIN
              DELETE FROM {fts} WHERE rowid = OLD.seq;
            END;

            """);
        SqliteDatabase.Execute(connection, ddl.ToString(), transaction);
    }
}
