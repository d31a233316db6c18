using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Tickets;

/// <summary>
/// Work a ticket write leaves to do elsewhere (notifications to publish, the survivor's half of a merge), stored in
/// the ticket's partition in the write's own transaction: the transactional outbox. It exists exactly when the write
/// does, so a crash between the write and that work loses nothing: <see cref="TicketFollowUps"/> carries it out right
/// after the write, and its sweep carries out what a crash left behind. Handlers are idempotent, so doing one twice
/// changes nothing the second time.
/// </summary>
public sealed record TicketFollowUp : ITicketRecord
{
    public const string DocumentType = "follow-up";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string TicketId { get; init; }

    public string DocType => DocumentType;

    /// <summary>Which <see cref="ITicketFollowUpHandler"/> carries it out.</summary>
    public required string Kind { get; init; }

    /// <summary>What the handler needs, as JSON (the handler's own record).</summary>
    public required JsonElement Payload { get; init; }

    /// <summary>When the write that left it happened.</summary>
    public required DateTimeOffset At { get; init; }

    public int Sequence { get; init; }

    public ITicketRecord WithSequence(int sequence) => this with { Sequence = sequence };

    public static TicketFollowUp Create<T>(string kind, string id, Ticket ticket, T payload, DateTimeOffset at) => new()
    {
        Id = id,
        TenantId = ticket.TenantId,
        TicketId = ticket.Id,
        Kind = kind,
        Payload = JsonSerializer.SerializeToElement(payload, Hosting.HttpResults.Json),
        At = at,
    };

    public T Read<T>() => Payload.Deserialize<T>(Hosting.HttpResults.Json)!;
}

/// <summary>Who writes and what the ticket was: what a follow-up source needs besides the new version.</summary>
public sealed record TicketWriteContext(Ticket? Before, CallerPrincipal Actor);

/// <summary>A feature that turns a ticket write into follow-ups written with it (the notifications feature: what to tell whom).</summary>
public interface ITicketFollowUpSource
{
    /// <param name="after">The version being written, after the write rules.</param>
    /// <param name="appended">The records written with it (comments, audit events).</param>
    IEnumerable<TicketFollowUp> FollowUpsFor(TicketWriteContext context, Ticket after, IReadOnlyList<ITicketRecord> appended);
}

/// <summary>Carries out the follow-ups of one kind. Must be idempotent: a follow-up may be carried out more than once.</summary>
public interface ITicketFollowUpHandler
{
    string Kind { get; }

    Task HandleAsync(TicketFollowUp followUp, CancellationToken cancellationToken);
}

/// <summary>Carries out follow-ups and deletes each once done: those of a write right after it, and (the sweep) those a crash left behind.</summary>
public sealed class TicketFollowUps(IDocumentStore store, IEnumerable<ITicketFollowUpHandler> handlers, TimeProvider time, ILogger<TicketFollowUps> logger)
{
    /// <summary>The sweep leaves younger follow-ups to the request that wrote them.</summary>
    public static readonly TimeSpan SweepAge = TimeSpan.FromSeconds(30);

    private readonly Dictionary<string, ITicketFollowUpHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);

    /// <summary>Carries out the follow-ups written with revision <see cref="Ticket.Revision"/> of <paramref name="ticket"/>.</summary>
    public async Task RelayAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        var page = await store.QueryAsync<TicketFollowUp>(
            TicketStore.Tickets,
            new DocumentQuery(
                DocumentKey.Compose(ticket.TenantId, ticket.Id),
                [new QueryFilter("docType", FilterOperator.Equals, TicketFollowUp.DocumentType), new QueryFilter("sequence", FilterOperator.Equals, ticket.Revision)],
                null,
                100),
            cancellationToken);
        foreach (var followUp in page.Items)
        {
            await CarryOutAsync(followUp.Document, cancellationToken);
        }
    }

    /// <summary>Carries out follow-ups older than <see cref="SweepAge"/> in every tenant (a crash left them); returns how many were done.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var done = 0;
        var page = await store.QueryAsync<TicketFollowUp>(
            TicketStore.Tickets,
            new DocumentQuery(
                null,
                [new QueryFilter("docType", FilterOperator.Equals, TicketFollowUp.DocumentType), new QueryFilter("at", FilterOperator.LessThanOrEqual, time.GetUtcNow() - SweepAge)],
                new QuerySort("at", Descending: false),
                100),
            cancellationToken);
        foreach (var followUp in page.Items)
        {
            done += await CarryOutAsync(followUp.Document, cancellationToken) ? 1 : 0;
        }

        return done;
    }

    private async Task<bool> CarryOutAsync(TicketFollowUp followUp, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(followUp.Kind, out var handler))
        {
            logger.LogError("No handler for follow-up kind {Kind} ({Id} of ticket {TicketId}); it stays stored.", followUp.Kind, followUp.Id, followUp.TicketId);
            return false;
        }

        try
        {
            await handler.HandleAsync(followUp, cancellationToken);
            await store.DeleteAsync(TicketStore.Tickets, new DocumentKey(DocumentKey.Compose(followUp.TenantId, followUp.TicketId), followUp.Id), null, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Kept: the sweep tries again.
            logger.LogWarning(ex, "Follow-up {Kind} {Id} of ticket {TicketId} failed; the sweep retries it.", followUp.Kind, followUp.Id, followUp.TicketId);
            return false;
        }
    }
}

/// <summary>The sweep of follow-ups a crash left behind, every 30 seconds in both hosts.</summary>
public sealed class TicketFollowUpFunctions(TicketFollowUps followUps, ILogger<TicketFollowUpFunctions> logger)
{
    [Function("Tickets_FollowUpSweep")]
    public async Task TicketsFollowUpSweep([TimerTrigger("*/30 * * * * *")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var done = await followUps.SweepAsync(cancellationToken);
        if (done > 0)
        {
            logger.LogInformation("Carried out {Count} ticket follow-ups left by an interrupted write.", done);
        }
    }
}
