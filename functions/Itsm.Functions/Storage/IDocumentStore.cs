namespace Itsm.Functions.Storage;

/// <summary>
/// The narrow document-store port: point reads and writes by (partition key, id) with ETags, conditional
/// replace, transactional writes inside one partition, and filtered, sorted queries with continuation
/// tokens. Two adapters honour it: SQLite (embedded default) and Cosmos DB. One contract suite tests both.
/// </summary>
public interface IDocumentStore
{
    /// <summary>Null when there is no such document.</summary>
    Task<StoredDocument<T>?> ReadAsync<T>(ContainerDefinition container, DocumentKey key, CancellationToken cancellationToken = default);

    /// <summary>Creates a document; <see cref="DocumentConflictException"/> when the id exists in the partition.</summary>
    Task<StoredDocument<T>> CreateAsync<T>(ContainerDefinition container, DocumentKey key, T document, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a document only if its current ETag is <paramref name="ifMatch"/>;
    /// <see cref="PreconditionFailedException"/> on a stale ETag, <see cref="DocumentNotFoundException"/> when absent.
    /// </summary>
    Task<StoredDocument<T>> ReplaceAsync<T>(ContainerDefinition container, DocumentKey key, T document, string ifMatch, CancellationToken cancellationToken = default);

    /// <summary>Deletes a document (only if its ETag matches, when given); false when it did not exist.</summary>
    Task<bool> DeleteAsync(ContainerDefinition container, DocumentKey key, string? ifMatch = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies all operations in one transaction, all in the same partition: either every one succeeds or
    /// none is applied (the first failing operation's exception is thrown). Returns the ETags written, in order.
    /// </summary>
    Task<IReadOnlyList<string>> ExecuteBatchAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies many batches, each in its own partition and each all or nothing, as <see cref="ExecuteBatchAsync"/> would
    /// one after another; a batch that fails for a document's reason (<see cref="DocumentConflictException"/>,
    /// <see cref="PreconditionFailedException"/>, <see cref="DocumentNotFoundException"/>) is reported in its result and
    /// does not stop the others. Bulk writers (the CMDB import) use it: SQLite commits all the batches in one
    /// transaction (a failed batch is rolled back alone), which is where its cost per write goes; Cosmos has no transaction across
    /// partitions, so this default applies them one by one. Any other failure throws: on SQLite nothing was written, on
    /// Cosmos the batches before it were.
    /// </summary>
    async Task<IReadOnlyList<BatchResult>> ExecuteBatchesAsync(ContainerDefinition container, IReadOnlyList<PartitionBatch> batches, CancellationToken cancellationToken = default)
    {
        var results = new List<BatchResult>(batches.Count);
        foreach (var batch in batches)
        {
            try
            {
                results.Add(new BatchResult(await ExecuteBatchAsync(container, batch.PartitionKey, batch.Operations, cancellationToken), null));
            }
            catch (DocumentStoreException failure) when (BatchResult.IsDocumentFailure(failure))
            {
                results.Add(new BatchResult([], failure));
            }
        }

        return results;
    }

    /// <summary>
    /// A page of documents matching every filter, sorted, at most <see cref="DocumentQuery.PageSize"/> long.
    /// Filters and sorts may only name fields the container declares in <see cref="ContainerDefinition.Fields"/>.
    /// </summary>
    Task<DocumentPage<T>> QueryAsync<T>(ContainerDefinition container, DocumentQuery query, CancellationToken cancellationToken = default);
}

/// <summary>
/// A document's address. For a container with hierarchical partition keys the partition key is the
/// values of all levels joined with '|' (for example <c>contoso|7f3a...</c>); values never contain '|'.
/// </summary>
public sealed record DocumentKey(string PartitionKey, string Id)
{
    public const char LevelSeparator = '|';

    public static string Compose(params string[] levels) => string.Join(LevelSeparator, levels);
}

public sealed record StoredDocument<T>(DocumentKey Key, T Document, string ETag);

/// <summary>
/// A container (Cosmos) or table (SQLite): its name, the JSON paths of its partition key (one, or two for
/// hierarchical partition keys such as <c>/tenantId</c>, <c>/ticketId</c>, so that no logical partition
/// can outgrow Cosmos's 20 GB while a tenant's documents are still found without a full fan-out), and the
/// fields that can be filtered and sorted on (indexed columns in SQLite). Documents carry the partition
/// key values in those properties themselves.
/// </summary>
public sealed record ContainerDefinition(string Name, IReadOnlyList<string> PartitionKeyPaths, IReadOnlyList<IndexedField> Fields)
{
    /// <summary>
    /// Filter-then-sort indexes: each lists fields (the last usually the default sort) that the SQLite adapter indexes
    /// together after the partition, so a selective equality filter sorted by the last field walks its own matches in
    /// order instead of sorting them all. Only for rows where the first field is set.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> SortedIndexes { get; init; } = [];

    public IndexedField Field(string name) =>
        Fields.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal))
        ?? throw new ArgumentException($"Container '{Name}' has no queryable field '{name}'.", nameof(name));
}

/// <summary>A queryable field: its name, the JSON path in the document (e.g. <c>$.assignee.id</c>) and its type.</summary>
public sealed record IndexedField(string Name, string JsonPath, FieldType Type)
{
    /// <summary>
    /// A text field whose <see cref="FilterOperator.Contains"/> filter a text index answers (SQLite: an FTS5 trigram
    /// table kept by triggers) instead of a scan; the results are the same.
    /// </summary>
    public bool FullText { get; init; }
}

public enum FieldType
{
    Text,
    Number,
    Instant,
    Boolean,

    /// <summary>An array of strings; filters match when any element equals the value (tags, CI ids, watchers).</summary>
    TextArray,
}

public abstract record BatchOperation(string Id)
{
    public sealed record Create(string Id, object Document) : BatchOperation(Id);

    public sealed record Replace(string Id, object Document, string IfMatch) : BatchOperation(Id);

    public sealed record Upsert(string Id, object Document) : BatchOperation(Id);

    public sealed record Delete(string Id, string? IfMatch) : BatchOperation(Id);
}

/// <summary>One partition's operations for <see cref="IDocumentStore.ExecuteBatchesAsync"/>.</summary>
public sealed record PartitionBatch(string PartitionKey, IReadOnlyList<BatchOperation> Operations);

/// <summary>A batch's outcome: the ETags written, in order, or the document failure that left the batch unapplied.</summary>
public sealed record BatchResult(IReadOnlyList<string> ETags, DocumentStoreException? Failure)
{
    public bool Succeeded => Failure is null;

    public static bool IsDocumentFailure(DocumentStoreException failure) =>
        failure is DocumentConflictException or PreconditionFailedException or DocumentNotFoundException;
}

/// <summary>
/// A query. <see cref="PartitionKey"/> is a full partition key, or for a hierarchical container the
/// first-level value alone (a prefix: all documents of a tenant); null means across partitions (keep
/// that off hot paths).
/// <see cref="ContinuationToken"/> is opaque and only valid for the same filters and sort.
/// </summary>
public sealed record DocumentQuery(
    string? PartitionKey,
    IReadOnlyList<QueryFilter> Filters,
    QuerySort? Sort,
    int PageSize,
    string? ContinuationToken = null);

public sealed record QueryFilter(string Field, FilterOperator Operator, object? Value);

public enum FilterOperator
{
    Equals,
    NotEquals,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,

    /// <summary>Value is a list; matches when the field equals any of them.</summary>
    In,

    /// <summary>Case-insensitive substring match on a text field.</summary>
    Contains,

    /// <summary>TextArray field contains the value.</summary>
    ArrayContains,
}

/// <summary>Sort by a field; ties are always broken by id so that paging is stable.</summary>
public sealed record QuerySort(string Field, bool Descending);

public sealed record DocumentPage<T>(IReadOnlyList<StoredDocument<T>> Items, string? ContinuationToken);

public class DocumentStoreException(string message, Exception? inner = null) : Exception(message, inner);

public sealed class DocumentConflictException(DocumentKey key)
    : DocumentStoreException($"A document '{key.Id}' already exists in partition '{key.PartitionKey}'.");

public sealed class PreconditionFailedException(DocumentKey key)
    : DocumentStoreException($"Document '{key.Id}' was changed by someone else (ETag mismatch).");

public sealed class DocumentNotFoundException(DocumentKey key)
    : DocumentStoreException($"Document '{key.Id}' does not exist in partition '{key.PartitionKey}'.");

/// <summary>A continuation token that is malformed or belongs to another query.</summary>
public sealed class InvalidContinuationTokenException(string message) : DocumentStoreException(message);
