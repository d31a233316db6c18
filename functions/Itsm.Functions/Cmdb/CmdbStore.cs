using Itsm.Functions.Storage;

namespace Itsm.Functions.Cmdb;

/// <summary>
/// Where the CMDB lives: the <c>cis</c> container, partitioned by (tenantId, ciId). A CI's partition holds the CI,
/// its audit events and one copy of every relationship that touches it (Out when it is the source, In when it is
/// the target), so reading a CI's neighbours in either direction is a single-partition query, and a CI change and
/// its audit event are one transaction. The tenant's own classes are the document <c>classes</c> in the partition
/// (tenantId, "classes"). A CI's create and update also write its event for the feed (<see cref="Events.PendingEvent"/>)
/// in the same transaction; the sequencer places it in the tenant's log right after.
/// </summary>
public sealed class CmdbStore(IDocumentStore store, Events.EventSequencer? events = null)
{
    public static readonly ContainerDefinition Cis = new(
        "cis",
        ["/tenantId", "/ciId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("class", "$.class", FieldType.Text),
            new("name", "$.name", FieldType.Text),
            new("status", "$.status", FieldType.Text),
            new("environment", "$.environment", FieldType.Text),
            new("ownerGroup", "$.ownerGroup", FieldType.Text),
            new("supportGroup", "$.supportGroup", FieldType.Text),
            new("criticality", "$.criticality", FieldType.Text),
            new("externalKey", "$.externalKey", FieldType.Text),
            new("direction", "$.direction", FieldType.Text),
            new("relationshipType", "$.type", FieldType.Text),
            new("createdAt", "$.createdAt", FieldType.Instant),
            new("updatedAt", "$.updatedAt", FieldType.Instant),
            new("at", "$.at", FieldType.Instant),
        ]);

    /// <summary>Edges read per query page while traversing or listing.</summary>
    public const int EdgePageSize = 500;

    public IDocumentStore Documents => store;

    public static DocumentKey KeyOf(string tenantId, string ciId) => new(DocumentKey.Compose(tenantId, ciId), ciId);

    public static bool IsValidId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && !id.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal) && id != TenantCiClasses.PartitionId;

    public async Task<StoredDocument<ConfigurationItem>?> ReadAsync(string tenantId, string ciId, CancellationToken cancellationToken)
    {
        if (!IsValidId(ciId))
        {
            return null;
        }

        var stored = await store.ReadAsync<ConfigurationItem>(Cis, KeyOf(tenantId, ciId), cancellationToken);
        return stored?.Document.DocType == ConfigurationItem.DocumentType ? stored : null;
    }

    public Task<StoredDocument<ConfigurationItem>?> ReadByExternalKeyAsync(string tenantId, string externalKey, CancellationToken cancellationToken) =>
        ReadAsync(tenantId, ConfigurationItem.IdFor(externalKey), cancellationToken);

    /// <summary>Creates a CI (revision 1) with its audit event; <see cref="DocumentConflictException"/> when the id (external key) is taken.</summary>
    /// <param name="answer">The record of the request's answer (an Idempotency-Key's), stored in the same transaction.</param>
    public async Task<StoredDocument<ConfigurationItem>> CreateAsync(ConfigurationItem ci, CiAuditEvent created, CancellationToken cancellationToken, Hosting.IdempotencyRecord? answer = null)
    {
        var batch = CreateBatch(ci, created, answer);
        var etags = await store.ExecuteBatchAsync(Cis, batch.PartitionKey, batch.Operations, cancellationToken);
        await RelayEventsAsync(ci, cancellationToken);
        return new StoredDocument<ConfigurationItem>(KeyOf(ci.TenantId, ci.Id), ci with { Revision = 1 }, etags[0]);
    }

    /// <summary>What <see cref="CreateAsync"/> writes in the CI's partition: the CI as revision 1, its audit event, its feed event.</summary>
    public static PartitionBatch CreateBatch(ConfigurationItem ci, CiAuditEvent created, Hosting.IdempotencyRecord? answer = null)
    {
        var first = ci with { Revision = 1 };
        List<BatchOperation> operations = [new BatchOperation.Create(first.Id, first), new BatchOperation.Create(created.Id, created with { Sequence = 1 }), EventFor(first, "ci.created")];
        if (answer is not null)
        {
            operations.Add(new BatchOperation.Create(answer.Id, answer));
        }

        return new PartitionBatch(DocumentKey.Compose(ci.TenantId, ci.Id), operations);
    }

    /// <summary>Replaces a CI if still at <paramref name="ifMatch"/>, as its next revision, with its audit event; all or nothing.</summary>
    public async Task<StoredDocument<ConfigurationItem>> UpdateAsync(ConfigurationItem ci, string ifMatch, CiAuditEvent updated, CancellationToken cancellationToken)
    {
        var batch = UpdateBatch(ci, ifMatch, updated);
        var etags = await store.ExecuteBatchAsync(Cis, batch.PartitionKey, batch.Operations, cancellationToken);
        await RelayEventsAsync(ci, cancellationToken);
        return new StoredDocument<ConfigurationItem>(KeyOf(ci.TenantId, ci.Id), ci with { Revision = ci.Revision + 1 }, etags[0]);
    }

    /// <summary>What <see cref="UpdateAsync"/> writes: the CI as its next revision if still at <paramref name="ifMatch"/>, its audit event, its feed event.</summary>
    public static PartitionBatch UpdateBatch(ConfigurationItem ci, string ifMatch, CiAuditEvent updated)
    {
        var next = ci with { Revision = ci.Revision + 1 };
        return new PartitionBatch(
            DocumentKey.Compose(ci.TenantId, ci.Id),
            [new BatchOperation.Replace(next.Id, next, ifMatch), new BatchOperation.Create(updated.Id, updated with { Sequence = next.Revision }), EventFor(next, "ci.updated")]);
    }

    /// <summary>
    /// Applies many CI batches of one tenant (<see cref="CreateBatch"/>, <see cref="UpdateBatch"/>,
    /// <see cref="RelationshipBatches"/>) in one call to the store, each all or nothing, then places the tenant's
    /// pending feed events together: the bulk import's write. A batch's document failure is in its result.
    /// </summary>
    public async Task<IReadOnlyList<BatchResult>> WriteManyAsync(string tenantId, IReadOnlyList<PartitionBatch> batches, CancellationToken cancellationToken)
    {
        var results = await store.ExecuteBatchesAsync(Cis, batches, cancellationToken);
        var leftEvents = batches.Zip(results).Any(p => p.Second.Succeeded && p.First.Operations.Any(o => o is BatchOperation.Create { Document: Events.PendingEvent }));
        if (events is not null && leftEvents)
        {
            await events.TryRelayTenantAsync(Cis, tenantId, cancellationToken);
        }

        return results;
    }

    private static BatchOperation EventFor(ConfigurationItem ci, string type) =>
        Events.EventSequencer.PendingFor(
            Events.EventSequencer.NewEvent(ci.TenantId, type, new Events.EventSubject("ci", ci.Id, null, ci.Revision), ci.Id, ci.UpdatedAt, ci),
            ci.Revision,
            ci.Id);

    private async Task RelayEventsAsync(ConfigurationItem ci, CancellationToken cancellationToken)
    {
        if (events is not null)
        {
            await events.TryRelayAsync(Cis, DocumentKey.Compose(ci.TenantId, ci.Id), cancellationToken);
        }
    }

    public Task<DocumentPage<ConfigurationItem>> QueryAsync(string tenantId, IReadOnlyList<QueryFilter> filters, QuerySort sort, int pageSize, string? continuation, CancellationToken cancellationToken) =>
        store.QueryAsync<ConfigurationItem>(
            Cis,
            new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, ConfigurationItem.DocumentType), .. filters], sort, pageSize, continuation),
            cancellationToken);

    /// <summary>A page of the relationship copies stored under a CI, in one direction or both.</summary>
    public Task<DocumentPage<CiRelationship>> EdgesAsync(string tenantId, string ciId, EdgeDirection? direction, string? continuation, CancellationToken cancellationToken, int pageSize = EdgePageSize)
    {
        List<QueryFilter> filters = [new QueryFilter("docType", FilterOperator.Equals, CiRelationship.DocumentType)];
        if (direction is { } d)
        {
            filters.Add(new QueryFilter("direction", FilterOperator.Equals, d.ToString()));
        }

        return store.QueryAsync<CiRelationship>(Cis, new DocumentQuery(DocumentKey.Compose(tenantId, ciId), filters, null, pageSize, continuation), cancellationToken);
    }

    public async Task<List<CiAuditEvent>> HistoryAsync(string tenantId, string ciId, CancellationToken cancellationToken)
    {
        var all = new List<CiAuditEvent>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<CiAuditEvent>(
                Cis,
                new DocumentQuery(DocumentKey.Compose(tenantId, ciId), [new QueryFilter("docType", FilterOperator.Equals, CiAuditEvent.DocumentType)], new QuerySort("at", false), 500, continuation),
                cancellationToken);
            all.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        // Events of one instant (a CI created and changed in the same tick) keep the order of the revisions.
        return [.. all.OrderBy(e => e.At).ThenBy(e => e.Sequence)];
    }

    public async Task<StoredDocument<TenantCiClasses>?> ReadClassesAsync(string tenantId, CancellationToken cancellationToken) =>
        await store.ReadAsync<TenantCiClasses>(Cis, KeyOf(tenantId, TenantCiClasses.PartitionId) with { Id = TenantCiClasses.PartitionId }, cancellationToken);

    public async Task<StoredDocument<TenantCiClasses>> WriteClassesAsync(TenantCiClasses classes, string? ifMatch, CancellationToken cancellationToken)
    {
        var key = new DocumentKey(DocumentKey.Compose(classes.TenantId, TenantCiClasses.PartitionId), TenantCiClasses.PartitionId);
        return ifMatch is null
            ? await store.CreateAsync(Cis, key, classes, cancellationToken)
            : await store.ReplaceAsync(Cis, key, classes, ifMatch, cancellationToken);
    }

    /// <summary>
    /// Stores a relationship: the Out copy (with an audit event) under the source, then the In copy (with an audit
    /// event) under the target. The two partitions cannot share a transaction, so when the second write fails the
    /// first is taken back; a copy already present (an earlier, interrupted attempt) counts as written, which makes
    /// this safe to repeat. Returns false when the relationship already existed completely.
    /// </summary>
    /// <param name="targetAnswer">The record of the request's answer (an Idempotency-Key's), stored with the In copy: the last write.</param>
    public async Task<bool> AddRelationshipAsync(CiRelationship outgoing, CiAuditEvent sourceEvent, CiAuditEvent targetEvent, CancellationToken cancellationToken, Hosting.IdempotencyRecord? targetAnswer = null)
    {
        var (source, target) = RelationshipBatches(outgoing, sourceEvent, targetEvent, targetAnswer);
        var wroteSource = await CreateIfAbsentAsync(source, cancellationToken);
        bool wroteTarget;
        try
        {
            wroteTarget = await CreateIfAbsentAsync(target, cancellationToken);
        }
        catch when (wroteSource)
        {
            await store.ExecuteBatchAsync(
                Cis,
                DocumentKey.Compose(outgoing.TenantId, outgoing.SourceId),
                [new BatchOperation.Delete(outgoing.Id, null), new BatchOperation.Delete(sourceEvent.Id, null)],
                CancellationToken.None);
            throw;
        }

        return wroteSource || wroteTarget;
    }

    /// <summary>Removes both copies (target side first); false when there was none.</summary>
    public async Task<bool> RemoveRelationshipAsync(CiRelationship relationship, CiAuditEvent sourceEvent, CiAuditEvent targetEvent, CancellationToken cancellationToken)
    {
        var removed = false;
        foreach (var (ciId, audit) in new[] { (relationship.TargetId, targetEvent), (relationship.SourceId, sourceEvent) })
        {
            var partition = DocumentKey.Compose(relationship.TenantId, ciId);
            if (await store.ReadAsync<CiRelationship>(Cis, new DocumentKey(partition, relationship.Id), cancellationToken) is null)
            {
                continue;
            }

            await store.ExecuteBatchAsync(Cis, partition, [new BatchOperation.Delete(relationship.Id, null), new BatchOperation.Create(audit.Id, audit)], cancellationToken);
            removed = true;
        }

        return removed;
    }

    public Task<StoredDocument<CiRelationship>?> ReadRelationshipAsync(string tenantId, string ciId, string relationshipId, CancellationToken cancellationToken) =>
        IsValidId(ciId) && IsValidId(relationshipId)
            ? store.ReadAsync<CiRelationship>(Cis, new DocumentKey(DocumentKey.Compose(tenantId, ciId), relationshipId), cancellationToken)
            : Task.FromResult<StoredDocument<CiRelationship>?>(null);

    /// <summary>
    /// A relationship's two writes: its Out copy with the source's audit event under the source, its In copy with the
    /// target's audit event under the target. Each only creates, so a copy already there fails its batch with a
    /// conflict, which <see cref="AddRelationshipAsync"/> and the import count as written before.
    /// </summary>
    public static (PartitionBatch Source, PartitionBatch Target) RelationshipBatches(CiRelationship outgoing, CiAuditEvent sourceEvent, CiAuditEvent targetEvent, Hosting.IdempotencyRecord? targetAnswer = null)
    {
        var incoming = outgoing with { Direction = EdgeDirection.In, CiId = outgoing.TargetId };
        List<BatchOperation> targetOperations = [new BatchOperation.Create(incoming.Id, incoming), new BatchOperation.Create(targetEvent.Id, targetEvent)];
        if (targetAnswer is not null)
        {
            targetOperations.Add(new BatchOperation.Create(targetAnswer.Id, targetAnswer));
        }

        return (
            new PartitionBatch(DocumentKey.Compose(outgoing.TenantId, outgoing.SourceId), [new BatchOperation.Create(outgoing.Id, outgoing), new BatchOperation.Create(sourceEvent.Id, sourceEvent)]),
            new PartitionBatch(DocumentKey.Compose(outgoing.TenantId, outgoing.TargetId), targetOperations));
    }

    private async Task<bool> CreateIfAbsentAsync(PartitionBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await store.ExecuteBatchAsync(Cis, batch.PartitionKey, batch.Operations, cancellationToken);
            return true;
        }
        catch (DocumentConflictException)
        {
            return false;
        }
    }
}
