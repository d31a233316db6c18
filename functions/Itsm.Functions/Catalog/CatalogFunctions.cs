using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tickets;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Catalog;

/// <summary>The service catalogue API under <c>/api/catalog</c>: categories, items and their versions, orders and fulfilment tasks.</summary>
public sealed class CatalogFunctions(HttpEndpoint http)
{
    [Function("Catalog_ListCategories")]
    [ApiDoc("The catalogue's categories with the number of items the caller may order (admins: every category).")]
    public Task<IResult> ListCategories([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/categories")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListCategoriesAsync(api));

    [Function("Catalog_PutCategory")]
    [ApiDoc("Create or change a category (admins; If-Match with its ETag to change it).", RequestSchema = "CatalogCategoryDefinition")]
    public Task<IResult> PutCategory([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "catalog/categories/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PutCategoryAsync(api, Id(api)));

    [Function("Catalog_ListItems")]
    [ApiDoc("The items the caller may see and order (its audience includes one of the caller's app roles or groups); admins see every item.", QueryParameters = ["category"])]
    public Task<IResult> ListItems([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/items")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListItemsAsync(api));

    [Function("Catalog_GetItem")]
    [ApiDoc("An item with its variables and their rules (what a form shows); the ETag is its version. ?version=N for an earlier one (agents).", ResponseSchema = "CatalogItem", QueryParameters = ["version"])]
    public Task<IResult> GetItem([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/items/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).GetItemAsync(api, Id(api)));

    [Function("Catalog_PutItem")]
    [ApiDoc("Create an item or save its next version (admins; If-Match with the ETag read to change an existing item).", RequestSchema = "CatalogItemDefinition", ResponseSchema = "CatalogItem")]
    public Task<IResult> PutItem([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "catalog/items/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PutItemAsync(api, Id(api)));

    [Function("Catalog_ItemHistory")]
    [ApiDoc("The item's audit trail: each version saved, by whom, and what changed (admins).")]
    public Task<IResult> ItemHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/items/{id}/history")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ItemHistoryAsync(api, Id(api)));

    [Function("Catalog_Order")]
    [ApiDoc("Order an item: the answers are validated (each failing variable named) and a service request is raised with the item, its version and the answers.", SuccessStatus = 201, RequestSchema = "CatalogOrder", ResponseSchema = "Ticket")]
    public Task<IResult> Order([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "catalog/items/{id}/orders")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Service(api).OrderAsync(api, Id(api)), durable);

    [Function("Catalog_ListTasks")]
    [ApiDoc("Fulfilment tasks across requests, oldest first (agents): ?assignmentGroup=, ?state= (default Open and InProgress).", QueryParameters = ["assignmentGroup", "state"])]
    public Task<IResult> ListTasks([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "catalog/tasks")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListTasksAsync(api));

    [Function("Catalog_TaskAction")]
    [ApiDoc("Act on a fulfilment task of a request (agents): assign {assignee}, start, close {notes}, cancel {reason}. The last task finished resolves the request.", RequestSchema = "CatalogTaskAction")]
    public Task<IResult> TaskAction([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "catalog/requests/{id}/tasks/{key}/{action}")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Service(api).TaskActionAsync(api, durable, Id(api), api.Request.RouteValue("key") ?? "", api.Request.RouteValue("action") ?? ""), durable);

    private static CatalogService Service(ApiContext api) => api.Services.GetRequiredService<CatalogService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}

/// <summary>The OpenAPI schemas the catalogue functions name.</summary>
public static class CatalogSchemas
{
    public static IEnumerable<KeyValuePair<string, JsonNode?>> All(Func<Type, JsonObject> schema)
    {
        var definition = schema(typeof(CatalogItemDefinition));
        yield return new("CatalogItemDefinition", definition);
        var item = (JsonObject)definition.DeepClone();
        if (item["properties"] is JsonObject properties)
        {
            properties["id"] = new JsonObject { ["type"] = "string" };
            properties["version"] = new JsonObject { ["type"] = "integer" };
            properties["updatedAt"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" };
            properties["updatedBy"] = new JsonObject { ["type"] = "string" };
        }

        item["description"] = "An item version as read; requesters do not see audience, approvalPolicy and fulfilment.";
        yield return new("CatalogItem", item);
        yield return new("CatalogCategoryDefinition", schema(typeof(CatalogCategoryDefinition)));
        yield return new("CatalogOrder", new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["variables"] = new JsonObject { ["type"] = "object", ["description"] = "The answers by variable name: strings, numbers, arrays of choice values, YYYY-MM-DD dates, user and CI ids, https file addresses." },
                ["description"] = new JsonObject { ["type"] = "string", ["maxLength"] = 4000 },
            },
        });
        yield return new("CatalogTaskAction", new JsonObject
        {
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["notes"] = new JsonObject { ["type"] = "string", ["description"] = "close: what was done (required)." },
                ["reason"] = new JsonObject { ["type"] = "string", ["description"] = "cancel: why (required)." },
                ["assignee"] = schema(typeof(PersonRef)),
            },
        });
    }
}

/// <summary>The feature's services and its rules inside every ticket write.</summary>
public static class CatalogFeature
{
    public static IServiceCollection AddCatalog(this IServiceCollection services) =>
        services
            .AddSingleton<CatalogStore>()
            .AddSingleton<CatalogService>()
            .AddSingleton<ITicketWriteRule, FulfilmentWriteRule>()
            .AddSingleton<ITicketTransitionGuard, FulfilmentTransitionGuard>();
}
