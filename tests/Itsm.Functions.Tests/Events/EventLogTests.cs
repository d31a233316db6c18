using Itsm.Functions.Cmdb;
using Itsm.Functions.Events;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Functions.Tests.Events;

/// <summary>The log's rules on the embedded store: dense positions under concurrency, one entry per event, per-record order.</summary>
public class EventLogTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static SqliteDocumentStore NewStore() => new(new SqliteDatabase(Path.Combine(TempDirectory.Create(), "events.db")));

    private static FeedEvent Event(string tenant, string subject, string? id = null) =>
        EventSequencer.NewEvent(tenant, "ci.updated", new EventSubject("ci", subject), subject, Now, new { name = subject }) with { Id = id ?? Guid.NewGuid().ToString("N") };

    [Fact]
    public async Task Concurrent_appends_get_dense_distinct_positions_per_tenant()
    {
        var log = new EventLog(NewStore(), new FakeTimeProvider(Now));

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => log.AppendAsync(Event(i % 2 == 0 ? "contoso" : "fabrikam", $"ci-{i}"), CancellationToken.None))));

        foreach (var tenant in new[] { "contoso", "fabrikam" })
        {
            var page = await log.ReadAsync(tenant, 0, 100, CancellationToken.None);
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), page.Items.Select(e => e.Position));
            Assert.Equal(20, await log.HeadAsync(tenant, CancellationToken.None));
        }
    }

    [Fact]
    public async Task Appending_the_same_event_twice_keeps_one_entry_at_its_first_position()
    {
        var log = new EventLog(NewStore(), new FakeTimeProvider(Now));
        var once = Event("contoso", "a", "evt-1");

        var first = await log.AppendAsync(once, CancellationToken.None);
        await log.AppendAsync(Event("contoso", "b"), CancellationToken.None);
        var again = await log.AppendAsync(once, CancellationToken.None);

        Assert.Equal(1, first.Position);
        Assert.Equal(1, again.Position);
        Assert.Equal(2, (await log.ReadAsync("contoso", 0, 100, CancellationToken.None)).Items.Count);
    }

    [Fact]
    public async Task A_ci_change_whose_relay_failed_is_placed_before_its_next_change_and_none_is_lost()
    {
        var documents = new FlakyLogStore(NewStore());
        var clock = new FakeTimeProvider(Now);
        var log = new EventLog(documents, clock);
        var sequencer = new EventSequencer(documents, log, NullLogger<EventSequencer>.Instance);
        var store = new CmdbStore(documents, sequencer);
        var ci = CiRules.Create(new CiFields { Class = "server", Name = "web-01" }, null, "contoso", "sam", Now, [])!;

        documents.LogDown = true;
        var created = await store.CreateAsync(ci, CmdbService.Audit("contoso", ci.Id, "created", "sam", "api", [], Now), CancellationToken.None);
        var empty = await log.ReadAsync("contoso", 0, 100, CancellationToken.None);
        documents.LogDown = false;
        await store.UpdateAsync(created.Document with { Name = "web-01b" }, created.ETag, CmdbService.Audit("contoso", ci.Id, "updated", "sam", "api", [], Now), CancellationToken.None);
        var swept = await sequencer.SweepAsync(CancellationToken.None);

        var events = (await log.ReadAsync("contoso", 0, 100, CancellationToken.None)).Items;
        Assert.Empty(empty.Items);
        Assert.Equal(["ci.created", "ci.updated"], events.Select(e => e.Type));
        Assert.Equal("web-01b", events[1].Data.GetProperty("name").GetString());
        Assert.Equal(0, swept);
    }

    /// <summary>The document store with the event log's container unavailable on demand (an outage of the log's partition).</summary>
    private sealed class FlakyLogStore(IDocumentStore inner) : IDocumentStore
    {
        public bool LogDown { get; set; }

        private void Check(ContainerDefinition container)
        {
            if (LogDown && container.Name == EventLog.Events.Name)
            {
                throw new DocumentStoreException("The log is unavailable (test).");
            }
        }

        public Task<StoredDocument<T>?> ReadAsync<T>(ContainerDefinition container, DocumentKey key, CancellationToken cancellationToken = default)
        {
            Check(container);
            return inner.ReadAsync<T>(container, key, cancellationToken);
        }

        public Task<StoredDocument<T>> CreateAsync<T>(ContainerDefinition container, DocumentKey key, T document, CancellationToken cancellationToken = default) => inner.CreateAsync(container, key, document, cancellationToken);

        public Task<StoredDocument<T>> ReplaceAsync<T>(ContainerDefinition container, DocumentKey key, T document, string ifMatch, CancellationToken cancellationToken = default) => inner.ReplaceAsync(container, key, document, ifMatch, cancellationToken);

        public Task<bool> DeleteAsync(ContainerDefinition container, DocumentKey key, string? ifMatch = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(container, key, ifMatch, cancellationToken);

        public Task<IReadOnlyList<string>> ExecuteBatchAsync(ContainerDefinition container, string partitionKey, IReadOnlyList<BatchOperation> operations, CancellationToken cancellationToken = default)
        {
            Check(container);
            return inner.ExecuteBatchAsync(container, partitionKey, operations, cancellationToken);
        }

        public Task<DocumentPage<T>> QueryAsync<T>(ContainerDefinition container, DocumentQuery query, CancellationToken cancellationToken = default) => inner.QueryAsync<T>(container, query, cancellationToken);
    }
}
