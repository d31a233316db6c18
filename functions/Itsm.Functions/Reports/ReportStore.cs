using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Itsm.Functions.Sla;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Reports;

/// <summary>The counters of one slice: a dimension value on a day (or its open backlog by creation day).</summary>
public sealed record ReportSlice
{
    public const string DocumentType = "slice";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required string Slice { get; init; }

    public required string Dimension { get; init; }

    public required string Value { get; init; }

    public required string Bucket { get; init; }

    public required SortedDictionary<string, long> Values { get; init; }
}

/// <summary>What one ticket last added to its tenant's counters (at which ticket revision), so the next write can take it back.</summary>
public sealed record ReportFact
{
    public const string DocumentType = "fact";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required string TicketId { get; init; }

    public required int Revision { get; init; }

    public required TicketFacts Facts { get; init; }

    public static string IdFor(string ticketId) => "fact:" + ticketId;
}

/// <summary>
/// Per tenant: whether a rebuild is under way. Every counting write replaces it (ETag-conditional) in its transaction,
/// so a rebuild that marks it shuts out every counting write that began before.
/// </summary>
public sealed record ReportState
{
    public const string DocumentId = "report-state";
    public const string DocumentType = "state";

    public string Id => DocumentId;

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public bool Rebuilding { get; init; }

    public DateTimeOffset? RebuildStartedAt { get; init; }

    public DateTimeOffset? RebuiltAt { get; init; }

    /// <summary>Who asked for the last rebuild (the record of it; the log has each one).</summary>
    public string? RebuiltBy { get; init; }

    public long Writes { get; init; }
}

/// <summary>A rebuild is under way; the ticket write is counted after it (the follow-up stays and the sweep retries it).</summary>
public sealed class ReportsRebuildingException(string tenantId) : Exception($"The reports of tenant '{tenantId}' are being rebuilt.");

/// <summary>
/// The <c>reports</c> container, partitioned by <c>/tenantId</c>: a tenant's slices (counters per day and dimension
/// value), the facts of its tickets and its state. One partition per tenant, so a ticket's counting is one
/// transaction over its fact, the slices it moves and the state. It reads tickets straight from the store (not through
/// <see cref="TicketStore"/>, which depends on the follow-up sources, this feature among them).
/// </summary>
public sealed class ReportStore(IDocumentStore store, SlaSettings sla, TimeProvider time, ILogger<ReportStore> logger)
{
    public static readonly ContainerDefinition Reports = new(
        "reports",
        ["/tenantId"],
        [
            new("docType", "$.docType", FieldType.Text),
            new("slice", "$.slice", FieldType.Text),
        ]);

    private const int MaxAttempts = 20;
    private const int BatchLimit = 100;

    private readonly ConcurrentDictionary<string, BusinessCalendar?> _calendars = new(StringComparer.Ordinal);

    /// <summary>A slice's document id: readable, and never a character Cosmos refuses in an id.</summary>
    public static string IdOf(SliceKey key)
    {
        var id = $"{key.Dimension}|{key.Bucket}|{Uri.EscapeDataString(key.Value)}";
        return id.Length <= 200 ? id : $"{key.Dimension}|{key.Bucket}|#{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key.Value)))}";
    }

    /// <summary>The ticket's facts as the measure rules see it now, with its SLA calendars loaded (and cached: calendar versions never change).</summary>
    public async Task<TicketFacts> FactsAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        foreach (var clock in ticket.Sla)
        {
            var key = $"{ticket.TenantId}|{clock.CalendarId}|{clock.CalendarVersion}";
            if (!_calendars.ContainsKey(key))
            {
                BusinessCalendar? calendar = null;
                try
                {
                    calendar = await sla.CalendarAsync(ticket.TenantId, clock.CalendarId, clock.CalendarVersion, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "SLA calendar {Calendar} v{Version} of tenant {Tenant} cannot be read; business-hours measures leave out tickets on it.", clock.CalendarId, clock.CalendarVersion, ticket.TenantId);
                }

                _calendars[key] = calendar;
            }
        }

        return ReportRules.Facts(ticket, clock => _calendars.GetValueOrDefault($"{ticket.TenantId}|{clock.CalendarId}|{clock.CalendarVersion}"));
    }

    /// <summary>
    /// Counts the ticket as it is now: takes back what its stored fact added and adds its new facts, in one transaction
    /// with the fact and the tenant's state. Idempotent: a ticket already counted at this revision or later is left alone.
    /// </summary>
    public async Task CountAsync(string tenantId, string ticketId, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var stored = await store.ReadAsync<Ticket>(TicketStore.Tickets, TicketStore.KeyOf(tenantId, ticketId), cancellationToken);
            if (stored is null)
            {
                return;
            }

            var ticket = stored.Document;
            var state = await store.ReadAsync<ReportState>(Reports, new DocumentKey(tenantId, ReportState.DocumentId), cancellationToken);
            if (state?.Document.Rebuilding == true)
            {
                throw new ReportsRebuildingException(tenantId);
            }

            var fact = await store.ReadAsync<ReportFact>(Reports, new DocumentKey(tenantId, ReportFact.IdFor(ticketId)), cancellationToken);
            if (fact is not null && fact.Document.Revision >= ticket.Revision)
            {
                return;
            }

            var facts = await FactsAsync(ticket, cancellationToken);
            var delta = ReportRules.Delta(fact?.Document.Facts, facts);
            var operations = new List<BatchOperation>();
            foreach (var (key, change) in delta)
            {
                var id = IdOf(key);
                var slice = await store.ReadAsync<ReportSlice>(Reports, new DocumentKey(tenantId, id), cancellationToken);
                var values = new SortedDictionary<string, long>(slice?.Document.Values ?? new SortedDictionary<string, long>(), StringComparer.Ordinal);
                foreach (var (measure, amount) in change)
                {
                    var total = values.GetValueOrDefault(measure) + amount;
                    if (total == 0)
                    {
                        values.Remove(measure);
                    }
                    else
                    {
                        values[measure] = total;
                    }
                }

                var document = new ReportSlice { Id = id, TenantId = tenantId, Slice = key.Slice, Dimension = key.Dimension, Value = key.Value, Bucket = key.Bucket, Values = values };
                operations.Add(slice is null
                    ? new BatchOperation.Create(id, document)
                    : values.Count == 0 ? new BatchOperation.Delete(id, slice.ETag) : new BatchOperation.Replace(id, document, slice.ETag));
            }

            var newFact = new ReportFact { Id = ReportFact.IdFor(ticketId), TenantId = tenantId, TicketId = ticketId, Revision = ticket.Revision, Facts = facts };
            operations.Add(fact is null ? new BatchOperation.Create(newFact.Id, newFact) : new BatchOperation.Replace(newFact.Id, newFact, fact.ETag));
            var nextState = (state?.Document ?? new ReportState { TenantId = tenantId }) with { Writes = (state?.Document.Writes ?? 0) + 1 };
            operations.Add(state is null ? new BatchOperation.Create(ReportState.DocumentId, nextState) : new BatchOperation.Replace(ReportState.DocumentId, nextState, state.ETag));
            if (operations.Count > BatchLimit)
            {
                throw new InvalidOperationException($"Counting ticket {ticketId} needs {operations.Count} writes, more than one transaction takes.");
            }

            try
            {
                await store.ExecuteBatchAsync(Reports, tenantId, operations, cancellationToken);
                return;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException or DocumentNotFoundException && attempt < MaxAttempts)
            {
                // Another ticket of the tenant moved the same counters (or a rebuild began): read again.
            }
        }
    }

    /// <summary>The tenant's slices whose <see cref="ReportSlice.Slice"/> lies in [from, to].</summary>
    public async Task<IReadOnlyList<ReportSlice>> SlicesAsync(string tenantId, string from, string to, CancellationToken cancellationToken)
    {
        var result = new List<ReportSlice>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<ReportSlice>(
                Reports,
                new DocumentQuery(
                    tenantId,
                    [
                        new QueryFilter("slice", FilterOperator.GreaterThanOrEqual, from),
                        new QueryFilter("slice", FilterOperator.LessThanOrEqual, to),
                    ],
                    null,
                    DocumentStoreSupport.MaxPageSize,
                    continuation),
                cancellationToken);
            result.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return result;
    }

    public async Task<ReportState?> StateAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<ReportState>(Reports, new DocumentKey(tenantId, ReportState.DocumentId), cancellationToken))?.Document;

    /// <summary>
    /// Rebuilds a tenant's counters from its tickets: marks the state (shutting out counting writes, whose follow-ups
    /// wait for the sweep), computes every ticket's facts, replaces the slices and facts, then clears the mark.
    /// Returns the number of tickets counted.
    /// </summary>
    public async Task<RebuildResult> RebuildAsync(string tenantId, string requestedBy, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        await MarkAsync(tenantId, s => s with { Rebuilding = true, RebuildStartedAt = started }, cancellationToken);

        var slices = new Dictionary<SliceKey, SortedDictionary<string, long>>();
        var facts = new List<ReportFact>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<Ticket>(
                TicketStore.Tickets,
                new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, Ticket.DocumentType)], new QuerySort("createdAt", Descending: false), DocumentStoreSupport.MaxPageSize, continuation),
                cancellationToken);
            foreach (var item in page.Items)
            {
                var ticket = item.Document;
                var ticketFacts = await FactsAsync(ticket, cancellationToken);
                facts.Add(new ReportFact { Id = ReportFact.IdFor(ticket.Id), TenantId = tenantId, TicketId = ticket.Id, Revision = ticket.Revision, Facts = ticketFacts });
                foreach (var (key, measures) in ReportRules.Expand(ticketFacts))
                {
                    if (!slices.TryGetValue(key, out var values))
                    {
                        slices[key] = values = new SortedDictionary<string, long>(StringComparer.Ordinal);
                    }

                    foreach (var (measure, amount) in measures)
                    {
                        values[measure] = values.GetValueOrDefault(measure) + amount;
                    }
                }
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        var keep = new HashSet<string>(StringComparer.Ordinal);
        var writes = new List<BatchOperation>();
        foreach (var (key, values) in slices)
        {
            foreach (var zero in values.Where(v => v.Value == 0).Select(v => v.Key).ToList())
            {
                values.Remove(zero);
            }

            if (values.Count > 0)
            {
                var id = IdOf(key);
                keep.Add(id);
                writes.Add(new BatchOperation.Upsert(id, new ReportSlice { Id = id, TenantId = tenantId, Slice = key.Slice, Dimension = key.Dimension, Value = key.Value, Bucket = key.Bucket, Values = values }));
            }
        }

        foreach (var fact in facts)
        {
            keep.Add(fact.Id);
            writes.Add(new BatchOperation.Upsert(fact.Id, fact));
        }

        // What is stored and no longer derived from a ticket goes.
        foreach (var docType in new[] { ReportSlice.DocumentType, ReportFact.DocumentType })
        {
            continuation = null;
            do
            {
                var page = await store.QueryAsync<System.Text.Json.JsonElement>(Reports, new DocumentQuery(tenantId, [new QueryFilter("docType", FilterOperator.Equals, docType)], null, DocumentStoreSupport.MaxPageSize, continuation), cancellationToken);
                writes.AddRange(page.Items.Where(i => !keep.Contains(i.Key.Id)).Select(i => new BatchOperation.Delete(i.Key.Id, null)));
                continuation = page.ContinuationToken;
            }
            while (continuation is not null);
        }

        foreach (var chunk in writes.Chunk(BatchLimit))
        {
            await store.ExecuteBatchAsync(Reports, tenantId, chunk, cancellationToken);
        }

        var finished = time.GetUtcNow();
        await MarkAsync(tenantId, s => s with { Rebuilding = false, RebuiltAt = finished, RebuiltBy = requestedBy }, cancellationToken);
        logger.LogInformation("Reports of tenant {Tenant} rebuilt from {Tickets} tickets by {User}.", tenantId, facts.Count, requestedBy);
        return new RebuildResult(tenantId, facts.Count, keep.Count - facts.Count, started, finished);
    }

    private async Task MarkAsync(string tenantId, Func<ReportState, ReportState> change, CancellationToken cancellationToken)
    {
        var key = new DocumentKey(tenantId, ReportState.DocumentId);
        for (var attempt = 1; ; attempt++)
        {
            var state = await store.ReadAsync<ReportState>(Reports, key, cancellationToken);
            try
            {
                if (state is null)
                {
                    await store.CreateAsync(Reports, key, change(new ReportState { TenantId = tenantId }), cancellationToken);
                }
                else
                {
                    await store.ReplaceAsync(Reports, key, change(state.Document), state.ETag, cancellationToken);
                }

                return;
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException && attempt < MaxAttempts)
            {
                // A counting write got in first; mark again.
            }
        }
    }
}

public sealed record RebuildResult(string TenantId, int Tickets, int Slices, DateTimeOffset StartedAt, DateTimeOffset FinishedAt);
