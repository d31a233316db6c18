using Itsm.Functions.Cmdb;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>A relationship's two copies live in two partitions: a failed second write takes the first back, and a write interrupted between them is repaired by writing again.</summary>
public class CmdbStoreTests
{
    /// <summary>The SQLite store, except that batches in one partition fail (a throttled or unreachable partition).</summary>
    private sealed class FailingPartitionStore(IDocumentStore inner) : IDocumentStore
    {
        public string? FailingPartition { get; set; }

        public Task<StoredDocument<T>?> ReadAsync<T>(ContainerDefinition container, DocumentKey key, CancellationToken cancellationToken = default) => inner.ReadAsync<T>(container, key, cancellationToken);

        public Task<StoredDocument<T>> CreateAsync<T>(ContainerDefinition container, DocumentKey key, T document, CancellationToken cancellationToken = default) => inner.CreateAsync(container, key, document, cancellationToken);

        public Task<StoredDocument<T>> ReplaceAsync<T>(ContainerDefinition container, DocumentKey key, T document, string ifMatch, CancellationToken cancellationToken = default) => inner.ReplaceAsync(container, key, document, ifMatch, cancellationToken);

        public Task<bool> DeleteAsync(ContainerDefinition container, DocumentKey key, string? ifMatch = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(container, key, ifMatch, cancellationToken);

        public Task<IReadOnlyList<string>> ExecuteBatchAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken = default) =>
            partitionKey == FailingPartition
                ? throw new DocumentStoreException("Partition unavailable (test).")
                : inner.ExecuteBatchAsync(container, partitionKey, operations, cancellationToken);

        public Task<DocumentPage<T>> QueryAsync<T>(ContainerDefinition container, DocumentQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync<T>(container, query, cancellationToken);
    }

    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static async Task<(FailingPartitionStore Documents, CmdbStore Store, CmdbService Service, string App, string Vm)> SetUpAsync()
    {
        var documents = new FailingPartitionStore(new SqliteDocumentStore(new SqliteDatabase(Path.Combine(TempDirectory.Create(), "cmdb.db"))));
        var store = new CmdbStore(documents);
        var service = new CmdbService(store, new TicketStore(documents), new FakeTimeProvider(Now));
        string? app = null, vm = null;
        foreach (var (cls, name) in new[] { ("application", "app"), ("virtualMachine", "vm") })
        {
            var ci = CiRules.Create(new CiFields { Class = cls, Name = name, ExternalKey = name }, null, "contoso", "sam", Now, [])!;
            await store.CreateAsync(ci, CmdbService.Audit("contoso", ci.Id, "created", "sam", "api", [], Now), CancellationToken.None);
            (app, vm) = name == "app" ? (ci.Id, vm) : (app, ci.Id);
        }

        return (documents, store, service, app!, vm!);
    }

    private static async Task<int> CopiesAsync(CmdbStore store, string ciId) =>
        (await store.EdgesAsync("contoso", ciId, null, null, CancellationToken.None)).Items.Count;

    [Fact]
    public async Task When_the_target_side_cannot_be_written_the_source_side_is_taken_back()
    {
        var (documents, store, service, app, vm) = await SetUpAsync();
        documents.FailingPartition = DocumentKey.Compose("contoso", vm);

        await Assert.ThrowsAsync<DocumentStoreException>(() => service.RelateAsync("contoso", app, RelationshipType.RunsOn, vm, "sam", "api", CancellationToken.None));

        Assert.Equal(0, await CopiesAsync(store, app));
        Assert.Equal(["created"], (await store.HistoryAsync("contoso", app, CancellationToken.None)).Select(e => e.Action));
    }

    [Fact]
    public async Task A_relationship_written_on_one_side_only_is_completed_by_writing_it_again()
    {
        var (documents, store, service, app, vm) = await SetUpAsync();
        var edge = new CiRelationship
        {
            Id = CiRelationship.IdFor(app, RelationshipType.RunsOn, vm), TenantId = "contoso", CiId = app, Direction = EdgeDirection.Out,
            Type = RelationshipType.RunsOn, SourceId = app, TargetId = vm, CreatedAt = Now, CreatedBy = "sam",
        };
        await documents.ExecuteBatchAsync(CmdbStore.Cis, DocumentKey.Compose("contoso", app), [new BatchOperation.Create(edge.Id, edge)]);

        var upBefore = await service.RelatedAsync("contoso", [vm], ImpactDirection.Up, 3, null, CancellationToken.None);
        var outcome = await service.RelateAsync("contoso", app, RelationshipType.RunsOn, vm, "sam", "import", CancellationToken.None);
        var upAfter = await service.RelatedAsync("contoso", [vm], ImpactDirection.Up, 3, null, CancellationToken.None);
        var again = await service.RelateAsync("contoso", app, RelationshipType.RunsOn, vm, "sam", "import", CancellationToken.None);

        Assert.Empty(upBefore.Nodes);
        Assert.IsType<CmdbService.RelateOutcome.Created>(outcome);
        Assert.Equal([app], upAfter.Nodes.Select(n => n.CiId));
        Assert.IsType<CmdbService.RelateOutcome.Exists>(again);
        Assert.Equal((1, 1), (await CopiesAsync(store, app), await CopiesAsync(store, vm)));
    }
}
