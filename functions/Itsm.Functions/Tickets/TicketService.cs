using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tickets;

/// <summary>The ticket use cases behind the API: who may do what, the rules, and writing with an audit trail.</summary>
public sealed partial class TicketService(
    TicketStore store,
    PriorityMatrixSettings matrices,
    TimeProvider time,
    IEnumerable<ITicketChangeObserver> observers,
    IEnumerable<ITicketTransitionGuard> guards,
    TicketFollowUps followUps,
    Idempotency idempotency,
    ILogger<TicketService> logger)
{
    private const int MaxConflictRetries = 5;

    private static readonly string[] RequesterActions = ["comment", "reopen", "close", "cancel"];

    public TicketPolicy Policy { get; } = TicketPolicy.Default;

    public Task<HttpResponseOutput> CreateAsync(ApiContext api) => CreateAsync(api, api.Request.Body, prepare: null);

    /// <summary>
    /// Raises a ticket from <paramref name="json"/> exactly as <c>POST /api/tickets</c> does; another feature's endpoint
    /// (a standard change from its template) passes its own body and <paramref name="prepare"/>, which sets what callers
    /// may not set themselves on the validated draft before it is numbered and stored.
    /// </summary>
    public async Task<HttpResponseOutput> CreateAsync(ApiContext api, string? json, Func<Ticket, Ticket>? prepare)
    {
        var idem = await idempotency.BeginAsync(api);
        if (idem.Answer is { } refused)
        {
            return refused;
        }

        if (idem.PlannedId is { } planned && await idem.ReplayAsync(TicketStore.Tickets, DocumentKey.Compose(api.Caller.TenantId, planned), api.CancellationToken) is { } replay)
        {
            return replay;
        }

        var body = JsonBodyReader.Parse(json, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var forbidden = TicketInput.ForbiddenFields(body, api.Caller, creating: true);
        if (forbidden.Count > 0)
        {
            return ApiFunctions.Forbidden("Some fields may not be set by your role.", forbidden);
        }

        var type = TicketInput.ReadType(body, api.Caller);
        var now = time.GetUtcNow();
        var id = Guid.NewGuid().ToString("N");
        var matrix = await matrices.GetAsync(api.Caller.TenantId, api.CancellationToken);
        var draft = TicketInput.ReadNew(body, api.Caller, id, "pending", type ?? TicketType.Incident, now, matrix);
        body.RejectUnknown();
        if (body.HasErrors || type is null)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        // With an Idempotency-Key the ticket's id is the key's planned id, so a retry finds what the first attempt created.
        if (!await idem.BindAsync(api.CancellationToken))
        {
            return idem.Answer!;
        }

        var partition = DocumentKey.Compose(api.Caller.TenantId, idem.PlannedId ?? id);
        if (idem.Active && await idem.ReplayAsync(TicketStore.Tickets, partition, api.CancellationToken) is { } finished)
        {
            return finished;
        }

        var ticket = (prepare?.Invoke(draft) ?? draft) with { Id = idem.PlannedId ?? id, Number = await store.AllocateNumberAsync(api.Caller.TenantId, type.Value, api.CancellationToken) };
        StoredDocument<Ticket> created;
        try
        {
            created = await store.CreateAsync(
                ticket,
                Audit(ticket, "created", api.Caller, TicketAudit.Diff(null, ticket), now),
                api.CancellationToken,
                new TicketWriteContext(null, api.Caller),
                final => idem.Record(Created(final, api.Caller, etag: null), ticketId: final.Id));
        }
        catch (DocumentConflictException) when (idem.Active)
        {
            // A concurrent request with the same key created it first: its answer is this one's.
            return await idem.ReplayAsync(TicketStore.Tickets, partition, api.CancellationToken)
                ?? HttpResults.Problem(409, "The request is in progress.", "Another request with this Idempotency-Key is creating the ticket; send it again in a moment.");
        }

        CrashPoints.Reached("ticket-created");
        await NotifyAsync(api, null, created.Document);
        return Created(created.Document, api.Caller, created.ETag);
    }

    private static HttpResponseOutput Created(Ticket ticket, CallerPrincipal caller, string? etag)
    {
        var headers = new Dictionary<string, string> { ["Location"] = $"/api/tickets/{ticket.Id}" };
        if (etag is not null)
        {
            headers["ETag"] = etag;
        }

        return HttpResults.JsonBody(201, View(ticket, caller), headers);
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api, string ticketId)
    {
        var stored = await ReadVisibleAsync(api, ticketId);
        return stored is null
            ? ApiFunctions.NotFound($"Ticket '{ticketId}'")
            : HttpResults.Ok(View(stored.Document, api.Caller), new Dictionary<string, string> { ["ETag"] = stored.ETag });
    }

    public async Task<HttpResponseOutput> PatchAsync(ApiContext api, string ticketId)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Requesters add comments to their tickets instead of editing them.");
        }

        var ifMatch = api.Request.Header("If-Match");
        if (string.IsNullOrEmpty(ifMatch))
        {
            return HttpResults.Problem(428, "If-Match is required.", "Send the ETag of the version you read, so that nobody's change is overwritten.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var forbidden = TicketInput.ForbiddenFields(body, api.Caller, creating: false);
        if (forbidden.Count > 0)
        {
            return ApiFunctions.Forbidden("Some fields cannot be changed.", forbidden);
        }

        var stored = await ReadVisibleAsync(api, ticketId);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"Ticket '{ticketId}'");
        }

        if (stored.Document.State is TicketState.Closed or TicketState.Cancelled)
        {
            return HttpResults.Problem(409, "The ticket is finished.", $"{stored.Document.Number} is {stored.Document.State} and can no longer be edited.");
        }

        var now = time.GetUtcNow();
        var matrix = await matrices.GetAsync(api.Caller.TenantId, api.CancellationToken);
        var updated = TicketInput.Apply(stored.Document, body, creating: false, matrix) with { UpdatedAt = now };
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        if (ifMatch != stored.ETag)
        {
            return PreconditionFailed(stored.Document);
        }

        var changes = TicketAudit.Diff(stored.Document, updated);
        if (changes.Count == 0)
        {
            return HttpResults.Ok(View(stored.Document, api.Caller), new Dictionary<string, string> { ["ETag"] = stored.ETag });
        }

        try
        {
            var written = await store.UpdateAsync(updated, ifMatch, [Audit(updated, "updated", api.Caller, changes, now)], api.CancellationToken, new TicketWriteContext(stored.Document, api.Caller));
            await NotifyAsync(api, stored.Document, written.Document);
            return HttpResults.Ok(View(written.Document, api.Caller), new Dictionary<string, string> { ["ETag"] = written.ETag });
        }
        catch (PreconditionFailedException)
        {
            return PreconditionFailed(stored.Document);
        }
    }

    public async Task<HttpResponseOutput> ActAsync(ApiContext api, string ticketId, string action)
    {
        var idem = await idempotency.BeginAsync(api);
        if (idem.Answer is { } refused)
        {
            return refused;
        }

        var body = JsonBodyReader.Parse(string.IsNullOrWhiteSpace(api.Request.Body) ? "{}" : api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var ifMatch = api.Request.Header("If-Match");
        for (var attempt = 0; ; attempt++)
        {
            var stored = await ReadVisibleAsync(api, ticketId);
            if (stored is null)
            {
                return ApiFunctions.NotFound($"Ticket '{ticketId}'");
            }

            // A repeated request whose first attempt got through (maybe just now, racing this one): its answer.
            if (idem.PlannedId is not null && await idem.ReplayAsync(TicketStore.Tickets, stored.Key.PartitionKey, api.CancellationToken) is { } replay)
            {
                return replay;
            }

            if (ifMatch is not null && ifMatch != stored.ETag)
            {
                return PreconditionFailed(stored.Document);
            }

            var outcome = await DecideAsync(api, stored.Document, action, body);
            if (outcome.Response is not null)
            {
                return outcome.Response;
            }

            if (idem.Active && idem.PlannedId is null)
            {
                if (!await idem.BindAsync(api.CancellationToken))
                {
                    return idem.Answer!;
                }

                continue;
            }

            try
            {
                var written = await store.UpdateAsync(
                    outcome.Ticket!,
                    stored.ETag,
                    outcome.Appended,
                    api.CancellationToken,
                    new TicketWriteContext(stored.Document, api.Caller),
                    final => idem.Record(HttpResults.Ok(View(final, api.Caller)), ticketId: final.Id));
                CrashPoints.Reached($"ticket-written:{action}");
                if (action == "merge")
                {
                    // The merge's first write is done, its second (the survivor's) not yet.
                    CrashPoints.Reached("merge:first-write");
                }

                await NotifyAsync(api, stored.Document, written.Document);
                return HttpResults.Ok(View(written.Document, api.Caller), new Dictionary<string, string> { ["ETag"] = written.ETag });
            }
            catch (PreconditionFailedException) when (ifMatch is null && attempt < MaxConflictRetries)
            {
                // Someone changed the ticket meanwhile: decide again on the fresh version.
            }
            catch (PreconditionFailedException)
            {
                return PreconditionFailed(stored.Document);
            }
            catch (DocumentConflictException) when (idem.Active)
            {
                // A concurrent request with the same key wrote its answer first: read it at the top.
            }
        }
    }

    public async Task<HttpResponseOutput> CommentsAsync(ApiContext api, string ticketId)
    {
        var stored = await ReadVisibleAsync(api, ticketId);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"Ticket '{ticketId}'");
        }

        var comments = await ReadAllAsync<TicketComment>(api, ticketId, TicketComment.DocumentType);
        return HttpResults.Ok(new { items = comments.Where(c => api.Caller.IsAgent || c.Kind == CommentKind.Public) });
    }

    public async Task<HttpResponseOutput> HistoryAsync(ApiContext api, string ticketId)
    {
        var stored = await ReadVisibleAsync(api, ticketId);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"Ticket '{ticketId}'");
        }

        var events = (await ReadAllAsync<AuditEvent>(api, ticketId, AuditEvent.DocumentType))
            .Where(e => api.Caller.IsAgent || !e.Internal)
            .ToArray();
        var format = api.Request.QueryValue("format");
        if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
        {
            return new HttpResponseOutput(200, new Dictionary<string, string>
            {
                ["Content-Type"] = "text/csv; charset=utf-8",
                ["Content-Disposition"] = $"attachment; filename=\"{stored.Document.Number}-history.csv\"",
            }, HistoryCsv(events));
        }

        return format is null or "json"
            ? HttpResults.Ok(new { ticket = stored.Document.Number, items = events })
            : HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = ["must be json or csv."] });
    }

    public async Task<HttpResponseOutput> ListAsync(ApiContext api)
    {
        var query = TicketListQuery.Parse(api.Request, api.Caller);
        if (query.Errors.Count > 0)
        {
            return HttpResults.ValidationProblem(query.Errors);
        }

        try
        {
            var page = await store.QueryTicketsAsync(api.Caller.TenantId, query.Filters, query.Sort, query.PageSize, query.Continuation, api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => View(i.Document, api.Caller)), continuationToken = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuationToken"] = [ex.Message] });
        }
    }

    private async Task<Decision> DecideAsync(ApiContext api, Ticket ticket, string action, JsonBodyReader body)
    {
        var caller = api.Caller;
        var now = time.GetUtcNow();
        if (!caller.IsAgent && !RequesterActions.Contains(action))
        {
            return Decision.Deny(ApiFunctions.Forbidden($"Requesters may not '{action}' a ticket."));
        }

        switch (action)
        {
            case "comment" or "work-note":
            {
                if (action == "work-note" && !caller.IsAgent)
                {
                    return Decision.Deny(ApiFunctions.Forbidden("Only agents write work notes."));
                }

                var text = body.String("body", required: true, maxLength: 10_000, multiLine: true);
                body.RejectUnknown();
                if (body.HasErrors)
                {
                    return Decision.Deny(HttpResults.ValidationProblem(body.Errors));
                }

                var kind = action == "comment" ? CommentKind.Public : CommentKind.WorkNote;
                var comment = new TicketComment
                {
                    Id = NewId(), TenantId = ticket.TenantId, TicketId = ticket.Id, Kind = kind,
                    Author = new PersonRef(caller.UserId, caller.Name, caller.Email), At = now, Body = text!, Channel = "api",
                };
                var firstResponse = kind == CommentKind.Public && caller.IsAgent && ticket.FirstRespondedAt is null && caller.UserId != ticket.Requester.Id;
                var updated = ticket with { UpdatedAt = now, FirstRespondedAt = firstResponse ? now : ticket.FirstRespondedAt };
                var audit = Audit(updated, action, caller, [], now) with { Internal = kind == CommentKind.WorkNote };
                return Decision.Write(updated, comment, audit);
            }

            case "time-entry":
            {
                var minutes = body.Int("minutes", 1, 24 * 60, required: true);
                var note = body.String("note", maxLength: 1000, multiLine: true);
                body.RejectUnknown();
                if (body.HasErrors)
                {
                    return Decision.Deny(HttpResults.ValidationProblem(body.Errors));
                }

                var entry = new TimeEntry { Id = NewId(), TenantId = ticket.TenantId, TicketId = ticket.Id, Agent = caller.UserId, At = now, Minutes = minutes!.Value, Note = note };
                var updated = ticket with { TimeWorkedMinutes = ticket.TimeWorkedMinutes + minutes.Value, UpdatedAt = now };
                var audit = Audit(updated, action, caller, TicketAudit.Diff(ticket, updated), now) with { Internal = true };
                return Decision.Write(updated, entry, audit);
            }

            case "link":
            {
                var kind = body.Enum<TicketLinkKind>("kind", required: true, allowed: [TicketLinkKind.ParentOf, TicketLinkKind.ChildOf, TicketLinkKind.CausedBy, TicketLinkKind.ImplementedBy]);
                var targetId = body.String("ticketId", required: true, maxLength: 64);
                body.RejectUnknown();
                if (body.HasErrors)
                {
                    return Decision.Deny(HttpResults.ValidationProblem(body.Errors));
                }

                var target = await store.ReadAsync(ticket.TenantId, targetId!, api.CancellationToken);
                if (target is null || target.Document.Id == ticket.Id)
                {
                    return Decision.Deny(HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["ticketId"] = ["must name another ticket of your organisation."] }));
                }

                var expectedType = kind switch
                {
                    TicketLinkKind.CausedBy => TicketType.Problem,
                    TicketLinkKind.ImplementedBy => TicketType.Change,
                    _ => (TicketType?)null,
                };
                if (expectedType is { } required && target.Document.Type != required)
                {
                    return Decision.Deny(HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["ticketId"] = [$"A {kind} link must point to a {required}."] }));
                }

                if (ticket.Links.Any(l => l.Kind == kind && l.TicketId == target.Document.Id))
                {
                    return Decision.Deny(HttpResults.Problem(409, "Already linked.", $"{ticket.Number} already has this link to {target.Document.Number}."));
                }

                var updated = ticket with { Links = [.. ticket.Links, new TicketLink(kind!.Value, target.Document.Id, target.Document.Number)], UpdatedAt = now };
                var audit = Audit(updated, action, caller, TicketAudit.Diff(ticket, updated), now);
                return Decision.Write(updated, audit);
            }

            case "merge":
                return await MergeAsync(api, ticket, body, now);

            default:
                return await TransitionAsync(api, ticket, action, body, now);
        }
    }

    private async Task<Decision> TransitionAsync(ApiContext api, Ticket ticket, string action, JsonBodyReader body, DateTimeOffset now)
    {
        var caller = api.Caller;
        if (!TicketLifecycle.IsTransition(ticket.Type, action))
        {
            return Decision.Deny(HttpResults.Problem(404, "Unknown action.", $"{TicketLifecycle.Capitalised(TicketLifecycle.Describe(ticket.Type))} has no action '{action}'. {TicketLifecycle.PossibleNow(ticket)} Besides the changes of state: comment, work-note, link, time-entry and merge."));
        }

        if (action == "authorize" && !(caller.IsInRole(AppRoles.ChangeManager) || caller.IsAdmin))
        {
            return Decision.Deny(ApiFunctions.Forbidden("Only change managers authorise changes."));
        }

        if (!caller.IsAgent && action == "cancel" && ticket.State != TicketState.New)
        {
            return Decision.Deny(ApiFunctions.Forbidden("Requesters can cancel a ticket only before an agent starts on it."));
        }

        var request = new TransitionRequest(
            action,
            body.Enum<HoldReason>("holdReason"),
            body.String("resolutionCode", maxLength: 50),
            body.String("resolutionNotes", maxLength: 4000, multiLine: true),
            body.String("rootCause", maxLength: 4000, multiLine: true),
            body.String("workaround", maxLength: 4000, multiLine: true),
            body.String("reviewOutcome", maxLength: 50),
            body.String("reason", maxLength: 1000, multiLine: true));
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return Decision.Deny(HttpResults.ValidationProblem(body.Errors));
        }

        var outcome = TicketLifecycle.Apply(ticket, request, caller.UserId, now, Policy);
        if (outcome.Conflict is not null)
        {
            return Decision.Deny(HttpResults.Problem(409, "Not possible now.", outcome.Conflict));
        }

        foreach (var guard in guards)
        {
            if (await guard.RefuseAsync(ticket, request, api.CancellationToken) is { } refusal)
            {
                return Decision.Deny(HttpResults.Problem(409, "Not possible now.", refusal));
            }
        }

        if (!outcome.Succeeded)
        {
            return Decision.Deny(HttpResults.ValidationProblem(outcome.Errors!));
        }

        var audit = Audit(outcome.Value!, action, caller, TicketAudit.Diff(ticket, outcome.Value!), now);
        return request.Reason is null
            ? Decision.Write(outcome.Value!, audit)
            : Decision.Write(outcome.Value!, audit with { Changes = [.. audit.Changes, new FieldChange("reason", null, JsonSerializer.SerializeToElement(request.Reason))] });
    }

    /// <summary>
    /// Merges this ticket into another. The two tickets live in different partitions, which share no transaction, so
    /// the merge is one transaction in the duplicate's partition: the duplicate closed as a duplicate, its audit event,
    /// and the survivor's half (the new watchers, its "merged-in" audit event) as a follow-up. The follow-up is carried
    /// out right after the write, or by the sweep after a crash, and only once (its audit event id is fixed), so a
    /// merge is never left half done and a survivor edited meanwhile never fails it.
    /// </summary>
    private async Task<Decision> MergeAsync(ApiContext api, Ticket duplicate, JsonBodyReader body, DateTimeOffset now)
    {
        var intoId = body.String("into", required: true, maxLength: 64);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return Decision.Deny(HttpResults.ValidationProblem(body.Errors));
        }

        var survivor = await store.ReadAsync(duplicate.TenantId, intoId!, api.CancellationToken);
        if (survivor is null)
        {
            return Decision.Deny(HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["into"] = ["must name another ticket of your organisation."] }));
        }

        var outcome = TicketMerge.Merge(duplicate, survivor.Document, api.Caller.UserId, now);
        if (!outcome.Succeeded)
        {
            return Decision.Deny(HttpResults.Problem(409, "Cannot merge.", outcome.Conflict));
        }

        var (closed, merged) = outcome.Value;
        var completion = TicketMergeCompletion.FollowUp(closed, merged, api.Caller, now);
        var audit = Audit(closed, "merge", api.Caller, TicketAudit.Diff(duplicate, closed), now);
        return Decision.Write(closed, audit, completion);
    }

    private Task NotifyAsync(ApiContext api, Ticket? before, Ticket after) =>
        NotifyObserversAsync(api.Caller, api.Http.Durable, before, after, api.CancellationToken);

    private async Task<StoredDocument<Ticket>?> ReadVisibleAsync(ApiContext api, string ticketId)
    {
        if (string.IsNullOrEmpty(ticketId) || ticketId.Length > 64 || ticketId.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal))
        {
            return null;
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, ticketId, api.CancellationToken);
        return stored is not null && (api.Caller.IsAgent || stored.Document.Requester.Id == api.Caller.UserId) ? stored : null;
    }

    private async Task<List<T>> ReadAllAsync<T>(ApiContext api, string ticketId, string docType)
    {
        var all = new List<T>();
        string? continuation = null;
        do
        {
            var page = await store.QueryPartitionAsync<T>(api.Caller.TenantId, ticketId, docType, 500, continuation, api.CancellationToken);
            all.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        return all;
    }

    private static JsonObject View(Ticket ticket, CallerPrincipal caller)
    {
        var json = JsonSerializer.SerializeToNode(ticket, HttpResults.Json)!.AsObject();
        json.Remove("docType");
        json.Remove("ticketId");
        json.Remove("tenantId");
        json.Remove("sla");
        var actions = caller.IsAgent
            ? TicketLifecycle.AvailableActions(ticket)
            : TicketLifecycle.AvailableActions(ticket).Where(a => RequesterActions.Contains(a)).ToArray();
        json["availableActions"] = new JsonArray(actions.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray());
        return json;
    }

    private static HttpResponseOutput PreconditionFailed(Ticket current) =>
        HttpResults.Problem(412, "The ticket was changed by someone else.", $"{current.Number} has a newer version; read it again and reapply your change.");

    private static AuditEvent Audit(Ticket ticket, string action, CallerPrincipal caller, IReadOnlyList<FieldChange> changes, DateTimeOffset now) => new()
    {
        Id = NewId(),
        TenantId = ticket.TenantId,
        TicketId = ticket.Id,
        At = now,
        Actor = caller.UserId,
        Channel = "api",
        Action = action,
        Changes = changes,
    };

    private static string NewId() => SequentialIds.Next();

    private static string HistoryCsv(IEnumerable<AuditEvent> events)
    {
        var csv = new StringBuilder("at,actor,channel,action,field,old,new\n");
        foreach (var e in events)
        {
            var rows = e.Changes.Count == 0 ? [new FieldChange("", null, null)] : e.Changes;
            foreach (var change in rows)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{e.At:O},{CsvCell.Of(e.Actor)},{CsvCell.Of(e.Channel)},{CsvCell.Of(e.Action)},{CsvCell.Of(change.Field)},{CsvCell.Of(CellText(change.Old))},{CsvCell.Of(CellText(change.New))}\n");
            }
        }

        return csv.ToString();
    }

    /// <summary>Strings as plain text, anything else (numbers, lists, objects) as its JSON.</summary>
    private static string? CellText(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.String } text ? text.GetString() : value?.GetRawText();

    private sealed record Decision(Ticket? Ticket, IReadOnlyList<ITicketRecord> Appended, HttpResponseOutput? Response)
    {
        public static Decision Write(Ticket ticket, params ITicketRecord[] appended) => new(ticket, appended, null);

        public static Decision Deny(HttpResponseOutput response) => new(null, [], response);
    }
}
