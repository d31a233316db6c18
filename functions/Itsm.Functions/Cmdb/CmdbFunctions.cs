using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Cmdb;

/// <summary>The CMDB API: configuration items under <c>/api/cis</c>, classes and CSV import/export under <c>/api/cmdb</c>.</summary>
public sealed class CmdbFunctions(HttpEndpoint http)
{
    [Function("Cis_Create")]
    [ApiDoc("Create a configuration item (agents); attributes are validated against its class.", SuccessStatus = 201, RequestSchema = "CiInput", ResponseSchema = "ConfigurationItem")]
    public Task<IResult> CisCreate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cis")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).CreateAsync(api));

    [Function("Cis_List")]
    [ApiDoc("List configuration items with filters, a sort and a continuation token (agents).", ResponseSchema = "CiPage", QueryParametersOf = typeof(CiListQuery))]
    public Task<IResult> CisList([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListAsync(api));

    [Function("Cis_Get")]
    [ApiDoc("Read a configuration item; the ETag header is its version.", ResponseSchema = "ConfigurationItem")]
    public Task<IResult> CisGet([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).GetAsync(api, Id(api)));

    [Function("Cis_Update")]
    [ApiDoc("Change fields (JSON merge patch; If-Match required; class and externalKey are fixed).", RequestSchema = "CiInput", ResponseSchema = "ConfigurationItem")]
    public Task<IResult> CisUpdate([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "cis/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PatchAsync(api, Id(api)));

    [Function("Cis_History")]
    [ApiDoc("The CI's audit trail, relationship changes included.")]
    public Task<IResult> CisHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis/{id}/history")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).HistoryAsync(api, Id(api)));

    [Function("Cis_Relationships")]
    [ApiDoc("The CI's relationships, ?direction=out|in|both.", QueryParameters = ["direction", "continuationToken"])]
    public Task<IResult> CisRelationships([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis/{id}/relationships")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).RelationshipsAsync(api, Id(api)));

    [Function("Cis_Relate")]
    [ApiDoc("Relate this CI (the source) to a target CI with a type.", SuccessStatus = 201, RequestSchema = "CiRelationshipInput")]
    public Task<IResult> CisRelate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cis/{id}/relationships")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).AddRelationshipAsync(api, Id(api)));

    [Function("Cis_Unrelate")]
    [ApiDoc("Remove a relationship (both of its ends).", SuccessStatus = 204)]
    public Task<IResult> CisUnrelate([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "cis/{id}/relationships/{relationshipId}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).RemoveRelationshipAsync(api, Id(api), api.Request.RouteValue("relationshipId") ?? ""));

    [Function("Cis_Impact")]
    [ApiDoc("Impact analysis: CIs affected (up) or depended on (down), with depth, type filter and paths.", QueryParameters = ["direction", "depth", "types"])]
    public Task<IResult> CisImpact([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis/{id}/impact")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ImpactAsync(api, Id(api)));

    [Function("Cis_Tickets")]
    [ApiDoc("Open incidents, problems, requests and changes that name this CI.")]
    public Task<IResult> CisTickets([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cis/{id}/tickets")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).TicketsOfCiAsync(api, Id(api)));

    [Function("Tickets_AffectedServices")]
    [ApiDoc("The business services affected through the ticket's configuration items (agents).")]
    public Task<IResult> TicketsAffectedServices([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/affected-services")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).TicketImpactAsync(api, Id(api)));

    [Function("Cmdb_ListClasses")]
    [ApiDoc("The built-in and tenant CI classes with their typed attributes.")]
    public Task<IResult> CmdbListClasses([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cmdb/classes")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListClassesAsync(api));

    [Function("Cmdb_PutClass")]
    [ApiDoc("Define or replace a tenant CI class (admins).", RequestSchema = "CiClassDefinition")]
    public Task<IResult> CmdbPutClass([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "cmdb/classes/{name}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PutClassAsync(api, api.Request.RouteValue("name") ?? ""));

    [Function("Cmdb_StartImport")]
    [ApiDoc("Upload a CSV of CIs or relationships (?kind=cis|relationships&dryRun=true): 202 and an import job.", SuccessStatus = 202, QueryParameters = ["kind", "dryRun"])]
    public Task<IResult> CmdbStartImport([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cmdb/imports")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => api.Services.GetRequiredService<CmdbImportJobs>().StartAsync(api), durable);

    [Function("Cmdb_GetImport")]
    [ApiDoc("An import job: status, progress, counts and the rejected rows (row, column, reason).")]
    public Task<IResult> CmdbGetImport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cmdb/imports/{id}")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => api.Services.GetRequiredService<CmdbImportJobs>().GetAsync(api, Id(api)), durable);

    [Function("Cmdb_Export")]
    [ApiDoc("Export the CIs or relationships as CSV (kind cis or relationships), re-importable.")]
    public Task<IResult> CmdbExport([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cmdb/export/{kind}")] HttpRequest req) =>
        http.ApiAsync(req, ExportAsync);

    private static async Task<HttpResponseOutput> ExportAsync(ApiContext api)
    {
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("The CMDB is for agents and admins.");
        }

        var kind = api.Request.RouteValue("kind");
        if (kind is not ("cis" or "relationships"))
        {
            return ApiFunctions.NotFound($"Export '{kind}'");
        }

        var importer = api.Services.GetRequiredService<CmdbImporter>();
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        if (kind == "cis")
        {
            await importer.ExportCisAsync(api.Caller.TenantId, writer, api.CancellationToken);
        }
        else
        {
            await importer.ExportRelationshipsAsync(api.Caller.TenantId, writer, api.CancellationToken);
        }

        return new HttpResponseOutput(200, new Dictionary<string, string>
        {
            ["Content-Type"] = "text/csv; charset=utf-8",
            ["Content-Disposition"] = $"attachment; filename=\"cmdb-{kind}.csv\"",
        }, writer.ToString());
    }

    private static CmdbService Service(ApiContext api) => api.Services.GetRequiredService<CmdbService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}

/// <summary>The OpenAPI schemas the CMDB functions name.</summary>
public static class CmdbSchemas
{
    public static readonly string[] InputFields =
        ["class", "name", "status", "environment", "ownerGroup", "supportGroup", "criticality", "externalKey", "description", "attributes"];

    public static IEnumerable<KeyValuePair<string, JsonNode?>> All(Func<Type, JsonObject> schema)
    {
        var ci = schema(typeof(ConfigurationItem));
        var properties = new JsonObject();
        foreach (var name in InputFields)
        {
            properties[name] = ci["properties"]?[name]?.DeepClone() ?? new JsonObject();
        }

        yield return new("ConfigurationItem", ci);
        yield return new("CiInput", new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["description"] = "Writable CI fields; class and externalKey only at creation. Attributes are checked against the class (GET /api/cmdb/classes).",
            ["properties"] = properties,
        });
        yield return new("CiPage", new JsonObject
        {
            ["type"] = "object",
            ["properties"] = new JsonObject
            {
                ["items"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = "#/components/schemas/ConfigurationItem" } },
                ["continuationToken"] = new JsonObject { ["type"] = new JsonArray("string", "null") },
            },
        });
        yield return new("CiRelationshipInput", new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["required"] = new JsonArray("type", "targetId"),
            ["properties"] = new JsonObject
            {
                ["type"] = new JsonObject { ["enum"] = new JsonArray(Enum.GetNames<RelationshipType>().Select(n => (JsonNode?)n).ToArray()) },
                ["targetId"] = new JsonObject { ["type"] = "string" },
            },
        });
        yield return new("CiClassDefinition", schema(typeof(CiClassDefinition)));
    }
}

/// <summary>The feature's services.</summary>
public static class CmdbFeature
{
    public static IServiceCollection AddCmdb(this IServiceCollection services)
    {
        services.AddSingleton<CmdbStore>().AddSingleton<CmdbService>().AddSingleton<CmdbImporter>().AddSingleton<CmdbImportJobs>();

        // Change management's CMDB port: this one unless something registered another before (tests register fakes).
        services.TryAddSingleton<Changes.IChangeCmdb, CmdbForChanges>();
        return services;
    }
}
