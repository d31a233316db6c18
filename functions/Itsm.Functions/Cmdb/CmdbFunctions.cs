using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Itsm.Functions.Cmdb;

/// <summary>The CMDB API: configuration items under <c>/api/cis</c>, classes and CSV import/export under <c>/api/cmdb</c>.</summary>
public static class CmdbFunctions
{
    public static FunctionCatalogBuilder MapCmdb(this FunctionCatalogBuilder functions) =>
        functions
            .MapApi("Cis_Create", "POST", "cis", api => Service(api).CreateAsync(api),
                new ApiDocs("Create a configuration item (agents); attributes are validated against its class.", 201, "CiInput", "ConfigurationItem"))
            .MapApi("Cis_List", "GET", "cis", api => Service(api).ListAsync(api),
                new ApiDocs("List configuration items with filters, a sort and a continuation token (agents).", ResponseSchema: "CiPage", QueryParameters: CiListQuery.Parameters))
            .MapApi("Cis_Get", "GET", "cis/{id}", api => Service(api).GetAsync(api, Id(api)),
                new ApiDocs("Read a configuration item; the ETag header is its version.", ResponseSchema: "ConfigurationItem"))
            .MapApi("Cis_Update", "PATCH", "cis/{id}", api => Service(api).PatchAsync(api, Id(api)),
                new ApiDocs("Change fields (JSON merge patch; If-Match required; class and externalKey are fixed).", RequestSchema: "CiInput", ResponseSchema: "ConfigurationItem"))
            .MapApi("Cis_History", "GET", "cis/{id}/history", api => Service(api).HistoryAsync(api, Id(api)),
                new ApiDocs("The CI's audit trail, relationship changes included."))
            .MapApi("Cis_Relationships", "GET", "cis/{id}/relationships", api => Service(api).RelationshipsAsync(api, Id(api)),
                new ApiDocs("The CI's relationships, ?direction=out|in|both.", QueryParameters: ["direction", "continuationToken"]))
            .MapApi("Cis_Relate", "POST", "cis/{id}/relationships", api => Service(api).AddRelationshipAsync(api, Id(api)),
                new ApiDocs("Relate this CI (the source) to a target CI with a type.", 201, "CiRelationshipInput"))
            .MapApi("Cis_Unrelate", "DELETE", "cis/{id}/relationships/{relationshipId}", api => Service(api).RemoveRelationshipAsync(api, Id(api), api.Request.RouteValue("relationshipId") ?? ""),
                new ApiDocs("Remove a relationship (both of its ends).", 204))
            .MapApi("Cis_Impact", "GET", "cis/{id}/impact", api => Service(api).ImpactAsync(api, Id(api)),
                new ApiDocs("Impact analysis: CIs affected (up) or depended on (down), with depth, type filter and paths.", QueryParameters: ["direction", "depth", "types"]))
            .MapApi("Cis_Tickets", "GET", "cis/{id}/tickets", api => Service(api).TicketsOfCiAsync(api, Id(api)),
                new ApiDocs("Open incidents, problems, requests and changes that name this CI."))
            .MapApi("Tickets_AffectedServices", "GET", "tickets/{id}/affected-services", api => Service(api).TicketImpactAsync(api, Id(api)),
                new ApiDocs("The business services affected through the ticket's configuration items (agents)."))
            .MapApi("Cmdb_ListClasses", "GET", "cmdb/classes", api => Service(api).ListClassesAsync(api),
                new ApiDocs("The built-in and tenant CI classes with their typed attributes."))
            .MapApi("Cmdb_PutClass", "PUT", "cmdb/classes/{name}", api => Service(api).PutClassAsync(api, api.Request.RouteValue("name") ?? ""),
                new ApiDocs("Define or replace a tenant CI class (admins).", RequestSchema: "CiClassDefinition"))
            .MapApi("Cmdb_StartImport", "POST", "cmdb/imports", api => api.Services.GetRequiredService<CmdbImportJobs>().StartAsync(api),
                new ApiDocs("Upload a CSV of CIs or relationships (?kind=cis|relationships&dryRun=true): 202 and an import job.", 202, QueryParameters: ["kind", "dryRun"]), durableClient: true)
            .MapApi("Cmdb_GetImport", "GET", "cmdb/imports/{id}", api => api.Services.GetRequiredService<CmdbImportJobs>().GetAsync(api, Id(api)),
                new ApiDocs("An import job: status, progress, counts and the rejected rows (row, column, reason)."), durableClient: true)
            .MapApi("Cmdb_Export", "GET", "cmdb/export/{kind}", ExportAsync,
                new ApiDocs("Export the CIs or relationships as CSV (kind cis or relationships), re-importable."));

    public static IServiceCollection AddCmdb(this IServiceCollection services)
    {
        services.AddSingleton<CmdbStore>().AddSingleton<CmdbService>().AddSingleton<CmdbImporter>().AddSingleton<CmdbImportJobs>();

        // Change management's CMDB port: this one unless something registered another before (tests register fakes).
        services.TryAddSingleton<Changes.IChangeCmdb, CmdbForChanges>();
        return services;
    }

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
