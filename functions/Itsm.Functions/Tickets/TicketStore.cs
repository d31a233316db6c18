using System.Collections.Concurrent;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tickets;

/// <summary>
/// Where tickets live: the <c>tickets</c> container, partitioned by (tenantId, ticketId), holds each ticket
/// with its comments, time entries and audit events, so a ticket and the record of its change are written
/// in one transaction. Numbers come from per-tenant counters in <c>counters</c>, reserved in blocks.
/// </summary>
public sealed class TicketStore(IDocumentStore store, IEnumerable<ITicketWriteRule> rules, IEnumerable<ITicketFollowUpSource> followUpSources)
{
    private readonly ITicketWriteRule[] rules = [.. rules.OrderBy(r => r.Order)];
    private readonly ITicketFollowUpSource[] followUpSources = [.. followUpSources];

    public TicketStore(IDocumentStore store, IEnumerable<ITicketWriteRule> rules)
        : this(store, rules, [])
    {
    }

    public TicketStore(IDocumentStore store)
        : this(store, [], [])
    {
    }

    public static readonly ContainerDefinition Tickets = new(
        "tickets",
        ["/tenantId", "/ticketId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("type", "$.type", FieldType.Text),
            new("state", "$.state", FieldType.Text),
            new("priority", "$.priority", FieldType.Number),
            new("number", "$.number", FieldType.Text),
            new("title", "$.title", FieldType.Text) { FullText = true },
            new("assignee", "$.assignee.id", FieldType.Text),
            new("assignmentGroup", "$.assignmentGroup", FieldType.Text),
            new("requester", "$.requester.id", FieldType.Text),
            new("configurationItems", "$.configurationItems", FieldType.TextArray),
            new("createdAt", "$.createdAt", FieldType.Instant),
            new("updatedAt", "$.updatedAt", FieldType.Instant),
            new("at", "$.at", FieldType.Instant),
            new("sequence", "$.sequence", FieldType.Number),
        ])
    {
        // The list's default sort is -updatedAt: these filters walk their own matches in that order (docs/benchmarks.md).
        SortedIndexes = [["assignmentGroup", "updatedAt"], ["assignee", "updatedAt"], ["state", "updatedAt"]],
    };

    public static readonly ContainerDefinition Counters = new("counters", ["/tenantId"], []);

    private const int MaxAttempts = 50;

    public static DocumentKey KeyOf(string tenantId, string ticketId) => new(DocumentKey.Compose(tenantId, ticketId), ticketId);

    public Task<StoredDocument<Ticket>?> ReadAsync(string tenantId, string ticketId, CancellationToken cancellationToken) =>
        store.ReadAsync<Ticket>(Tickets, KeyOf(tenantId, ticketId), cancellationToken);

    /// <summary>The largest block of numbers a process reserves at once (see <see cref="AllocateNumberAsync"/>).</summary>
    public const int MaxNumberBlock = 64;

    /// <summary>A block that lasted less than this was too small: the next one is twice as large.</summary>
    private static readonly TimeSpan BlockGrowthWindow = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(string TenantId, TicketType Type), NumberBlock> numberBlocks = new();

    /// <summary>
    /// The next number of a type in a tenant, unique under concurrency and across processes sharing the store.
    /// Numbers are reserved from the tenant's counter document in blocks (an ETag-conditional replace, retried when
    /// another process got there first) and handed out from memory, one at a time, in order. A block starts at one
    /// number and doubles (up to <see cref="MaxNumberBlock"/>) while the previous one was used up within a second, so
    /// a quiet tenant reserves numbers one by one (no gaps) and a busy one writes the counter once per up to 64
    /// tickets instead of per ticket. The price, documented in docs/benchmarks.md: numbers of a block a process had
    /// not handed out when it stopped are never used (a gap of at most 63 per type per restart), and with several
    /// processes (Functions instances) numbers are unique but not in creation order across them.
    /// </summary>
    public async Task<string> AllocateNumberAsync(string tenantId, TicketType type, CancellationToken cancellationToken)
    {
        var block = numberBlocks.GetOrAdd((tenantId, type), _ => new NumberBlock());
        if (block.TryTake(out var taken))
        {
            return TicketNumbering.Format(type, taken);
        }

        await block.Refill.WaitAsync(cancellationToken);
        try
        {
            if (block.TryTake(out taken))
            {
                return TicketNumbering.Format(type, taken);
            }

            var size = block.NextSize();
            var first = await ReserveAsync(tenantId, type, size, cancellationToken);
            return TicketNumbering.Format(type, block.Fill(first, size));
        }
        finally
        {
            block.Refill.Release();
        }
    }

    /// <summary>Advances the counter by <paramref name="size"/>; returns the first sequence of the reserved block.</summary>
    private async Task<long> ReserveAsync(string tenantId, TicketType type, int size, CancellationToken cancellationToken)
    {
        var prefix = TicketNumbering.Prefix(type);
        var key = new DocumentKey(tenantId, prefix);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var counter = await store.ReadAsync<TicketCounter>(Counters, key, cancellationToken);
            try
            {
                if (counter is null)
                {
                    await store.CreateAsync(Counters, key, new TicketCounter(prefix, tenantId, size), cancellationToken);
                    return 0;
                }

                await store.ReplaceAsync(Counters, key, counter.Document with { Next = counter.Document.Next + size }, counter.ETag, cancellationToken);
                return counter.Document.Next;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException)
            {
                // Another process reserved a block first; read the counter again.
            }
        }

        throw new DocumentStoreException($"Could not allocate a {prefix} number after {MaxAttempts} attempts; the counter is too contended.");
    }

    /// <summary>The numbers of one tenant and type reserved by this process and not handed out yet: [next, end).</summary>
    private sealed class NumberBlock
    {
        private readonly Lock gate = new();
        private long next;
        private long end;
        private int size;
        private long filledAt = long.MinValue;

        public SemaphoreSlim Refill { get; } = new(1, 1);

        public bool TryTake(out long sequence)
        {
            lock (gate)
            {
                sequence = next;
                if (next < end)
                {
                    next++;
                    return true;
                }

                return false;
            }
        }

        /// <summary>One at first; doubled when the last block lasted under a second, halved otherwise.</summary>
        public int NextSize()
        {
            var quick = filledAt != long.MinValue && System.Diagnostics.Stopwatch.GetElapsedTime(filledAt) < BlockGrowthWindow;
            size = size == 0 ? 1 : quick ? Math.Min(size * 2, MaxNumberBlock) : Math.Max(size / 2, 1);
            return size;
        }

        /// <summary>Keeps [first + 1, first + size) for later callers and returns first.</summary>
        public long Fill(long first, int size)
        {
            lock (gate)
            {
                next = first + 1;
                end = first + size;
                filledAt = System.Diagnostics.Stopwatch.GetTimestamp();
                return first;
            }
        }
    }

    /// <summary>
    /// Creates a ticket (revision 1) with its "created" audit event in one transaction; with a <paramref name="context"/>,
    /// the follow-ups the features derive from the write (notifications) are written in it too.
    /// </summary>
    /// <param name="answer">Makes the record of the request's answer from the ticket as written (an Idempotency-Key's), stored in the same transaction.</param>
    public async Task<StoredDocument<Ticket>> CreateAsync(Ticket ticket, AuditEvent created, CancellationToken cancellationToken, TicketWriteContext? context = null, Func<Ticket, ITicketRecord?>? answer = null)
    {
        var (first, extra) = await ApplyRulesAsync(ticket with { Revision = 1 }, cancellationToken);
        extra = [.. extra, .. FollowUps(context, first, [created, .. extra]), .. Answer(answer, first)];
        var etags = await store.ExecuteBatchAsync(
            Tickets,
            DocumentKey.Compose(ticket.TenantId, ticket.Id),
            [
                new BatchOperation.Create(first.Id, first),
                new BatchOperation.Create(created.Id, created.WithSequence(1)),
                .. extra.Select(record => Append(record, 1)),
            ],
            cancellationToken);
        return new StoredDocument<Ticket>(KeyOf(first.TenantId, first.Id), first, etags[0]);
    }

    /// <summary>
    /// Replaces a ticket if it is still at <paramref name="ifMatch"/>, as its next revision, and appends the
    /// audit event and any other new records of its partition (comments, time entries), all or nothing.
    /// </summary>
    public async Task<StoredDocument<Ticket>> UpdateAsync(Ticket ticket, string ifMatch, IReadOnlyList<ITicketRecord> appended, CancellationToken cancellationToken, TicketWriteContext? context = null, Func<Ticket, ITicketRecord?>? answer = null)
    {
        var (next, extra) = await ApplyRulesAsync(ticket with { Revision = ticket.Revision + 1 }, cancellationToken);
        extra = [.. extra, .. FollowUps(context, next, [.. appended, .. extra]), .. Answer(answer, next)];
        var operations = new List<BatchOperation> { new BatchOperation.Replace(next.Id, next, ifMatch) };
        operations.AddRange(appended.Concat(extra).Select(record => Append(record, next.Revision)));
        var etags = await store.ExecuteBatchAsync(Tickets, DocumentKey.Compose(next.TenantId, next.Id), operations, cancellationToken);
        return new StoredDocument<Ticket>(KeyOf(next.TenantId, next.Id), next, etags[0]);
    }

    /// <summary>Records are created (a second write of the same id fails the batch); projections replace their earlier copy.</summary>
    private static BatchOperation Append(ITicketRecord record, int sequence) =>
        record is ITicketProjection
            ? new BatchOperation.Upsert(record.Id, record.WithSequence(sequence))
            : new BatchOperation.Create(record.Id, record.WithSequence(sequence));

    private static IEnumerable<ITicketRecord> Answer(Func<Ticket, ITicketRecord?>? answer, Ticket written) =>
        answer?.Invoke(written) is { } record ? [record] : [];

    /// <summary>The follow-ups of a write (the transactional outbox), computed from the version actually written.</summary>
    private IEnumerable<ITicketRecord> FollowUps(TicketWriteContext? context, Ticket written, IReadOnlyList<ITicketRecord> records) =>
        context is null ? [] : followUpSources.SelectMany(s => s.FollowUpsFor(context, written, records)).DistinctBy(f => f.Id).ToArray();

    private async Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyRulesAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var records = new List<ITicketRecord>();
        foreach (var rule in rules)
        {
            var (changed, added) = await rule.ApplyAsync(ticket, cancellationToken);
            ticket = changed;
            records.AddRange(added);
        }

        return (ticket, records);
    }

    public Task<DocumentPage<Ticket>> QueryTicketsAsync(string tenantId, IReadOnlyList<QueryFilter> filters, QuerySort sort, int pageSize, string? continuation, CancellationToken cancellationToken) =>
        store.QueryAsync<Ticket>(
            Tickets,
            new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, Ticket.DocumentType), .. filters], sort, pageSize, continuation),
            cancellationToken);

    public Task<DocumentPage<T>> QueryPartitionAsync<T>(string tenantId, string ticketId, string docType, int pageSize, string? continuation, CancellationToken cancellationToken) =>
        store.QueryAsync<T>(
            Tickets,
            new DocumentQuery(DocumentKey.Compose(tenantId, ticketId), [new QueryFilter("docType", FilterOperator.Equals, docType)], new QuerySort("sequence", Descending: false), pageSize, continuation),
            cancellationToken);
}

/// <summary>
/// A rule that every ticket write passes through, inside the write: it may change derived fields of the ticket
/// (e.g. its SLA clocks, from its state at <see cref="Ticket.UpdatedAt"/>) and add records to the same transaction.
/// </summary>
public interface ITicketWriteRule
{
    /// <summary>
    /// Rules run in ascending order. A rule that changes the ticket's state must run before the rules that derive
    /// fields from that state (the SLA clocks), whatever order the features were registered in.
    /// </summary>
    int Order => 0;

    Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken);
}

public sealed record TicketCounter(string Id, string TenantId, long Next);

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<CommentKind>))]
public enum CommentKind
{
    /// <summary>Visible to the requester.</summary>
    Public,

    /// <summary>Internal: agents only.</summary>
    WorkNote,
}

/// <summary>A record stored in a ticket's partition next to it, stamped with the ticket revision that added it.</summary>
public interface ITicketRecord
{
    string Id { get; }

    ITicketRecord WithSequence(int sequence);
}

/// <summary>
/// A copy of part of the ticket kept next to it for queries across tickets (a fulfilment task in its group's queue):
/// written with the ticket in the same transaction, replacing the earlier copy of the same id.
/// </summary>
public interface ITicketProjection : ITicketRecord
{
}

/// <summary>A public comment or internal work note, stored in the ticket's partition.</summary>
public sealed record TicketComment : ITicketRecord
{
    public const string DocumentType = "comment";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string TicketId { get; init; }

    public string DocType => DocumentType;

    public required CommentKind Kind { get; init; }

    public required PersonRef Author { get; init; }

    public required DateTimeOffset At { get; init; }

    public required string Body { get; init; }

    public required string Channel { get; init; }

    public int Sequence { get; init; }

    public ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };
}

/// <summary>Time worked on a ticket by an agent.</summary>
public sealed record TimeEntry : ITicketRecord
{
    public const string DocumentType = "time";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string TicketId { get; init; }

    public string DocType => DocumentType;

    public required string Agent { get; init; }

    public required DateTimeOffset At { get; init; }

    public required int Minutes { get; init; }

    public string? Note { get; init; }

    public int Sequence { get; init; }

    public ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };
}
