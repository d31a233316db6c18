using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Cmdb;

/// <summary>
/// The CMDB use cases. Agents (and change managers, admins) read and edit CIs and relationships; admins define
/// classes. Requesters have no access: the CMDB maps the organisation's infrastructure. Other features call the
/// public methods (<see cref="RelatedAsync"/>, <see cref="AffectedServicesAsync"/>, <see cref="OpenTicketsAsync"/>).
/// </summary>
public sealed class CmdbService(CmdbStore store, TicketStore tickets, TimeProvider time)
{
    public const int DefaultImpactDepth = 3;

    private static readonly string[] OpenStates = Enum.GetValues<TicketState>()
        .Where(s => s is not (TicketState.Resolved or TicketState.Closed or TicketState.Cancelled))
        .Select(s => s.ToString())
        .ToArray();

    public ImpactLimits Limits { get; init; } = ImpactLimits.Default;

    // ---- For other features -------------------------------------------------------------------------------

    /// <summary>The CIs related to <paramref name="ciIds"/> within <paramref name="depth"/> hops, in one direction, bounded by <see cref="Limits"/>.</summary>
    public Task<ImpactResult> RelatedAsync(string tenantId, IReadOnlyCollection<string> ciIds, ImpactDirection direction, int depth, IReadOnlySet<RelationshipType>? types, CancellationToken cancellationToken) =>
        ImpactAnalysis.TraverseAsync(ciIds.Where(CmdbStore.IsValidId).ToArray(), direction, depth, types, Limits, (id, d, ct) => EdgesOf(tenantId, id, d, ct), cancellationToken);

    /// <summary>The business services affected when these CIs fail (including any of them that is itself a business service).</summary>
    public async Task<IReadOnlyList<ConfigurationItem>> AffectedServicesAsync(string tenantId, IReadOnlyCollection<string> ciIds, CancellationToken cancellationToken, int depth = 10)
    {
        var result = await RelatedAsync(tenantId, ciIds, ImpactDirection.Up, depth, null, cancellationToken);
        var services = new List<ConfigurationItem>();
        foreach (var id in result.Roots.Concat(result.Nodes.Select(n => n.CiId)))
        {
            if (await store.ReadAsync(tenantId, id, cancellationToken) is { Document.Class: CiClasses.BusinessService } ci)
            {
                services.Add(ci.Document);
            }
        }

        return services;
    }

    /// <summary>Open incidents, problems, requests and changes that name this CI among their configuration items (at most <paramref name="max"/>).</summary>
    public async Task<IReadOnlyList<Ticket>> OpenTicketsAsync(string tenantId, string ciId, CancellationToken cancellationToken, int max = 500)
    {
        var found = new List<Ticket>();
        string? continuation = null;
        do
        {
            var page = await tickets.QueryTicketsAsync(
                tenantId,
                [new QueryFilter("configurationItems", FilterOperator.ArrayContains, ciId), new QueryFilter("state", FilterOperator.In, OpenStates)],
                new QuerySort("updatedAt", Descending: true),
                Math.Min(100, max - found.Count),
                continuation,
                cancellationToken);
            found.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null && found.Count < max);
        return found;
    }

    public async Task<TenantCiClasses?> ClassesAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadClassesAsync(tenantId, cancellationToken))?.Document;

    // ---- API ----------------------------------------------------------------------------------------------

    public async Task<HttpResponseOutput> CreateAsync(ApiContext api)
    {
        if (Deny(api, write: true) is { } denied)
        {
            return denied;
        }

        var idem = await api.Services.GetRequiredService<Idempotency>().BeginAsync(api);
        if (idem.Answer is { } refused)
        {
            return refused;
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var fields = CiRules.Read(body);
        body.RejectUnknown();
        var errors = body.Errors;
        var now = time.GetUtcNow();
        var ci = CiRules.Create(fields, await ClassesAsync(api.Caller.TenantId, api.CancellationToken), api.Caller.TenantId, api.Caller.UserId, now, errors);
        if (ci is null || errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        // With an Idempotency-Key a CI without an external key gets the key's planned id, so a retry finds it.
        if (!await idem.BindAsync(api.CancellationToken))
        {
            return idem.Answer!;
        }

        ci = ci.ExternalKey is null && idem.PlannedId is { } planned ? ci with { Id = planned } : ci;
        var partition = DocumentKey.Compose(ci.TenantId, ci.Id);
        if (await idem.ReplayAsync(CmdbStore.Cis, partition, api.CancellationToken) is { } replay)
        {
            return replay;
        }

        try
        {
            var answer = idem.Record(Created(ci with { Revision = 1 }, etag: null), ciId: ci.Id);
            var created = await store.CreateAsync(ci, Audit(ci.TenantId, ci.Id, "created", api.Caller.UserId, "api", CiRules.Diff(null, ci), now), api.CancellationToken, answer);
            return Created(created.Document, created.ETag);
        }
        catch (DocumentConflictException)
        {
            // With a key, a concurrent request with the same key may have created it first: its answer is this one's.
            return (idem.Active ? await idem.ReplayAsync(CmdbStore.Cis, partition, api.CancellationToken) : null)
                ?? HttpResults.Problem(409, "The external key is taken.", $"The CI '{ci.Id}' already has the external key '{ci.ExternalKey}'; change that CI instead.");
        }
    }

    private static HttpResponseOutput Created(ConfigurationItem ci, string? etag)
    {
        var headers = new Dictionary<string, string> { ["Location"] = $"/api/cis/{ci.Id}" };
        if (etag is not null)
        {
            headers["ETag"] = etag;
        }

        return HttpResults.JsonBody(201, View(ci), headers);
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        return stored is null
            ? ApiFunctions.NotFound($"CI '{ciId}'")
            : HttpResults.Ok(View(stored.Document), new Dictionary<string, string> { ["ETag"] = stored.ETag });
    }

    public async Task<HttpResponseOutput> PatchAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: true) is { } denied)
        {
            return denied;
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

        var fields = CiRules.Read(body);
        body.RejectUnknown();
        var stored = await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        var errors = body.Errors;
        var now = time.GetUtcNow();
        var updated = CiRules.Apply(stored.Document, fields, await ClassesAsync(api.Caller.TenantId, api.CancellationToken), replaceAttributes: false, now, errors);
        if (updated is null || errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        if (ifMatch != stored.ETag)
        {
            return PreconditionFailed(stored.Document);
        }

        var changes = CiRules.Diff(stored.Document, updated);
        if (changes.Count == 0)
        {
            return HttpResults.Ok(View(stored.Document), new Dictionary<string, string> { ["ETag"] = stored.ETag });
        }

        try
        {
            var written = await store.UpdateAsync(updated, ifMatch, Audit(updated.TenantId, updated.Id, "updated", api.Caller.UserId, "api", changes, now), api.CancellationToken);
            return HttpResults.Ok(View(written.Document), new Dictionary<string, string> { ["ETag"] = written.ETag });
        }
        catch (PreconditionFailedException)
        {
            return PreconditionFailed(stored.Document);
        }
    }

    public async Task<HttpResponseOutput> ListAsync(ApiContext api)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var query = CiListQuery.Parse(api.Request);
        if (query.Errors.Count > 0)
        {
            return HttpResults.ValidationProblem(query.Errors);
        }

        try
        {
            var page = await store.QueryAsync(api.Caller.TenantId, query.Filters, query.Sort, query.PageSize, query.Continuation, api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => View(i.Document)), continuationToken = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuationToken"] = [ex.Message] });
        }
    }

    public async Task<HttpResponseOutput> HistoryAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var stored = await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        return HttpResults.Ok(new { ciId, items = await store.HistoryAsync(api.Caller.TenantId, ciId, api.CancellationToken) });
    }

    public async Task<HttpResponseOutput> RelationshipsAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var directionText = api.Request.QueryValue("direction");
        if (directionText is not (null or "" or "both" or "out" or "in"))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["direction"] = ["must be out, in or both."] });
        }

        EdgeDirection? direction = directionText switch
        {
            "out" => EdgeDirection.Out,
            "in" => EdgeDirection.In,
            _ => null,
        };

        if (await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken) is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        try
        {
            var page = await store.EdgesAsync(api.Caller.TenantId, ciId, direction, api.Request.QueryValue("continuationToken"), api.CancellationToken);
            return HttpResults.Ok(new { items = page.Items.Select(i => RelationshipView(i.Document)), continuationToken = page.ContinuationToken });
        }
        catch (InvalidContinuationTokenException ex)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["continuationToken"] = [ex.Message] });
        }
    }

    public async Task<HttpResponseOutput> AddRelationshipAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: true) is { } denied)
        {
            return denied;
        }

        var idem = await api.Services.GetRequiredService<Idempotency>().BeginAsync(api);
        if (idem.Answer is { } refused)
        {
            return refused;
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var type = body.Enum<RelationshipType>("type", required: true);
        var targetId = body.String("targetId", required: true, maxLength: 64);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var source = await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        if (source is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        // With an Idempotency-Key the answer is stored with the relationship's second copy (under the target), the last write.
        if (!await idem.BindAsync(api.CancellationToken))
        {
            return idem.Answer!;
        }

        if (CmdbStore.IsValidId(targetId) && await idem.ReplayAsync(CmdbStore.Cis, DocumentKey.Compose(api.Caller.TenantId, targetId!), api.CancellationToken) is { } replay)
        {
            return replay;
        }

        HttpResponseOutput Created(CiRelationship edge) => HttpResults.JsonBody(201, RelationshipView(edge), new Dictionary<string, string>
        {
            ["Location"] = $"/api/cis/{ciId}/relationships/{edge.Id}",
        });

        var outcome = await RelateAsync(
            api.Caller.TenantId, source.Document.Id, type!.Value, targetId!, api.Caller.UserId, "api", api.CancellationToken,
            targetAnswer: edge => idem.Record(Created(edge), ciId: edge.TargetId));
        return outcome switch
        {
            RelateOutcome.Created created => Created(created.Relationship),
            RelateOutcome.Exists => HttpResults.Problem(409, "Already related.", $"'{ciId}' already has a {type} relationship to '{targetId}'."),
            RelateOutcome.Rejected rejected => HttpResults.ValidationProblem(new Dictionary<string, string[]> { [rejected.Field == "source" ? "id" : "targetId"] = [rejected.Reason] }),
            _ => throw new InvalidOperationException("Unknown outcome."),
        };
    }

    public async Task<HttpResponseOutput> RemoveRelationshipAsync(ApiContext api, string ciId, string relationshipId)
    {
        if (Deny(api, write: true) is { } denied)
        {
            return denied;
        }

        var copy = await store.ReadRelationshipAsync(api.Caller.TenantId, ciId, relationshipId, api.CancellationToken);
        if (copy is null || copy.Document.DocType != CiRelationship.DocumentType)
        {
            return ApiFunctions.NotFound($"Relationship '{relationshipId}' of CI '{ciId}'");
        }

        var edge = copy.Document;
        var now = time.GetUtcNow();
        var changes = RelationshipChanges(edge, removed: true);
        await store.RemoveRelationshipAsync(
            edge,
            Audit(edge.TenantId, edge.SourceId, "relationship-removed", api.Caller.UserId, "api", changes, now),
            Audit(edge.TenantId, edge.TargetId, "relationship-removed", api.Caller.UserId, "api", changes, now),
            api.CancellationToken);
        return HttpResults.NoContent();
    }

    public async Task<HttpResponseOutput> ImpactAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var direction = api.Request.QueryValue("direction") switch
        {
            null or "" or "up" => ImpactDirection.Up,
            "down" => ImpactDirection.Down,
            _ => Error(errors, "direction", "must be up or down.", ImpactDirection.Up),
        };
        var depth = DefaultImpactDepth;
        if (api.Request.QueryValue("depth") is { Length: > 0 } depthText
            && (!int.TryParse(depthText, NumberStyles.None, CultureInfo.InvariantCulture, out depth) || depth < 1 || depth > Limits.MaxDepth))
        {
            errors["depth"] = [$"must be a whole number from 1 to {Limits.MaxDepth}."];
        }

        HashSet<RelationshipType>? types = null;
        if (api.Request.QueryValue("types") is { Length: > 0 } typeText)
        {
            types = [];
            foreach (var part in typeText.Split(','))
            {
                if (Enum.TryParse<RelationshipType>(part, ignoreCase: false, out var t) && !int.TryParse(part, out _))
                {
                    types.Add(t);
                }
                else
                {
                    errors["types"] = [$"must be a comma-separated list of: {string.Join(", ", Enum.GetNames<RelationshipType>())}."];
                }
            }
        }

        foreach (var name in api.Request.Query.Keys.Where(k => k is not ("direction" or "depth" or "types")))
        {
            errors[name] = ["is not a known query parameter."];
        }

        if (errors.Count > 0)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var root = await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        if (root is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        var result = await RelatedAsync(api.Caller.TenantId, [root.Document.Id], direction, depth, types, api.CancellationToken);
        return HttpResults.Ok(await ImpactViewAsync(api.Caller.TenantId, result, api.CancellationToken));
    }

    public async Task<HttpResponseOutput> TicketsOfCiAsync(ApiContext api, string ciId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        if (await store.ReadAsync(api.Caller.TenantId, ciId, api.CancellationToken) is null)
        {
            return ApiFunctions.NotFound($"CI '{ciId}'");
        }

        var open = await OpenTicketsAsync(api.Caller.TenantId, ciId, api.CancellationToken);
        return HttpResults.Ok(new
        {
            ciId,
            items = open.Select(t => new { t.Id, t.Number, t.Type, t.State, t.Title, t.Priority, t.UpdatedAt, plannedStart = t.Change?.PlannedStart, plannedEnd = t.Change?.PlannedEnd }),
        });
    }

    /// <summary>The business services affected by a ticket's configuration items (an incident's or a change's impact).</summary>
    public async Task<HttpResponseOutput> TicketImpactAsync(ApiContext api, string ticketId)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        if (!CmdbStore.IsValidId(ticketId) || await tickets.ReadAsync(api.Caller.TenantId, ticketId, api.CancellationToken) is not { } ticket)
        {
            return ApiFunctions.NotFound($"Ticket '{ticketId}'");
        }

        var result = await RelatedAsync(api.Caller.TenantId, ticket.Document.ConfigurationItems, ImpactDirection.Up, Limits.MaxDepth, null, api.CancellationToken);
        var view = await ImpactViewAsync(api.Caller.TenantId, result, api.CancellationToken);
        return HttpResults.Ok(new { ticketId, number = ticket.Document.Number, configurationItems = ticket.Document.ConfigurationItems, affectedServices = view["businessServices"]!.DeepClone(), truncated = result.Truncated });
    }

    public async Task<HttpResponseOutput> ListClassesAsync(ApiContext api)
    {
        if (Deny(api, write: false) is { } denied)
        {
            return denied;
        }

        var tenant = await ClassesAsync(api.Caller.TenantId, api.CancellationToken);
        return HttpResults.Ok(new { items = CiClasses.BuiltIn.Concat(tenant?.Classes ?? []) });
    }

    public async Task<HttpResponseOutput> PutClassAsync(ApiContext api, string name)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins define CI classes.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var label = body.String("label", required: true, maxLength: 100);
        var attributes = new List<AttributeDefinition>();
        foreach (var item in body.ObjectList("attributes", CiClasses.MaxAttributesPerClass) ?? [])
        {
            var attributeName = item.String("name", required: true, maxLength: 40);
            var type = item.Enum<AttributeType>("type", required: true);
            var required = item.Bool("required") ?? false;
            var allowed = item.StringList("allowedValues", 100);
            var maxLength = item.Int("maxLength", 1, 4000) ?? 500;
            item.RejectUnknown();
            if (attributeName is not null && type is not null)
            {
                attributes.Add(new AttributeDefinition(attributeName, type.Value, required, allowed is { Count: > 0 } ? allowed : null, maxLength));
            }
        }

        body.RejectUnknown();
        var definition = new CiClassDefinition(name, label ?? "", attributes);
        foreach (var (field, reasons) in body.HasErrors ? [] : CiClasses.ValidateDefinition(definition))
        {
            body.Errors[field] = reasons;
        }

        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.ReadClassesAsync(api.Caller.TenantId, api.CancellationToken);
            var current = stored?.Document ?? new TenantCiClasses { TenantId = api.Caller.TenantId };
            if (current.Classes.Count >= CiClasses.MaxTenantClasses && current.Classes.All(c => c.Name != name))
            {
                return HttpResults.Problem(409, "Too many classes.", $"A tenant defines at most {CiClasses.MaxTenantClasses} classes.");
            }

            var next = current with { Classes = [.. current.Classes.Where(c => c.Name != name), definition] };
            try
            {
                await store.WriteClassesAsync(next, stored?.ETag, api.CancellationToken);
                return HttpResults.Ok(definition);
            }
            catch (Exception ex) when (ex is PreconditionFailedException or DocumentConflictException && attempt < 5)
            {
                // Another admin changed the classes meanwhile: apply this one to their version.
            }
        }
    }

    // ---- Shared with the import ----------------------------------------------------------------------------

    public abstract record RelateOutcome
    {
        public sealed record Created(CiRelationship Relationship) : RelateOutcome;

        public sealed record Exists(CiRelationship Relationship) : RelateOutcome;

        public sealed record Rejected(string Field, string Reason) : RelateOutcome;
    }

    /// <summary>Relates two CIs of a tenant (source depends on target); rejects a self-relationship and a missing target; idempotent.</summary>
    /// <param name="targetChecked">The caller has just read the target (the import): skip reading it again.</param>
    public async Task<RelateOutcome> RelateAsync(string tenantId, string sourceId, RelationshipType type, string targetId, string actor, string channel, CancellationToken cancellationToken, bool dryRun = false, bool targetChecked = false, Func<CiRelationship, IdempotencyRecord?>? targetAnswer = null)
    {
        if (sourceId == targetId)
        {
            return new RelateOutcome.Rejected("targetId", "A CI cannot be related to itself.");
        }

        if (!targetChecked && await store.ReadAsync(tenantId, targetId, cancellationToken) is null)
        {
            return new RelateOutcome.Rejected("targetId", $"There is no CI '{targetId}'.");
        }

        var added = RelationshipAdded(tenantId, sourceId, type, targetId, actor, channel, time.GetUtcNow());
        var edge = added.Edge;
        if (dryRun)
        {
            return await store.ReadRelationshipAsync(tenantId, sourceId, edge.Id, cancellationToken) is { } existing
                ? new RelateOutcome.Exists(existing.Document)
                : new RelateOutcome.Created(edge);
        }

        var wrote = await store.AddRelationshipAsync(edge, added.SourceEvent, added.TargetEvent, cancellationToken, targetAnswer?.Invoke(edge));
        return wrote ? new RelateOutcome.Created(edge) : new RelateOutcome.Exists(edge);
    }

    /// <summary>A new relationship (its Out copy) and the audit events its two CIs get.</summary>
    internal static (CiRelationship Edge, CiAuditEvent SourceEvent, CiAuditEvent TargetEvent) RelationshipAdded(string tenantId, string sourceId, RelationshipType type, string targetId, string actor, string channel, DateTimeOffset now)
    {
        var edge = new CiRelationship
        {
            Id = CiRelationship.IdFor(sourceId, type, targetId),
            TenantId = tenantId,
            CiId = sourceId,
            Direction = EdgeDirection.Out,
            Type = type,
            SourceId = sourceId,
            TargetId = targetId,
            CreatedAt = now,
            CreatedBy = actor,
        };
        var changes = RelationshipChanges(edge, removed: false);
        return (edge, Audit(tenantId, sourceId, "relationship-added", actor, channel, changes, now), Audit(tenantId, targetId, "relationship-added", actor, channel, changes, now));
    }

    internal static CiAuditEvent Audit(string tenantId, string ciId, string action, string actor, string channel, IReadOnlyList<FieldChange> changes, DateTimeOffset now) => new()
    {
        Id = SequentialIds.Next(),
        TenantId = tenantId,
        CiId = ciId,
        At = now,
        Actor = actor,
        Channel = channel,
        Action = action,
        Changes = changes,
    };

    internal static JsonObject View(ConfigurationItem ci)
    {
        var json = JsonSerializer.SerializeToNode(ci, HttpResults.Json)!.AsObject();
        json.Remove("docType");
        json.Remove("ciId");
        json.Remove("tenantId");
        return json;
    }

    private static IReadOnlyList<FieldChange> RelationshipChanges(CiRelationship edge, bool removed)
    {
        var value = JsonSerializer.SerializeToElement(new { edge.Id, edge.Type, edge.SourceId, edge.TargetId }, HttpResults.Json);
        return [new FieldChange("relationship", removed ? value : null, removed ? null : value)];
    }

    private async IAsyncEnumerable<CiRelationship> EdgesOf(string tenantId, string ciId, EdgeDirection direction, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            var page = await store.EdgesAsync(tenantId, ciId, direction, continuation, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item.Document;
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
    }

    private async Task<JsonObject> ImpactViewAsync(string tenantId, ImpactResult result, CancellationToken cancellationToken)
    {
        var cis = new Dictionary<string, ConfigurationItem>(StringComparer.Ordinal);
        foreach (var id in result.Roots.Concat(result.Nodes.Select(n => n.CiId)))
        {
            if (await store.ReadAsync(tenantId, id, cancellationToken) is { } ci)
            {
                cis[id] = ci.Document;
            }
        }

        string NameOf(string id) => cis.TryGetValue(id, out var ci) ? $"{ci.Name} ({ci.Class})" : id;
        string Explain(ImpactNode node) => node.Path.Count == 0
            ? NameOf(node.CiId)
            : string.Join(" ", node.Path.Select((s, i) =>
                (i == 0 ? NameOf(s.FromId) + " " : "")
                + (s.FromId == s.SourceId ? s.Type.ToString() : RelationshipNames.Inverse(s.Type)) + " " + NameOf(s.ToId)));
        JsonObject NodeView(ImpactNode node)
        {
            var ci = cis.GetValueOrDefault(node.CiId);
            return new JsonObject
            {
                ["id"] = node.CiId,
                ["name"] = ci?.Name,
                ["class"] = ci?.Class,
                ["status"] = ci?.Status.ToString(),
                ["criticality"] = ci?.Criticality.ToString(),
                ["depth"] = node.Depth,
                ["path"] = JsonSerializer.SerializeToNode(node.Path, HttpResults.Json),
                ["explanation"] = Explain(node),
            };
        }

        var rootNodes = result.Roots.Select(r => new ImpactNode(r, 0, []));
        var nodes = result.Nodes.Select(NodeView).ToArray();
        var services = rootNodes.Concat(result.Nodes)
            .Where(n => cis.GetValueOrDefault(n.CiId)?.Class == CiClasses.BusinessService)
            .Select(NodeView)
            .ToArray();
        return new JsonObject
        {
            ["roots"] = new JsonArray(result.Roots.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["direction"] = result.Direction.ToString().ToLowerInvariant(),
            ["depth"] = result.Depth,
            ["truncated"] = result.Truncated,
            ["truncatedBy"] = result.TruncatedBy,
            ["edgesScanned"] = result.EdgesScanned,
            ["nodes"] = new JsonArray(nodes),
            ["businessServices"] = new JsonArray(services),
        };
    }

    private static JsonObject RelationshipView(CiRelationship edge) => new()
    {
        ["id"] = edge.Id,
        ["type"] = edge.Type.ToString(),
        ["label"] = edge.Direction == EdgeDirection.Out ? edge.Type.ToString() : RelationshipNames.Inverse(edge.Type),
        ["direction"] = edge.Direction.ToString().ToLowerInvariant(),
        ["sourceId"] = edge.SourceId,
        ["targetId"] = edge.TargetId,
        ["otherId"] = edge.OtherId,
        ["createdAt"] = edge.CreatedAt,
        ["createdBy"] = edge.CreatedBy,
    };

    private static HttpResponseOutput? Deny(ApiContext api, bool write) =>
        api.Caller.IsAgent ? null : ApiFunctions.Forbidden(write ? "Only agents and admins change the CMDB." : "The CMDB is for agents and admins.");

    private static T Error<T>(Dictionary<string, string[]> errors, string field, string reason, T fallback)
    {
        errors[field] = [reason];
        return fallback;
    }

    private static HttpResponseOutput PreconditionFailed(ConfigurationItem current) =>
        HttpResults.Problem(412, "The CI was changed by someone else.", $"'{current.Name}' has a newer version; read it again and reapply your change.");
}
