using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Changes;

/// <summary>
/// A pre-approved standard change (ServiceNow's standard change template): the plans the change advisory board
/// approved once, so a change raised from it needs no approval, and what a new change takes from it.
/// </summary>
public sealed record StandardChangeTemplate(
    string Name,
    string ImplementationPlan,
    string BackoutPlan,
    int DurationMinutes = 60,
    string? Description = null,
    string? Category = null,
    string? AffectedService = null,
    string? AssignmentGroup = null,
    IReadOnlyList<string>? ConfigurationItems = null,
    bool Active = true)
{
    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        void Text(string field, string? value, int max, bool required, bool multiLine = false)
        {
            if (required && string.IsNullOrWhiteSpace(value))
            {
                errors[field] = ["is required."];
            }
            else if (value?.Length > max)
            {
                errors[field] = [$"has at most {max} characters."];
            }
            else if (TextRules.ControlCharacterProblem(value, multiLine) is { } control)
            {
                errors[field] = [control];
            }
        }

        Text("name", Name, 200, required: true);
        Text("implementationPlan", ImplementationPlan, 10_000, required: true, multiLine: true);
        Text("backoutPlan", BackoutPlan, 10_000, required: true, multiLine: true);
        Text("description", Description, 10_000, required: false, multiLine: true);
        Text("category", Category, 100, required: false);
        Text("affectedService", AffectedService, 200, required: false);
        Text("assignmentGroup", AssignmentGroup, 200, required: false);
        if (DurationMinutes is < 1 or > 7 * 24 * 60)
        {
            errors["durationMinutes"] = ["must be between 1 and 10080 (a week)."];
        }

        if (ConfigurationItems is { } cis && (cis.Count > 50 || cis.Any(ci => string.IsNullOrWhiteSpace(ci) || ci.Length > 200)))
        {
            errors["configurationItems"] = ["must be at most 50 CI ids, each 1-200 characters."];
        }

        return errors;
    }
}

/// <summary>One version of a template as stored: the current one (<c>change-template</c>) and each version (<c>change-template-version</c>), never changed once written.</summary>
public sealed record ChangeTemplateDocument(
    string Id,
    string TenantId,
    string DocType,
    string TemplateId,
    int Version,
    StandardChangeTemplate Template,
    DateTimeOffset UpdatedAt,
    string UpdatedBy);

/// <summary>
/// The tenant's catalogue of standard change templates, versioned: a PUT that changes a template makes a new version
/// and keeps the old ones readable, so a change raised from version 1 still shows what was pre-approved. Standard
/// changes are raised only from an active template (<see cref="RaiseAsync"/>); the tickets API refuses to make one.
/// </summary>
public sealed partial class StandardChangeTemplates(IDocumentStore store, TicketService tickets, TimeProvider time)
{
    private const string CurrentType = "change-template";
    private const string VersionType = "change-template-version";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex IdPattern();

    private static string CurrentId(string id) => $"{CurrentType}:{id}";

    private static string VersionId(string id, int version) => $"{CurrentType}:{id}:v{version}";

    public async Task<ChangeTemplateDocument?> ReadAsync(string tenantId, string id, int? version, CancellationToken cancellationToken) =>
        IdPattern().IsMatch(id)
            ? (await store.ReadAsync<ChangeTemplateDocument>(ApprovalStore.Approvals, new DocumentKey(tenantId, version is { } v ? VersionId(id, v) : CurrentId(id)), cancellationToken))?.Document
            : null;

    public async Task<HttpResponseOutput> ListAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The standard change catalogue is for agents.");
        }

        var all = new List<ChangeTemplateDocument>();
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<ChangeTemplateDocument>(ApprovalStore.Approvals, new DocumentQuery(api.Caller.TenantId, [new QueryFilter("docType", FilterOperator.Equals, CurrentType)], null, 200, continuation), api.CancellationToken);
            all.AddRange(page.Items.Select(i => i.Document));
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        // Inactive (retired) templates are for admins only: nobody else can raise a change from them.
        return HttpResults.Ok(new { items = all.Where(t => t.Template.Active || api.Caller.IsAdmin).OrderBy(t => t.Template.Name, StringComparer.OrdinalIgnoreCase).Select(View) });
    }

    public async Task<HttpResponseOutput> GetAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The standard change catalogue is for agents.");
        }

        var versionText = api.Request.QueryValue("version");
        int? version = null;
        if (versionText is not null)
        {
            if (!int.TryParse(versionText, out var v) || v < 1)
            {
                return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["version"] = ["must be a version number (1, 2, ...)."] });
            }

            version = v;
        }

        return await ReadAsync(api.Caller.TenantId, id, version, api.CancellationToken) is { } template
            ? HttpResults.Ok(View(template))
            : ApiFunctions.NotFound($"Standard change template '{id}'" + (version is null ? "" : $" version {version}"));
    }

    /// <summary>Creates the template (version 1) or, when its content changes, its next version; an identical PUT changes nothing.</summary>
    public async Task<HttpResponseOutput> PutAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins maintain the standard change catalogue.");
        }

        if (!IdPattern().IsMatch(id))
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be 1-64 lower-case letters, digits and dashes, starting with a letter or digit."] });
        }

        var template = ChangeService.ReadStrict<StandardChangeTemplate>(api.Request.Body, out var errors);
        if (template is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        if (template.Validate() is { Count: > 0 } invalid)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        var current = await ReadAsync(api.Caller.TenantId, id, null, api.CancellationToken);
        if (current is not null && JsonSerializer.Serialize(current.Template, HttpResults.Json) == JsonSerializer.Serialize(template, HttpResults.Json))
        {
            return HttpResults.Ok(View(current));
        }

        var version = (current?.Version ?? 0) + 1;
        var now = time.GetUtcNow();
        var next = new ChangeTemplateDocument(CurrentId(id), api.Caller.TenantId, CurrentType, id, version, template, now, api.Caller.UserId);
        try
        {
            // The version is created (never replaced) with the current pointer in one transaction: two admins saving at
            // once cannot both make version N.
            await store.ExecuteBatchAsync(
                ApprovalStore.Approvals,
                api.Caller.TenantId,
                [
                    new BatchOperation.Create(VersionId(id, version), next with { Id = VersionId(id, version), DocType = VersionType }),
                    new BatchOperation.Upsert(next.Id, next),
                ],
                api.CancellationToken);
        }
        catch (DocumentConflictException)
        {
            return HttpResults.Problem(409, "Saved meanwhile.", $"Someone saved version {version} of '{id}' at the same time; read it and save again.");
        }

        return HttpResults.JsonBody(version == 1 ? 201 : 200, View(next), new Dictionary<string, string> { ["Location"] = $"/api/changes/templates/{id}" });
    }

    /// <summary>
    /// Raises a standard change from an active template through the tickets API's own create: the template's plans,
    /// the planned start and an end from the template's duration unless given, its category, service, group and CIs
    /// unless the caller names others.
    /// </summary>
    public async Task<HttpResponseOutput> RaiseAsync(ApiContext api, string id)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("Agents raise changes.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var title = body.String("title", maxLength: 200);
        var description = body.String("description", maxLength: 10_000, multiLine: true);
        var start = body.Instant("plannedStart", required: true);
        var end = body.Instant("plannedEnd");
        var cis = body.StringList("configurationItems", 50, 200);
        var assignee = body.Object("assignee");
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        if (await ReadAsync(api.Caller.TenantId, id, null, api.CancellationToken) is not { } stored)
        {
            return ApiFunctions.NotFound($"Standard change template '{id}'");
        }

        if (!stored.Template.Active)
        {
            return HttpResults.Problem(409, "Template retired.", $"The standard change template '{stored.Template.Name}' is no longer active; raise a normal change instead.");
        }

        var template = stored.Template;
        var plannedEnd = end ?? start!.Value.AddMinutes(template.DurationMinutes);
        if (plannedEnd <= start)
        {
            return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["plannedEnd"] = ["must be after plannedStart."] });
        }

        var ticket = new JsonObject
        {
            ["type"] = nameof(TicketType.Change),
            ["title"] = title ?? template.Name,
            ["description"] = description ?? template.Description,
            ["category"] = template.Category,
            ["affectedService"] = template.AffectedService,
            ["assignmentGroup"] = template.AssignmentGroup,
            ["configurationItems"] = new JsonArray([.. (cis ?? template.ConfigurationItems ?? []).Select(ci => (JsonNode)ci)]),
            ["change"] = new JsonObject { ["plannedStart"] = start!.Value.ToString("O"), ["plannedEnd"] = plannedEnd.ToString("O") },
        };
        if (assignee is not null)
        {
            ticket["assignee"] = JsonNode.Parse(assignee.RawJson);
        }

        foreach (var empty in ticket.Where(p => p.Value is null).Select(p => p.Key).ToArray())
        {
            ticket.Remove(empty);
        }

        return await tickets.CreateAsync(api, ticket.ToJsonString(), draft => draft with
        {
            Change = draft.Change! with
            {
                ChangeType = ChangeType.Standard,
                ImplementationPlan = template.ImplementationPlan,
                BackoutPlan = template.BackoutPlan,
                Template = new ChangeTemplateRef(stored.TemplateId, stored.Version, template.Name),
            },
        });
    }

    private static object View(ChangeTemplateDocument document) => new
    {
        id = document.TemplateId,
        version = document.Version,
        document.Template.Name,
        document.Template.Active,
        document.Template.Description,
        document.Template.ImplementationPlan,
        document.Template.BackoutPlan,
        document.Template.DurationMinutes,
        document.Template.Category,
        document.Template.AffectedService,
        document.Template.AssignmentGroup,
        configurationItems = document.Template.ConfigurationItems ?? [],
        document.UpdatedAt,
        document.UpdatedBy,
    };
}
