using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Catalog;

/// <summary>
/// Where the catalogue lives: the <c>catalog</c> container, partitioned by tenant (a tenant's catalogue is hundreds of
/// items, not millions). Each item has a current document and one immutable document per version; categories are
/// versioned the same way; every admin change leaves an audit event. A save writes all three in one transaction.
/// </summary>
public sealed class CatalogStore(IDocumentStore store)
{
    public const string ItemType = "catalog-item";
    public const string ItemVersionType = "catalog-item-version";
    public const string CategoryType = "catalog-category";
    public const string CategoryVersionType = "catalog-category-version";
    public const string AuditType = "catalog-audit";

    public static readonly ContainerDefinition Catalog = new(
        "catalog",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("target", "$.target", FieldType.Text),
            new("at", "$.at", FieldType.Instant),
        ]);

    public static string ItemDocumentId(string itemId, int? version = null) => version is { } v ? $"item:{itemId}:v{v}" : $"item:{itemId}";

    public static string CategoryDocumentId(string categoryId, int? version = null) => version is { } v ? $"category:{categoryId}:v{v}" : $"category:{categoryId}";

    public async Task<CatalogItemDocument?> ReadItemAsync(string tenantId, string itemId, int? version, CancellationToken cancellationToken) =>
        CatalogItemDefinition.IdPattern().IsMatch(itemId)
            ? (await store.ReadAsync<CatalogItemDocument>(Catalog, new DocumentKey(tenantId, ItemDocumentId(itemId, version)), cancellationToken))?.Document
            : null;

    public async Task<CatalogCategoryDocument?> ReadCategoryAsync(string tenantId, string categoryId, CancellationToken cancellationToken) =>
        CatalogItemDefinition.IdPattern().IsMatch(categoryId)
            ? (await store.ReadAsync<CatalogCategoryDocument>(Catalog, new DocumentKey(tenantId, CategoryDocumentId(categoryId)), cancellationToken))?.Document
            : null;

    public Task<List<CatalogItemDocument>> ItemsAsync(string tenantId, CancellationToken cancellationToken) =>
        AllAsync<CatalogItemDocument>(tenantId, [new QueryFilter("docType", FilterOperator.Equals, ItemType)], null, cancellationToken);

    public Task<List<CatalogCategoryDocument>> CategoriesAsync(string tenantId, CancellationToken cancellationToken) =>
        AllAsync<CatalogCategoryDocument>(tenantId, [new QueryFilter("docType", FilterOperator.Equals, CategoryType)], null, cancellationToken);

    /// <summary>The audit trail of one item or category (<c>item:{id}</c>, <c>category:{id}</c>), newest first.</summary>
    public Task<List<CatalogAuditEvent>> HistoryAsync(string tenantId, string target, CancellationToken cancellationToken) =>
        AllAsync<CatalogAuditEvent>(tenantId, [new QueryFilter("docType", FilterOperator.Equals, AuditType), new QueryFilter("target", FilterOperator.Equals, target)], new QuerySort("at", Descending: true), cancellationToken);

    /// <summary>
    /// Saves <paramref name="next"/> as version <paramref name="version"/>: the version is created (never replaced), the
    /// current pointer upserted and the audit event created, in one transaction; two admins saving the same version at
    /// once get a <see cref="DocumentConflictException"/> for the second.
    /// </summary>
    public Task SaveAsync<T>(string tenantId, string versionId, T versionDocument, string currentId, T current, CatalogAuditEvent audit, CancellationToken cancellationToken)
        where T : notnull =>
        store.ExecuteBatchAsync(
            Catalog,
            tenantId,
            [
                new BatchOperation.Create(versionId, versionDocument),
                new BatchOperation.Upsert(currentId, current),
                new BatchOperation.Create(audit.Id, audit),
            ],
            cancellationToken);

    /// <summary>The top-level fields that differ between two versions of a definition, for the audit trail.</summary>
    public static IReadOnlyList<FieldChange> Diff<T>(T? before, T after)
    {
        var old = before is null ? default : JsonSerializer.SerializeToElement(before, HttpResults.Json);
        var now = JsonSerializer.SerializeToElement(after, HttpResults.Json);
        var names = now.EnumerateObject().Select(p => p.Name).Concat(before is null ? [] : old.EnumerateObject().Select(p => p.Name)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var changes = new List<FieldChange>();
        foreach (var name in names)
        {
            JsonElement? oldValue = before is not null && old.TryGetProperty(name, out var o) ? o.Clone() : null;
            JsonElement? newValue = now.TryGetProperty(name, out var n) ? n.Clone() : null;
            if (oldValue?.GetRawText() != newValue?.GetRawText())
            {
                changes.Add(new FieldChange(name, oldValue, newValue));
            }
        }

        return changes;
    }

    private async Task<List<T>> AllAsync<T>(string tenantId, IReadOnlyList<QueryFilter> filters, QuerySort? sort, CancellationToken cancellationToken)
    {
        var all = new List<T>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<T>(Catalog, new DocumentQuery(tenantId, filters, sort, 500, continuation), cancellationToken);
            all.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return all;
    }
}
