using Itsm.Functions.Storage;

namespace Itsm.Functions.Events;

/// <summary>The sequencer's head of a tenant's log: the last position given out.</summary>
public sealed record EventLogHead(string Id, string TenantId, long Last)
{
    public const string HeadId = "head";

    public string DocType => "head";
}

/// <summary>A page of a tenant's feed: events after a cursor, and where to resume.</summary>
/// <param name="Next">The cursor to pass as <c>after</c> next time: the last position returned, or the one asked for when there was nothing new.</param>
/// <param name="Oldest">The oldest position still kept (retention removes older ones), or null when the log is empty.</param>
public sealed record FeedPage(IReadOnlyList<FeedEvent> Items, long Next, bool HasMore, long? Oldest)
{
    /// <summary>True when events between the cursor and <see cref="Oldest"/> are gone (the cursor is older than the retention).</summary>
    public bool Truncated(long after) => Oldest is { } oldest && oldest > after + 1;
}

/// <summary>
/// The ordered, per-tenant event log: the <c>events</c> container, partitioned by tenant. Each entry's id is its event's
/// id, so appending the same event twice stores it once. Positions come from a head document in the same partition,
/// advanced by ETag-conditional replace in the same transactional batch as the entry: an entry exists exactly when its
/// position was taken, positions are dense, and a reader never sees position n+1 before n.
/// </summary>
public sealed class EventLog(IDocumentStore store, TimeProvider time)
{
    public static readonly ContainerDefinition Events = new(
        "events",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("position", "$.position", FieldType.Number),
            new("type", "$.type", FieldType.Text),
            new("recordedAt", "$.recordedAt", FieldType.Instant),
        ]);

    private const int MaxAttempts = 100;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> _gates = new(StringComparer.Ordinal);

    /// <summary>Places an event at the tenant's next position; when it is in the log already, returns it as stored.</summary>
    public async Task<FeedEvent> AppendAsync(FeedEvent pending, CancellationToken cancellationToken)
    {
        // One placing per tenant at a time in this process: concurrent writers would only lose the head's ETag race
        // and retry. Other instances still race through the ETag, which keeps positions right.
        var gate = _gates.GetOrAdd(pending.TenantId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await PlaceAsync(pending, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Events placed in one transaction by <see cref="AppendManyAsync"/>: a batch's 100 operations less the head's.</summary>
    public const int MaxEventsPerPlacing = 99;

    /// <summary>
    /// Places one tenant's events at its next positions, in the order given, up to <see cref="MaxEventsPerPlacing"/> per
    /// transaction with one advance of the head (a bulk writer's events). When some of them are in the log already,
    /// that group is placed one by one instead, so each keeps the entry it has.
    /// </summary>
    public async Task AppendManyAsync(string tenantId, IReadOnlyList<FeedEvent> pending, CancellationToken cancellationToken)
    {
        if (pending.Any(e => e.TenantId != tenantId))
        {
            throw new ArgumentException("Every event must belong to the tenant.", nameof(pending));
        }

        var gate = _gates.GetOrAdd(tenantId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var group in pending.Chunk(MaxEventsPerPlacing))
            {
                if (!await TryPlaceTogetherAsync(tenantId, group, cancellationToken))
                {
                    foreach (var one in group)
                    {
                        await PlaceAsync(one, cancellationToken);
                    }
                }
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>False when one of the events is in the log already (nothing of the group was placed).</summary>
    private async Task<bool> TryPlaceTogetherAsync(string tenantId, FeedEvent[] group, CancellationToken cancellationToken)
    {
        var headKey = new DocumentKey(tenantId, EventLogHead.HeadId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var head = await store.ReadAsync<EventLogHead>(Events, headKey, cancellationToken);
            var first = (head?.Document.Last ?? 0) + 1;
            var last = first + group.Length - 1;
            var recordedAt = time.GetUtcNow();
            List<BatchOperation> operations =
            [
                head is null
                    ? new BatchOperation.Create(EventLogHead.HeadId, new EventLogHead(EventLogHead.HeadId, tenantId, last))
                    : new BatchOperation.Replace(EventLogHead.HeadId, head.Document with { Last = last }, head.ETag),
                .. group.Select((e, i) => new BatchOperation.Create(e.Id, e with { Position = first + i, RecordedAt = recordedAt })),
            ];
            try
            {
                await store.ExecuteBatchAsync(Events, tenantId, operations, cancellationToken);
                return true;
            }
            catch (DocumentConflictException)
            {
                return false;
            }
            catch (PreconditionFailedException)
            {
                // Another instance took positions meanwhile: read the head again.
            }
        }

        throw new DocumentStoreException($"Could not place {group.Length} events in the log of tenant {tenantId} after {MaxAttempts} attempts; the log is too contended.");
    }

    private async Task<FeedEvent> PlaceAsync(FeedEvent pending, CancellationToken cancellationToken)
    {
        var headKey = new DocumentKey(pending.TenantId, EventLogHead.HeadId);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var head = await store.ReadAsync<EventLogHead>(Events, headKey, cancellationToken);
            var position = (head?.Document.Last ?? 0) + 1;
            var entry = pending with { Position = position, RecordedAt = time.GetUtcNow() };
            BatchOperation advance = head is null
                ? new BatchOperation.Create(EventLogHead.HeadId, new EventLogHead(EventLogHead.HeadId, pending.TenantId, position))
                : new BatchOperation.Replace(EventLogHead.HeadId, head.Document with { Last = position }, head.ETag);
            try
            {
                await store.ExecuteBatchAsync(Events, pending.TenantId, [advance, new BatchOperation.Create(entry.Id, entry)], cancellationToken);
                return entry;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException)
            {
                // Either another writer took this position (read the head again) or this event is in the log already.
                if (await store.ReadAsync<FeedEvent>(Events, new DocumentKey(pending.TenantId, pending.Id), cancellationToken) is { } stored)
                {
                    return stored.Document;
                }
            }
        }

        throw new DocumentStoreException($"Could not place event {pending.Id} in the log of tenant {pending.TenantId} after {MaxAttempts} attempts; the log is too contended.");
    }

    /// <summary>Up to <paramref name="limit"/> events of a tenant after position <paramref name="after"/>, oldest first.</summary>
    public async Task<FeedPage> ReadAsync(string tenantId, long after, int limit, CancellationToken cancellationToken, IReadOnlyCollection<string>? types = null)
    {
        List<QueryFilter> filters =
        [
            new QueryFilter("docType", FilterOperator.Equals, FeedEvent.DocumentType),
            new QueryFilter("position", FilterOperator.GreaterThan, after),
        ];
        if (types is { Count: > 0 })
        {
            filters.Add(new QueryFilter("type", FilterOperator.In, types.ToArray()));
        }

        var page = await store.QueryAsync<FeedEvent>(Events, new DocumentQuery(tenantId, filters, new QuerySort("position", Descending: false), limit + 1), cancellationToken);
        var items = page.Items.Take(limit).Select(i => i.Document).ToArray();
        var oldest = await store.QueryAsync<FeedEvent>(
            Events,
            new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, FeedEvent.DocumentType)], new QuerySort("position", Descending: false), 1),
            cancellationToken);
        return new FeedPage(items, items.Length > 0 ? items[^1].Position : after, page.Items.Count > limit, oldest.Items.Count > 0 ? oldest.Items[0].Document.Position : null);
    }

    /// <summary>The last position given out in a tenant (0 for an empty log).</summary>
    public async Task<long> HeadAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<EventLogHead>(Events, new DocumentKey(tenantId, EventLogHead.HeadId), cancellationToken))?.Document.Last ?? 0;

    /// <summary>
    /// Deletes entries recorded before <paramref name="cutoff"/> in every tenant, at most <paramref name="max"/> per call;
    /// the heads stay, so positions never repeat. Returns how many were deleted.
    /// </summary>
    public async Task<int> PurgeAsync(DateTimeOffset cutoff, int max, CancellationToken cancellationToken)
    {
        var deleted = 0;
        while (deleted < max)
        {
            var page = await store.QueryAsync<FeedEvent>(
                Events,
                new DocumentQuery(null, [new QueryFilter("docType", FilterOperator.Equals, FeedEvent.DocumentType), new QueryFilter("recordedAt", FilterOperator.LessThan, cutoff)], null, Math.Min(500, max - deleted)),
                cancellationToken);
            if (page.Items.Count == 0)
            {
                break;
            }

            foreach (var item in page.Items)
            {
                deleted += await store.DeleteAsync(Events, item.Key, null, cancellationToken) ? 1 : 0;
            }
        }

        return deleted;
    }
}
