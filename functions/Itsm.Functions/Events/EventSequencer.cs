using System.Text.Json;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Events;

/// <summary>
/// Makes the events a change left in its record's partition (in the change's own transaction) into log entries: right
/// after the write, and (the sweep) for what a crash left behind. The pending events of one partition are placed in the
/// order of their record's revisions, and placing stops at the first failure, so one record's events never overtake
/// each other. Placing is idempotent (the log keeps one entry per event id), so a crash between placing and deleting the
/// pending event changes nothing when it is placed again.
/// </summary>
public sealed class EventSequencer(IDocumentStore store, EventLog log, ILogger<EventSequencer> logger)
{
    /// <summary>The containers whose records leave <see cref="PendingEvent"/>s (tickets use follow-ups instead).</summary>
    public static readonly IReadOnlyList<ContainerDefinition> PendingContainers = [Cmdb.CmdbStore.Cis, Approvals.ApprovalStore.Approvals];

    /// <summary>The pending-event document that goes into the change's batch.</summary>
    public static BatchOperation PendingFor(FeedEvent feedEvent, long order, string? ciId = null) =>
        new BatchOperation.Create(PendingEvent.IdFor(feedEvent.Id), new PendingEvent
        {
            Id = PendingEvent.IdFor(feedEvent.Id),
            TenantId = feedEvent.TenantId,
            CiId = ciId,
            At = feedEvent.OccurredAt,
            Order = order,
            Event = feedEvent,
        });

    public static FeedEvent NewEvent<T>(string tenantId, string type, EventSubject subject, string sessionKey, DateTimeOffset at, T data) => new()
    {
        Id = Storage.SequentialIds.Next(),
        TenantId = tenantId,
        Type = type,
        Subject = subject,
        SessionKey = sessionKey,
        OccurredAt = at,
        Data = JsonSerializer.SerializeToElement(data, Hosting.HttpResults.Json),
    };

    /// <summary>Places the pending events of one partition, oldest first; a failure leaves the rest for the sweep (never throws).</summary>
    public async Task<int> TryRelayAsync(ContainerDefinition container, string partitionKey, CancellationToken cancellationToken)
    {
        try
        {
            return await RelayAsync(container, partitionKey, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The pending events of partition {Partition} in {Container} wait for the sweep.", partitionKey, container.Name);
            return 0;
        }
    }

    private async Task<int> RelayAsync(ContainerDefinition container, string partitionKey, CancellationToken cancellationToken)
    {
        var pending = await PendingAsync(container, partitionKey, cancellationToken);
        foreach (var item in pending.OrderBy(p => p.Document.Order).ThenBy(p => p.Document.At))
        {
            await log.AppendAsync(item.Document.Event, cancellationToken);
            await store.DeleteAsync(container, item.Key, null, cancellationToken);
        }

        return pending.Count;
    }

    /// <summary>
    /// Places every pending event of one tenant in a hierarchical container (a bulk write left one in many partitions),
    /// many per transaction: each partition's in the order of its record's revisions, the partitions in the order of
    /// their first event, then deletes them a batch per partition, all in one call to the store. What is not placed
    /// waits for the sweep (never throws); placing twice changes nothing, as for <see cref="TryRelayAsync"/>.
    /// </summary>
    public async Task<int> TryRelayTenantAsync(ContainerDefinition container, string tenantId, CancellationToken cancellationToken)
    {
        try
        {
            var pending = await PendingAsync(container, tenantId, cancellationToken);
            var partitions = pending
                .GroupBy(p => p.Key.PartitionKey, StringComparer.Ordinal)
                .Select(g => g.OrderBy(p => p.Document.Order).ThenBy(p => p.Document.At).ToList())
                .OrderBy(g => g[0].Document.At)
                .ToList();
            await log.AppendManyAsync(tenantId, [.. partitions.SelectMany(g => g.Select(p => p.Document.Event))], cancellationToken);
            await store.ExecuteBatchesAsync(
                container,
                [.. partitions.SelectMany(g => g.Chunk(100).Select(c => new PartitionBatch(g[0].Key.PartitionKey, [.. c.Select(p => new BatchOperation.Delete(p.Key.Id, null))])))],
                cancellationToken);
            return pending.Count;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The pending events of tenant {Tenant} in {Container} wait for the sweep.", tenantId, container.Name);
            return 0;
        }
    }

    /// <summary>The pending events of a partition, or of a tenant's partitions when given the first level of a hierarchical key.</summary>
    private async Task<List<StoredDocument<PendingEvent>>> PendingAsync(ContainerDefinition container, string partitionKey, CancellationToken cancellationToken)
    {
        var pending = new List<StoredDocument<PendingEvent>>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<PendingEvent>(
                container,
                new DocumentQuery(partitionKey, [new QueryFilter("docType", FilterOperator.Equals, PendingEvent.DocumentType)], null, 500, continuation),
                cancellationToken);
            pending.AddRange(page.Items);
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return pending;
    }

    /// <summary>Places every pending event of every partition (a crash or an outage left them); returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var container in PendingContainers)
        {
            var page = await store.QueryAsync<PendingEvent>(
                container,
                new DocumentQuery(null, [new QueryFilter("docType", FilterOperator.Equals, PendingEvent.DocumentType)], null, 500),
                cancellationToken);
            foreach (var partition in page.Items.Select(i => i.Key.PartitionKey).Distinct(StringComparer.Ordinal))
            {
                done += await TryRelayAsync(container, partition, cancellationToken);
            }
        }

        return done;
    }

    /// <summary>Places a ticket's event carried by a follow-up, after any earlier revision's event still waiting in the same partition.</summary>
    public async Task RelayTicketEventAsync(TicketFollowUp followUp, CancellationToken cancellationToken)
    {
        var earlier = await store.QueryAsync<TicketFollowUp>(
            TicketStore.Tickets,
            new DocumentQuery(
                DocumentKey.Compose(followUp.TenantId, followUp.TicketId),
                [new QueryFilter("docType", FilterOperator.Equals, TicketFollowUp.DocumentType), new QueryFilter("sequence", FilterOperator.LessThan, followUp.Sequence)],
                new QuerySort("sequence", Descending: false),
                200),
            cancellationToken);
        foreach (var before in earlier.Items.Select(i => i.Document).Where(f => f.Kind == TicketEvents.Kind))
        {
            await log.AppendAsync(before.Read<FeedEvent>(), cancellationToken);
        }

        await log.AppendAsync(followUp.Read<FeedEvent>(), cancellationToken);
    }
}

/// <summary>
/// Every ticket write (API, system, SLA, merge) carries its event as a follow-up in its own transaction: a write rule
/// that runs last, so it sees the version actually written. The follow-up machinery relays it right after the write
/// and its sweep picks up what a crash left behind.
/// </summary>
public sealed class TicketEvents(EventSequencer sequencer) : ITicketWriteRule, ITicketFollowUpHandler
{
    public const string Kind = "events.sequence";

    public int Order => int.MaxValue;

    string ITicketFollowUpHandler.Kind => Kind;

    public Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var noun = ticket.Type == TicketType.Change ? "change" : "ticket";
        var type = ticket.Revision <= 1 ? $"{noun}.created" : $"{noun}.updated";
        var feedEvent = EventSequencer.NewEvent(ticket.TenantId, type, new EventSubject(noun, ticket.Id, ticket.Number, ticket.Revision), ticket.Id, ticket.UpdatedAt, ticket);
        IReadOnlyList<ITicketRecord> records = [TicketFollowUp.Create(Kind, $"event-r{ticket.Revision}", ticket, feedEvent, ticket.UpdatedAt)];
        return Task.FromResult((ticket, records));
    }

    public Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken) => sequencer.RelayTicketEventAsync(followUp, cancellationToken);
}
