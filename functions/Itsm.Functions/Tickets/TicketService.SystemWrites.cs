using System.Text.Json;
using Microsoft.DurableTask.Client;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tickets;

/// <summary>
/// Ticket writes outside an HTTP request (mail and Teams intake, monitoring alerts): the same validation,
/// numbering, audit trail and observers as the API, with ids chosen by the caller so that a redelivered
/// message finds its earlier write instead of making a second one.
/// </summary>
public sealed partial class TicketService
{
    /// <summary>
    /// Raises a ticket as <paramref name="caller"/> (a sender or a system principal of the tenant). The typed input is
    /// validated by the same reader as the API's body. When a ticket with <paramref name="ticketId"/> exists already,
    /// it is returned unchanged with <see cref="SystemWriteResult.Duplicate"/> set.
    /// </summary>
    public async Task<SystemWriteResult> CreateFromSystemAsync(
        CallerPrincipal caller, string ticketId, SystemTicketInput input, string channel, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        var existing = await store.ReadAsync(caller.TenantId, ticketId, cancellationToken);
        if (existing is not null)
        {
            return SystemWriteResult.Existing(existing);
        }

        var body = JsonBodyReader.Parse(JsonSerializer.Serialize(input, HttpResults.Json), out var parseErrors)!;
        var forbidden = TicketInput.ForbiddenFields(body, caller, creating: true);
        if (forbidden.Count > 0)
        {
            return SystemWriteResult.Invalid(forbidden);
        }

        var type = TicketInput.ReadType(body, caller);
        var now = time.GetUtcNow();
        var matrix = await matrices.GetAsync(caller.TenantId, cancellationToken);
        var draft = TicketInput.ReadNew(body, caller, ticketId, "pending", type ?? TicketType.Incident, now, matrix);
        body.RejectUnknown();
        if (body.HasErrors || type is null)
        {
            return SystemWriteResult.Invalid(body.Errors.Count > 0 ? body.Errors : parseErrors);
        }

        var ticket = draft with { Channel = channel, Number = await store.AllocateNumberAsync(caller.TenantId, type.Value, cancellationToken) };
        StoredDocument<Ticket> created;
        try
        {
            created = await store.CreateAsync(ticket, Audit(ticket, "created", caller, TicketAudit.Diff(null, ticket), now) with { Channel = channel }, cancellationToken, new TicketWriteContext(null, caller));
        }
        catch (DocumentConflictException)
        {
            // A concurrent delivery of the same message won: its ticket is the one.
            return SystemWriteResult.Existing((await store.ReadAsync(caller.TenantId, ticketId, cancellationToken))!);
        }

        await NotifyObserversAsync(caller, durable, null, created.Document, cancellationToken);
        return new SystemWriteResult(created, Duplicate: false, Errors: null);
    }

    /// <summary>
    /// Adds a public comment (or work note) with the caller's id <paramref name="commentId"/>; when that comment is
    /// already stored the write is a duplicate and nothing changes. Null when the ticket does not exist.
    /// </summary>
    public async Task<SystemWriteResult?> CommentFromSystemAsync(
        CallerPrincipal caller, string ticketId, string commentId, string text, CommentKind kind, string channel, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > 10_000)
        {
            return SystemWriteResult.Invalid(new Dictionary<string, string[]> { ["body"] = ["must be 1 to 10000 characters."] });
        }

        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.ReadAsync(caller.TenantId, ticketId, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            var now = time.GetUtcNow();
            var ticket = stored.Document;
            var comment = new TicketComment
            {
                Id = commentId, TenantId = ticket.TenantId, TicketId = ticket.Id, Kind = kind,
                Author = new PersonRef(caller.UserId, caller.Name, caller.Email), At = now, Body = text, Channel = channel,
            };
            var updated = ticket with { UpdatedAt = now };
            var audit = Audit(updated, kind == CommentKind.Public ? "comment" : "work-note", caller, [], now) with { Channel = channel, Internal = kind == CommentKind.WorkNote };
            try
            {
                var written = await store.UpdateAsync(updated, stored.ETag, [comment, audit], cancellationToken, new TicketWriteContext(ticket, caller));
                await NotifyObserversAsync(caller, durable, ticket, written.Document, cancellationToken);
                return new SystemWriteResult(written, Duplicate: false, Errors: null);
            }
            catch (DocumentConflictException)
            {
                // The comment id is taken: this comment was added by an earlier delivery (the batch applied nothing).
                return SystemWriteResult.Existing((await store.ReadAsync(caller.TenantId, ticketId, cancellationToken))!);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                // The ticket changed meanwhile: add the comment to the fresh version.
            }
        }
    }

    /// <summary>A lifecycle transition (e.g. resolve) by a system principal; null when the ticket does not exist.</summary>
    public async Task<SystemWriteResult?> TransitionFromSystemAsync(
        CallerPrincipal caller, string ticketId, TransitionRequest request, string channel, DurableTaskClient? durable, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.ReadAsync(caller.TenantId, ticketId, cancellationToken);
            if (stored is null)
            {
                return null;
            }

            if (!TicketLifecycle.IsTransition(stored.Document.Type, request.Action))
            {
                return SystemWriteResult.Invalid(new Dictionary<string, string[]> { ["action"] = [$"A {stored.Document.Type} has no action '{request.Action}'."] });
            }

            var now = time.GetUtcNow();
            var outcome = TicketLifecycle.Apply(stored.Document, request, caller.UserId, now, Policy);
            if (outcome.Conflict is not null)
            {
                return SystemWriteResult.Invalid(new Dictionary<string, string[]> { ["action"] = [outcome.Conflict] });
            }

            if (!outcome.Succeeded)
            {
                return SystemWriteResult.Invalid(outcome.Errors!);
            }

            var audit = Audit(outcome.Value!, request.Action, caller, TicketAudit.Diff(stored.Document, outcome.Value!), now) with { Channel = channel };
            try
            {
                var written = await store.UpdateAsync(outcome.Value!, stored.ETag, [audit], cancellationToken, new TicketWriteContext(stored.Document, caller));
                await NotifyObserversAsync(caller, durable, stored.Document, written.Document, cancellationToken);
                return new SystemWriteResult(written, Duplicate: false, Errors: null);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                // Decide again on the fresh version.
            }
        }
    }

    /// <summary>
    /// After a stored write: calls the ticket observers, then carries out the write's follow-ups (notifications; those
    /// a crash interrupts are carried out by the sweep). Also for writes stored outside this service (an orchestration's
    /// activity that moved the ticket with its own audit event). Without a Durable client the caller tells the SLA clocks itself.
    /// </summary>
    public async Task NotifyObserversAsync(CallerPrincipal caller, DurableTaskClient? durable, Ticket? before, Ticket after, CancellationToken cancellationToken)
    {
        var change = new TicketChange(before, after, caller, after.UpdatedAt, durable);
        foreach (var observer in observers)
        {
            try
            {
                await observer.OnTicketChangedAsync(change, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "{Observer} failed on the change of ticket {TicketId} (revision {Revision}); the ticket itself is stored.", observer.GetType().Name, after.Id, after.Revision);
            }
        }

        try
        {
            await followUps.RelayAsync(after, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "The follow-ups of ticket {TicketId} (revision {Revision}) wait for the sweep.", after.Id, after.Revision);
        }
    }
}

/// <summary>The fields a system write may set on a new ticket (names as in the API's ticket body).</summary>
public sealed record SystemTicketInput(
    TicketType Type,
    string Title,
    string? Description = null,
    int? Impact = null,
    int? Urgency = null,
    PersonRef? Requester = null,
    string? Category = null,
    string? AffectedService = null,
    IReadOnlyList<string>? ConfigurationItems = null,
    IReadOnlyList<string>? Watchers = null,
    IReadOnlyList<string>? Tags = null);

/// <summary>The ticket as stored after a system write, whether the write had been done before, or why it was refused.</summary>
public sealed record SystemWriteResult(StoredDocument<Ticket>? Ticket, bool Duplicate, IReadOnlyDictionary<string, string[]>? Errors)
{
    public bool Succeeded => Errors is null;

    public static SystemWriteResult Existing(StoredDocument<Ticket> ticket) => new(ticket, Duplicate: true, Errors: null);

    public static SystemWriteResult Invalid(IReadOnlyDictionary<string, string[]> errors) => new(null, Duplicate: false, errors);
}
