using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Approvals;
using Itsm.Functions.Changes;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Catalog;

/// <summary>
/// The service catalogue behind <c>/api/catalog</c>: admins maintain categories and items (every saved change a new,
/// immutable version); callers see and order the active items whose audience includes them; an order becomes a service
/// request through the tickets API's own create, carrying the item, its version and the checked answers; agents work
/// the request's fulfilment tasks.
/// </summary>
public sealed class CatalogService(
    CatalogStore catalog,
    IDocumentStore documents,
    TicketStore tickets,
    TicketService ticketService,
    ApprovalStore approvals,
    CmdbStore cmdb,
    TimeProvider time)
{
    private const int MaxTaskPage = 200;

    public static string ETagOf(int version) => $"\"{version}\"";

    public async Task<HttpResponseOutput> ListCategoriesAsync(ApiContext api)
    {
        var categories = await catalog.CategoriesAsync(api.Caller.TenantId, api.CancellationToken);
        var visible = (await catalog.ItemsAsync(api.Caller.TenantId, api.CancellationToken)).Where(i => Orderable(i, api.Caller)).ToArray();
        return HttpResults.Ok(new
        {
            items = categories
                .OrderBy(c => c.Category.Order).ThenBy(c => c.Category.Name, StringComparer.OrdinalIgnoreCase)
                .Select(c => new { id = c.CategoryId, c.Version, c.Category.Name, c.Category.Description, c.Category.Order, itemCount = visible.Count(i => i.Item.Category == c.CategoryId) })
                .Where(c => c.itemCount > 0 || api.Caller.IsAdmin),
        });
    }

    /// <summary>Creates or changes a category (admins); the ETag is its version.</summary>
    public async Task<HttpResponseOutput> PutCategoryAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins maintain the service catalogue.");
        }

        if (!CatalogItemDefinition.IdPattern().IsMatch(id))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be 1-64 lower-case letters, digits and dashes."] });
        }

        var category = ChangeService.ReadStrict<CatalogCategoryDefinition>(api.Request.Body, out var errors);
        if (category is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var invalid = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(category.Name) || category.Name.Length > 100 || TextRules.ControlCharacterProblem(category.Name, false) is not null)
        {
            invalid["name"] = ["is required: 1-100 characters on one line."];
        }

        if (category.Description?.Length > 2000 || TextRules.ControlCharacterProblem(category.Description, true) is not null)
        {
            invalid["description"] = ["has at most 2000 characters."];
        }

        if (category.Order is < 0 or > 10_000)
        {
            invalid["order"] = ["must be between 0 and 10000."];
        }

        if (invalid.Count > 0)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        var current = await catalog.ReadCategoryAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (Precondition(api, current?.Version, $"category '{id}'") is { } refused)
        {
            return refused;
        }

        var version = (current?.Version ?? 0) + 1;
        var now = time.GetUtcNow();
        var next = new CatalogCategoryDocument(CatalogStore.CategoryDocumentId(id), api.Caller.TenantId, CatalogStore.CategoryType, id, version, category, now, api.Caller.UserId);
        var audit = Audit(api, $"category:{id}", current is null ? "created" : "updated", version, CatalogStore.Diff(current?.Category, category), now);
        try
        {
            await catalog.SaveAsync(api.Caller.TenantId, CatalogStore.CategoryDocumentId(id, version), next with { Id = CatalogStore.CategoryDocumentId(id, version), DocType = CatalogStore.CategoryVersionType }, next.Id, next, audit, api.CancellationToken);
        }
        catch (DocumentConflictException)
        {
            return SavedMeanwhile(id, version);
        }

        return HttpResults.JsonBody(current is null ? 201 : 200, new { id, version, category.Name, category.Description, category.Order }, new Dictionary<string, string>
        {
            ["ETag"] = ETagOf(version),
            ["Location"] = $"/api/catalog/categories/{id}",
        });
    }

    /// <summary>The items the caller may order (admins: every item, retired ones too), optionally of one category.</summary>
    public async Task<HttpResponseOutput> ListItemsAsync(ApiContext api)
    {
        var category = api.Request.QueryValue("category");
        var items = (await catalog.ItemsAsync(api.Caller.TenantId, api.CancellationToken))
            .Where(i => api.Caller.IsAdmin || Orderable(i, api.Caller))
            .Where(i => category is null || i.Item.Category == category)
            .OrderBy(i => i.Item.Name, StringComparer.OrdinalIgnoreCase)
            .Select(i => Summary(i, api.Caller));
        return HttpResults.Ok(new { items });
    }

    public async Task<HttpResponseOutput> GetItemAsync(ApiContext api, string id)
    {
        var versionText = api.Request.QueryValue("version");
        int? version = null;
        if (versionText is not null)
        {
            if (!api.Caller.IsAgent)
            {
                return ApiFunctions.Forbidden("Earlier versions of an item are for agents and admins.");
            }

            if (!int.TryParse(versionText, out var v) || v < 1)
            {
                return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["version"] = ["must be a version number (1, 2, ...)."] });
            }

            version = v;
        }

        var item = await catalog.ReadItemAsync(api.Caller.TenantId, id, version, api.CancellationToken);
        if (item is null || (!api.Caller.IsAdmin && version is null && !Orderable(item, api.Caller)))
        {
            return ApiFunctions.NotFound($"Catalogue item '{id}'" + (version is null ? "" : $" version {version}"));
        }

        return HttpResults.Ok(View(item, api.Caller), new Dictionary<string, string> { ["ETag"] = ETagOf(item.Version) });
    }

    /// <summary>
    /// Creates an item (version 1) or saves its next version (admins). Changing an existing item needs <c>If-Match</c>
    /// with the version read; an identical definition changes nothing. Requests already ordered keep their version.
    /// </summary>
    public async Task<HttpResponseOutput> PutItemAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins maintain the service catalogue.");
        }

        if (!CatalogItemDefinition.IdPattern().IsMatch(id))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be 1-64 lower-case letters, digits and dashes."] });
        }

        var item = ChangeService.ReadStrict<CatalogItemDefinition>(api.Request.Body, out var errors);
        if (item is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        var invalid = item.Validate();
        if (invalid.Count == 0 && await catalog.ReadCategoryAsync(api.Caller.TenantId, item.Category, api.CancellationToken) is null)
        {
            invalid["category"] = [$"'{item.Category}' is not a category of the catalogue (PUT /api/catalog/categories/{item.Category} first)."];
        }

        if (invalid.Count == 0 && item.ApprovalPolicy is { } policyId)
        {
            var settings = await approvals.ApprovalSettingsAsync(api.Caller.TenantId, api.CancellationToken);
            if (!settings.Policies.Any(p => p.Id == policyId && p.TicketType == TicketType.ServiceRequest))
            {
                invalid["approvalPolicy"] = [$"'{policyId}' is not a service request approval policy of this tenant (GET /api/approvals/settings)."];
            }
        }

        if (invalid.Count > 0)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        var current = await catalog.ReadItemAsync(api.Caller.TenantId, id, null, api.CancellationToken);
        if (Precondition(api, current?.Version, $"item '{id}'") is { } refused)
        {
            return refused;
        }

        if (current is not null && JsonSerializer.Serialize(current.Item, HttpResults.Json) == JsonSerializer.Serialize(item, HttpResults.Json))
        {
            return HttpResults.Ok(View(current, api.Caller), new Dictionary<string, string> { ["ETag"] = ETagOf(current.Version) });
        }

        var version = (current?.Version ?? 0) + 1;
        var now = time.GetUtcNow();
        var next = new CatalogItemDocument(CatalogStore.ItemDocumentId(id), api.Caller.TenantId, CatalogStore.ItemType, id, version, item, now, api.Caller.UserId);
        var audit = Audit(api, $"item:{id}", current is null ? "created" : "updated", version, CatalogStore.Diff(current?.Item, item), now);
        try
        {
            await catalog.SaveAsync(api.Caller.TenantId, CatalogStore.ItemDocumentId(id, version), next with { Id = CatalogStore.ItemDocumentId(id, version), DocType = CatalogStore.ItemVersionType }, next.Id, next, audit, api.CancellationToken);
        }
        catch (DocumentConflictException)
        {
            return SavedMeanwhile(id, version);
        }

        return HttpResults.JsonBody(current is null ? 201 : 200, View(next, api.Caller), new Dictionary<string, string>
        {
            ["ETag"] = ETagOf(version),
            ["Location"] = $"/api/catalog/items/{id}",
        });
    }

    /// <summary>The audit trail of an item (admins): who saved which version and what changed.</summary>
    public async Task<HttpResponseOutput> ItemHistoryAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("The catalogue's audit trail is for admins.");
        }

        if (await catalog.ReadItemAsync(api.Caller.TenantId, id, null, api.CancellationToken) is null)
        {
            return ApiFunctions.NotFound($"Catalogue item '{id}'");
        }

        var events = await catalog.HistoryAsync(api.Caller.TenantId, $"item:{id}", api.CancellationToken);
        return HttpResults.Ok(new { item = id, items = events.Select(e => new { e.Action, e.Actor, e.At, e.Version, e.Changes }) });
    }

    /// <summary>
    /// Orders an item: the answers are checked with the item's rules (each failing variable named in the problem), CI
    /// references against the CMDB, and a service request is raised through the tickets API with the item, the version
    /// ordered and the answers. The approval policy and delivery target of that version go with it.
    /// </summary>
    public async Task<HttpResponseOutput> OrderAsync(ApiContext api, string id)
    {
        var item = await catalog.ReadItemAsync(api.Caller.TenantId, id, null, api.CancellationToken);
        if (item is null || !AudienceIncludes(item, api.Caller))
        {
            return ApiFunctions.NotFound($"Catalogue item '{id}'");
        }

        if (!item.Item.Active)
        {
            return api.Caller.IsAdmin
                ? HttpResults.Problem(409, "Item retired.", $"'{item.Item.Name}' is no longer offered; activate it in a new version to order it.")
                : ApiFunctions.NotFound($"Catalogue item '{id}'");
        }

        var body = JsonBodyReader.Parse(string.IsNullOrWhiteSpace(api.Request.Body) ? "{}" : api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        JsonElement? answers = null;
        if (body.Has("variables"))
        {
            using var document = JsonDocument.Parse(body.RawJson);
            answers = document.RootElement.GetProperty("variables").Clone();
        }

        var note = body.String("description", maxLength: 4000, multiLine: true);
        body.RejectUnknown();
        var variables = item.Item.Variables ?? [];
        var evaluated = CatalogVariables.Evaluate(variables, answers, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime));
        var allErrors = new Dictionary<string, string[]>(body.Errors, StringComparer.Ordinal);
        foreach (var (field, reasons) in evaluated.Errors)
        {
            allErrors[field] = reasons;
        }

        foreach (var check in evaluated.CiReferences)
        {
            var ci = await cmdb.ReadAsync(api.Caller.TenantId, check.CiId, api.CancellationToken);
            if (ci is null)
            {
                allErrors[$"variables.{check.Variable}"] = [$"'{check.CiId}' is not a configuration item of this tenant."];
            }
            else if (check.Classes is { Count: > 0 } classes && !classes.Contains(ci.Document.Class, StringComparer.OrdinalIgnoreCase))
            {
                allErrors[$"variables.{check.Variable}"] = [$"'{ci.Document.Name}' is a {ci.Document.Class}; this item asks for a {string.Join(" or ", classes)}."];
            }
        }

        if (allErrors.Count > 0)
        {
            return HttpResults.Problem(
                400,
                "One or more fields are invalid.",
                $"The order of '{item.Item.Name}' was not placed: {string.Join(", ", allErrors.Keys.Order(StringComparer.Ordinal))}. See 'errors' for each variable and the reason.",
                allErrors,
                "urn:itsm:problem:validation");
        }

        var summary = CatalogVariables.Summary(variables, evaluated.Values);
        var description = string.Join("\n\n", new[] { note, summary }.Where(s => !string.IsNullOrWhiteSpace(s)));
        var ticket = new JsonObject
        {
            ["type"] = nameof(TicketType.ServiceRequest),
            ["title"] = item.Item.Name,
            ["category"] = item.Item.Category,
        };
        if (description.Length > 0)
        {
            ticket["description"] = description.Length > 10_000 ? description[..10_000] : description;
        }

        var request = new CatalogRequest(item.ItemId, item.Version, item.Item.Name, item.Item.Category, evaluated.Values, item.Item.ApprovalPolicy, item.Item.DeliveryTargetMinutes);
        var plan = item.Item.Fulfilment ?? [];
        return await ticketService.CreateAsync(api, ticket.ToJsonString(), draft => draft with
        {
            Catalog = request,
            Fulfilment = plan.Count > 0 ? new Fulfilment(plan, []) : null,
        });
    }

    /// <summary>Fulfilment tasks across requests (agents): <c>?assignmentGroup=</c>, <c>?state=</c> (default: the open ones), oldest first.</summary>
    public async Task<HttpResponseOutput> ListTasksAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Fulfilment task queues are for agents.");
        }

        var filters = new List<QueryFilter> { new("docType", FilterOperator.Equals, CatalogTaskRecord.DocumentType) };
        if (api.Request.QueryValue("assignmentGroup") is { Length: > 0 } group)
        {
            filters.Add(new QueryFilter("assignmentGroup", FilterOperator.Equals, group));
        }

        var state = api.Request.QueryValue("state");
        if (state is not null && !Enum.TryParse<FulfilmentTaskState>(state, ignoreCase: false, out _))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["state"] = [$"must be one of {string.Join(", ", Enum.GetNames<FulfilmentTaskState>())}."] });
        }

        var states = state is null ? [nameof(FulfilmentTaskState.Open), nameof(FulfilmentTaskState.InProgress)] : new[] { state };
        var items = new List<CatalogTaskRecord>();
        foreach (var wanted in states)
        {
            string? continuation = null;
            do
            {
                var page = await documents.QueryAsync<CatalogTaskRecord>(
                    TicketStore.Tickets,
                    new DocumentQuery(api.Caller.TenantId, [.. filters, new QueryFilter("state", FilterOperator.Equals, wanted)], new QuerySort("createdAt", Descending: false), MaxTaskPage, continuation),
                    api.CancellationToken);
                items.AddRange(page.Items.Select(i => i.Document));
                continuation = items.Count < 1000 ? page.ContinuationToken : null;
            }
            while (continuation is not null);
        }

        return HttpResults.Ok(new
        {
            items = items.OrderBy(t => t.CreatedAt).ThenBy(t => t.Number, StringComparer.Ordinal).Select(t => new
            {
                requestId = t.TicketId,
                t.RequestNumber,
                t.RequestTitle,
                t.Key,
                t.Number,
                t.Name,
                t.AssignmentGroup,
                t.Assignee,
                t.State,
                t.Stage,
                t.CreatedAt,
                t.UpdatedAt,
            }),
        });
    }

    /// <summary>
    /// An agent's action on a task of a request (<c>assign</c>, <c>start</c>, <c>close</c>, <c>cancel</c>): written with the
    /// request in one transaction; closing the last task resolves the request. <c>If-Match</c> (the request's ETag) is honoured.
    /// </summary>
    public async Task<HttpResponseOutput> TaskActionAsync(ApiContext api, DurableTaskClient? durable, string requestId, string key, string action)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Agents work fulfilment tasks.");
        }

        if (!FulfilmentRules.TaskActions.Contains(action))
        {
            return ApiFunctions.NotFound($"Task action '{action}'");
        }

        var body = JsonBodyReader.Parse(string.IsNullOrWhiteSpace(api.Request.Body) ? "{}" : api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var notes = body.String(action == "cancel" ? "reason" : "notes", maxLength: 4000, multiLine: true);
        PersonRef? assignee = null;
        if (action == "assign" && body.Object("assignee") is { } person)
        {
            var assigneeId = person.String("id", required: true, maxLength: 200);
            var name = person.String("name", maxLength: 200);
            var email = person.String("email", maxLength: 320);
            person.RejectUnknown();
            assignee = assigneeId is null ? null : new PersonRef(assigneeId, name, email);
        }

        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        var stored = await tickets.ReadAsync(api.Caller.TenantId, requestId, api.CancellationToken);
        if (stored?.Document is not { Fulfilment: not null } ticket)
        {
            return ApiFunctions.NotFound($"Catalogue request '{requestId}'");
        }

        var ifMatch = api.Request.Header("If-Match");
        if (ifMatch is not null && ifMatch != stored.ETag)
        {
            return HttpResults.Problem(412, "The request was changed by someone else.", $"{ticket.Number} has a newer version; read it again and reapply your change.");
        }

        var now = time.GetUtcNow();
        var actor = new PersonRef(api.Caller.UserId, api.Caller.Name, api.Caller.Email);
        var outcome = FulfilmentRules.Act(ticket, key, action, actor, assignee, notes, now);
        if (outcome.Errors is { } invalid)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        if (outcome.Conflict is { } conflict)
        {
            return outcome.Value is null && ticket.Fulfilment.Tasks.All(t => t.Key != key)
                ? ApiFunctions.NotFound($"Task '{key}' of {ticket.Number}")
                : HttpResults.Problem(409, "Not possible now.", conflict);
        }

        var changed = outcome.Value!;
        var task = changed.Fulfilment!.Tasks.First(t => t.Key == key);
        var audit = new AuditEvent
        {
            Id = Guid.NewGuid().ToString("N"),
            TenantId = ticket.TenantId,
            TicketId = ticket.Id,
            At = now,
            Actor = api.Caller.UserId,
            Channel = "api",
            Action = $"task.{action}",
            Changes = FulfilmentRules.Changes(ticket.Fulfilment.Tasks.First(t => t.Key == key), task),
        };
        try
        {
            var written = await tickets.UpdateAsync(changed, stored.ETag, [audit], api.CancellationToken, new TicketWriteContext(ticket, api.Caller));
            await ticketService.NotifyObserversAsync(api.Caller, durable, ticket, written.Document, api.CancellationToken);
            return HttpResults.Ok(
                new { requestId = written.Document.Id, request = written.Document.Number, state = written.Document.State, fulfilment = written.Document.Fulfilment },
                new Dictionary<string, string> { ["ETag"] = written.ETag });
        }
        catch (PreconditionFailedException)
        {
            return HttpResults.Problem(412, "The request was changed by someone else.", $"{ticket.Number} has a newer version; read it again and reapply your change.");
        }
    }

    /// <summary>Visible and orderable by the caller: active and in its audience (admins see every item but order only active ones).</summary>
    private static bool Orderable(CatalogItemDocument item, CallerPrincipal caller) =>
        item.Item.Active && AudienceIncludes(item, caller);

    private static bool AudienceIncludes(CatalogItemDocument item, CallerPrincipal caller) =>
        CatalogAudience.Allows(item.Item.Audience, caller);

    private static HttpResponseOutput? Precondition(ApiContext api, int? currentVersion, string what)
    {
        var ifMatch = api.Request.Header("If-Match");
        var ifNoneMatch = api.Request.Header("If-None-Match");
        if (currentVersion is null)
        {
            return ifMatch is not null && ifMatch != "*"
                ? HttpResults.Problem(412, "Not found at that version.", $"The {what} does not exist yet; create it without If-Match.")
                : null;
        }

        if (ifNoneMatch == "*")
        {
            return HttpResults.Problem(412, "Already exists.", $"The {what} exists (version {currentVersion}); read it and send its ETag in If-Match to change it.");
        }

        if (string.IsNullOrEmpty(ifMatch))
        {
            return HttpResults.Problem(428, "If-Match is required.", $"The {what} exists: send the ETag of the version you read, so that nobody's change is overwritten.");
        }

        return ifMatch != ETagOf(currentVersion.Value) && ifMatch != "*"
            ? HttpResults.Problem(412, "Changed by someone else.", $"The {what} is at version {currentVersion}; read it again and reapply your change.")
            : null;
    }

    private static HttpResponseOutput SavedMeanwhile(string id, int version) =>
        HttpResults.Problem(409, "Saved meanwhile.", $"Someone saved version {version} of '{id}' at the same time; read it and save again.");

    private static CatalogAuditEvent Audit(ApiContext api, string target, string action, int version, IReadOnlyList<FieldChange> changes, DateTimeOffset now) =>
        new(
            $"audit:{target}:v{version}",
            api.Caller.TenantId,
            CatalogStore.AuditType,
            target,
            action,
            api.Caller.UserId,
            now,
            version,
            changes);

    private static object Summary(CatalogItemDocument item, CallerPrincipal caller) => new
    {
        id = item.ItemId,
        item.Version,
        item.Item.Name,
        item.Item.Description,
        item.Item.Category,
        item.Item.DeliveryTargetMinutes,
        active = caller.IsAdmin ? item.Item.Active : (bool?)null,
    };

    /// <summary>An item as the caller may see it: requesters get what a form needs; agents and admins also the audience, approval policy and fulfilment plan.</summary>
    private static JsonObject View(CatalogItemDocument item, CallerPrincipal caller)
    {
        var json = JsonSerializer.SerializeToNode(item.Item, HttpResults.Json)!.AsObject();
        if (!caller.IsAgent)
        {
            json.Remove("audience");
            json.Remove("approvalPolicy");
            json.Remove("fulfilment");
        }

        var view = new JsonObject { ["id"] = item.ItemId, ["version"] = item.Version };
        foreach (var (name, value) in json.ToArray())
        {
            json.Remove(name);
            view[name] = value;
        }

        view["updatedAt"] = item.UpdatedAt;
        if (caller.IsAgent)
        {
            view["updatedBy"] = item.UpdatedBy;
        }

        view["variables"] ??= new JsonArray();
        return view;
    }
}
