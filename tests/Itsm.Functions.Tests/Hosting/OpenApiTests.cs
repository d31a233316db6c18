using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

public class OpenApiTests
{
    [Fact]
    public async Task The_served_document_describes_every_declared_http_function_with_its_method()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.GetAsync("/api/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("3.1.0", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        // The catch-all that answers unmatched routes with problem details is no operation of the API.
        foreach (var function in FunctionIndex.ForApp().OfKind(TriggerKind.Http).Where(f => f.Name != UnmatchedRouteFunctions.Name))
        {
            Assert.True(function.Docs is not null, $"{function.Name} is not documented");
            var operation = paths.GetProperty("/" + function.Route).GetProperty(function.HttpMethods[0].ToLowerInvariant());
            Assert.Equal(function.Name, operation.GetProperty("operationId").GetString());
        }
    }

    [Fact]
    public void Ticket_schemas_come_from_the_records_and_the_writable_fields_from_the_input_rules()
    {
        var schemas = OpenApiFunctions.Build(FunctionIndex.ForApp())["components"]!["schemas"]!;

        Assert.NotNull(schemas["Ticket"]!["properties"]!["number"]);
        Assert.NotNull(schemas["TicketInput"]!["properties"]!["assignee"]);
        Assert.Null(schemas["TicketInput"]!["properties"]!["number"]);
        Assert.False(schemas["TicketInput"]!["additionalProperties"]!.GetValue<bool>());
        Assert.NotNull(schemas["TicketAction"]!["properties"]!["resolutionCode"]);
    }
}
