using Itsm.Functions.Hosting;
using Itsm.Functions.Tests.Support;
using Microsoft.AspNetCore.Routing;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>Declarations, emitted function.json files and the standalone endpoint map must agree.</summary>
public class FunctionDeclarationTests
{
    private static readonly string GoldenDirectory = Path.Combine(AppContext.BaseDirectory, "Golden", "functions");

    [Fact]
    public void Every_declared_function_has_a_golden_function_json_and_no_golden_file_is_orphaned()
    {
        var declared = ItsmFunctions.CreateCatalog().Functions.Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();
        var golden = Directory.EnumerateDirectories(GoldenDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(declared, golden);
    }

    [Fact]
    public void Emitted_function_json_matches_the_golden_file_for_every_function()
    {
        var output = TempDirectory.Create();
        FunctionJson.WriteAll(ItsmFunctions.CreateCatalog(), output);

        foreach (var function in ItsmFunctions.CreateCatalog().Functions)
        {
            var expected = File.ReadAllText(Path.Combine(GoldenDirectory, function.Name, "function.json"));
            var actual = File.ReadAllText(Path.Combine(output, function.Name, "function.json"));
            Assert.True(expected == actual, $"function.json of {function.Name} differs from its golden file:\n{actual}");
        }
    }

    [Fact]
    public void The_apps_build_output_holds_host_json_and_the_same_function_json_files()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var appOutput = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "functions", "Itsm.Functions", "bin", configuration, "net10.0"));

        Assert.True(File.Exists(Path.Combine(appOutput, "host.json")), $"host.json is missing from {appOutput}");
        foreach (var function in ItsmFunctions.CreateCatalog().Functions)
        {
            var emitted = Path.Combine(appOutput, function.Name, "function.json");
            Assert.True(File.Exists(emitted), $"{emitted} was not emitted by the build");
            Assert.Equal(File.ReadAllText(Path.Combine(GoldenDirectory, function.Name, "function.json")), File.ReadAllText(emitted));
        }
    }

    [Fact]
    public async Task The_standalone_host_maps_exactly_the_declared_http_routes_and_methods()
    {
        await using var app = await StandaloneApp.StartAsync();
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<FunctionDefinition>() is not null)
            .Select(e => (Name: e.Metadata.GetMetadata<FunctionDefinition>()!.Name, Route: e.RoutePattern.RawText ?? "", Methods: string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToArray();

        var declared = ItsmFunctions.CreateCatalog().Functions
            .Where(f => f.Trigger is HttpTrigger)
            .Select(f => (f.Name, Route: "/api/" + ((HttpTrigger)f.Trigger).Route, Methods: string.Join(",", ((HttpTrigger)f.Trigger).Methods)))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(declared, endpoints);
    }

    [Fact]
    public void Durable_functions_declaring_a_return_binding_are_refused()
    {
        var builder = new FunctionCatalogBuilder().Add(new FunctionDefinition(
            "ApprovalFlow",
            new OrchestrationTrigger("context"),
            [new HttpOutputBinding("$return")],
            invocation => Task.FromResult(invocation.Succeeded())));

        var error = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("must not declare '$return'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_functions_on_the_same_method_and_route_are_refused()
    {
        var builder = new FunctionCatalogBuilder()
            .MapHttp("A", "GET", "tickets/{id}", _ => Task.FromResult(HttpResults.NoContent()))
            .MapHttp("B", "GET", "tickets/{ticketId}", _ => Task.FromResult(HttpResults.NoContent()));

        var error = Assert.Throws<InvalidOperationException>(builder.Build);

        Assert.Contains("GET tickets/{} is declared by A, B", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_timer_schedule_is_refused_at_declaration()
    {
        Assert.Throws<FormatException>(() => new FunctionCatalogBuilder().MapTimer("T", "every five minutes", _ => Task.CompletedTask));
    }
}
