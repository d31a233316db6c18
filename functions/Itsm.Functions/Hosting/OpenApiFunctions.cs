using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Itsm.Functions.Health;
using Itsm.Functions.Tickets;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Hosting;

/// <summary>
/// <c>GET /api/openapi.json</c>: an OpenAPI 3.1 document built from the function declarations (routes, methods,
/// <see cref="ApiDocAttribute"/>) and the C# records (schemas), so it cannot drift from what is served.
/// </summary>
public sealed class OpenApiFunctions(HttpEndpoint http, FunctionIndex index)
{
    [Function("OpenApi"), ApiDoc("This document.", RequiresToken = false)]
    public Task<IResult> Get([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest req) =>
        http.PublicAsync(req, _ => Task.FromResult(new HttpResponseOutput(200, new Dictionary<string, string> { ["Content-Type"] = "application/json; charset=utf-8" }, Build(index).ToJsonString())));

    public static JsonObject Build(FunctionIndex index)
    {
        var paths = new JsonObject();
        foreach (var function in index.OfKind(TriggerKind.Http).Where(f => f.Docs is not null && f.Name != UnmatchedRouteFunctions.Name).OrderBy(f => f.Route, StringComparer.Ordinal))
        {
            var docs = function.Docs!;
            var path = "/" + function.Route;
            if (paths[path] is not JsonObject item)
            {
                item = [];
                paths[path] = item;
            }

            var parameters = new JsonArray();
            foreach (var name in RouteParameters(function.Route))
            {
                parameters.Add(new JsonObject { ["name"] = name, ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string" } });
            }

            foreach (var name in docs.AllQueryParameters)
            {
                parameters.Add(new JsonObject { ["name"] = name, ["in"] = "query", ["required"] = false, ["schema"] = new JsonObject { ["type"] = "string" } });
            }

            var responses = new JsonObject
            {
                [docs.SuccessStatus.ToString(System.Globalization.CultureInfo.InvariantCulture)] = Response("Success.", docs.ResponseSchema),
                ["4XX"] = Response("The request was refused; the problem names each bad field.", "ProblemDetails", "application/problem+json"),
            };
            var operation = new JsonObject
            {
                ["operationId"] = function.Name,
                ["summary"] = docs.Summary,
                ["parameters"] = parameters,
                ["responses"] = responses,
            };
            if (docs.RequestSchema is { } request)
            {
                operation["requestBody"] = new JsonObject
                {
                    ["required"] = true,
                    ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(request) } },
                };
            }

            if (docs.RequiresToken)
            {
                operation["security"] = new JsonArray(new JsonObject { ["bearer"] = new JsonArray() });
                responses["401"] = Response("No valid bearer token.", "ProblemDetails", "application/problem+json");
            }

            foreach (var method in function.HttpMethods)
            {
                item[method.ToLowerInvariant()] = operation.DeepClone();
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject { ["title"] = "ItsmFunctions API", ["version"] = ItsmApp.Version },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = "/api" }),
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["bearer"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["bearerFormat"] = "JWT", ["description"] = "An Entra ID access token for the API's app registration (a dev token standalone)." },
                },
                ["schemas"] = Schemas(),
            },
        };
    }

    private static JsonObject Schemas()
    {
        var ticket = Schema(typeof(Ticket));
        var input = new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["description"] = "Writable ticket fields. Requesters may set only: " + string.Join(", ", TicketInput.RequesterFields.Order(StringComparer.Ordinal)) + "." };
        var properties = new JsonObject();
        foreach (var name in TicketInput.AgentFields.Order(StringComparer.Ordinal))
        {
            properties[name] = ticket["properties"]?[name]?.DeepClone() ?? new JsonObject();
        }

        input["properties"] = properties;
        var schemas = new JsonObject
        {
            ["Ticket"] = ticket,
            ["TicketInput"] = input,
            ["TicketAction"] = Schema(typeof(TransitionRequest)),
            ["TicketPage"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["items"] = new JsonObject { ["type"] = "array", ["items"] = Ref("Ticket") },
                    ["continuationToken"] = new JsonObject { ["type"] = new JsonArray("string", "null") },
                },
            },
            ["CalendarDefinition"] = Schema(typeof(Sla.CalendarDefinition)),
            ["SlaPolicy"] = Schema(typeof(Sla.SlaPolicy)),
            ["NotificationSettings"] = Schema(typeof(Notifications.NotificationSettingsDocument)),
            ["HealthReport"] = Schema(typeof(HealthReport)),
            ["ProblemDetails"] = Schema(typeof(ProblemDetails)),
        };
        foreach (var (name, schema) in Cmdb.CmdbSchemas.All(Schema))
        {
            schemas[name] = schema;
        }

        foreach (var (name, schema) in Catalog.CatalogSchemas.All(Schema))
        {
            schemas[name] = schema;
        }

        return schemas;
    }

    private static JsonObject Schema(Type type) =>
        JsonSchemaExporter.GetJsonSchemaAsNode(HttpResults.Json, type, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true }).AsObject();

    private static JsonObject Ref(string schema) => new() { ["$ref"] = $"#/components/schemas/{schema}" };

    private static JsonObject Response(string description, string? schema, string mediaType = "application/json") =>
        schema is null
            ? new JsonObject { ["description"] = description }
            : new JsonObject { ["description"] = description, ["content"] = new JsonObject { [mediaType] = new JsonObject { ["schema"] = Ref(schema) } } };

    private static IEnumerable<string> RouteParameters(string route) =>
        route.Split('/').Where(s => s.StartsWith('{')).Select(s => s.Trim('{', '}', '?').Split(':')[0]);
}
