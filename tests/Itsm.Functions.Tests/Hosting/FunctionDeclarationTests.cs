using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>
/// Each function is declared once, by its attributes: the Worker SDK's <c>functions.metadata</c> (what the Functions
/// host loads) and the standalone host's routes and triggers must both say what the golden list says.
/// </summary>
public class FunctionDeclarationTests
{
    private static readonly string GoldenFile = Path.Combine(AppContext.BaseDirectory, "Golden", "functions.txt");

    private static string[] Golden() => File.ReadAllLines(GoldenFile).Where(l => l.Length > 0).ToArray();

    /// <summary>One line per function: name, trigger, and its route and methods, queue or schedule.</summary>
    private static string Line(string name, JsonElement trigger)
    {
        var type = trigger.GetProperty("type").GetString()!;
        return type switch
        {
            "httpTrigger" => $"{name} {type} {string.Join(",", trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()))} {trigger.GetProperty("route").GetString()}",
            "queueTrigger" => $"{name} {type} {trigger.GetProperty("queueName").GetString()}",
            "timerTrigger" => $"{name} {type} {trigger.GetProperty("schedule").GetString()}",
            _ => $"{name} {type}",
        };
    }

    private static string Line(FunctionDescriptor function) => function.Kind switch
    {
        TriggerKind.Http => $"{function.Name} httpTrigger {string.Join(",", function.HttpMethods)} {function.Route}",
        TriggerKind.Queue => $"{function.Name} queueTrigger {function.Queue!.QueueName}",
        TriggerKind.Timer => $"{function.Name} timerTrigger {function.Timer!.Schedule}",
        TriggerKind.Orchestration => $"{function.Name} orchestrationTrigger",
        _ => $"{function.Name} activityTrigger",
    };

    [Fact]
    public void The_build_output_functions_metadata_lists_every_function_with_its_trigger_as_the_golden_list_says()
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppProcess.BuildOutputDirectory, "functions.metadata")));
        var lines = metadata.RootElement.EnumerateArray()
            .Select(f => Line(
                f.GetProperty("name").GetString()!,
                f.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("direction").GetString() == "In" && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(Golden(), lines);
    }

    [Fact]
    public void The_standalone_host_finds_the_same_functions_from_the_same_attributes()
    {
        var lines = FunctionIndex.ForApp().Functions.Select(Line).Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(Golden(), lines);
    }

    [Fact]
    public async Task The_standalone_host_maps_exactly_the_declared_http_routes_and_methods()
    {
        await using var app = await StandaloneApp.StartAsync();
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<FunctionDescriptor>() is not null)
            .Select(e => $"{e.Metadata.GetMetadata<FunctionDescriptor>()!.Name} httpTrigger {string.Join(",", e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods)} {e.RoutePattern.RawText}")
            .Order(StringComparer.Ordinal)
            .ToArray();

        var declared = Golden().Where(l => l.Split(' ')[1] == "httpTrigger")
            .Select(l => l.Split(' ') is var parts ? $"{parts[0]} {parts[1]} {parts[2]} /api/{parts[3]}" : l)
            .ToArray();
        Assert.Equal(declared, endpoints);
    }

    [Fact]
    public void Every_function_can_be_bound_by_the_standalone_host()
    {
        var problems = FunctionIndex.ForApp().Functions.SelectMany(FunctionInvoker.Check).ToArray();

        Assert.Empty(problems);
    }

    [Fact]
    public void Two_functions_on_the_same_method_and_route_are_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FunctionIndex.Discover([typeof(ClashingRoutes)]));

        Assert.Contains("GET tickets/{} is declared by A, B", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Overlapping_routes_are_refused_when_the_functions_host_would_try_the_less_specific_first()
    {
        // "items/recent" also matches "items/{id}": ASP.NET Core (standalone) picks the literal, the Functions host
        // the function whose name sorts first.
        var error = Assert.Throws<InvalidOperationException>(() => FunctionIndex.Discover([typeof(GeneralRouteFirst)]));

        Assert.Contains("Route 'items/recent' of 'B_Recent' is more specific than route 'items/{id}' of 'A_Item'", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, FunctionIndex.Discover([typeof(SpecificRouteFirst)]).Functions.Count);
    }

    [Fact]
    public void A_route_in_the_functions_hosts_reserved_space_is_refused_as_the_host_refuses_it()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FunctionIndex.Discover([typeof(ReservedRoute)]));

        Assert.Contains("route 'admin/settings' is in the Functions host's reserved space", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_timer_schedule_is_refused_when_the_functions_are_read()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FunctionIndex.Discover([typeof(BadSchedule)]));

        Assert.Contains("'every five minutes'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_function_with_a_parameter_the_standalone_host_cannot_bind_is_named()
    {
        var function = FunctionIndex.Discover([typeof(Unbindable)]).Functions.Single();

        var problem = Assert.Single(FunctionInvoker.Check(function));

        Assert.Contains("parameter 'context' (FunctionContext)", problem, StringComparison.Ordinal);
    }

    private sealed class GeneralRouteFirst
    {
        [Function("A_Item")]
        public static IResult Item([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/{id}")] HttpRequest req) => Results.NoContent();

        [Function("B_Recent")]
        public static IResult Recent([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = "items/recent")] HttpRequest req) => Results.NoContent();
    }

    private sealed class SpecificRouteFirst
    {
        [Function("A_Recent")]
        public static IResult Recent([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/recent")] HttpRequest req) => Results.NoContent();

        [Function("B_Item")]
        public static IResult Item([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "items/{id}")] HttpRequest req) => Results.NoContent();
    }

    private sealed class ClashingRoutes
    {
        [Function("A")]
        public static IResult A([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}")] HttpRequest req) => Results.NoContent();

        [Function("B")]
        public static IResult B([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{ticketId}")] HttpRequest req) => Results.NoContent();
    }

    private sealed class ReservedRoute
    {
        [Function("Settings")]
        public static IResult Settings([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "admin/settings")] HttpRequest req) => Results.NoContent();
    }

    private sealed class BadSchedule
    {
        [Function("T")]
        public static void T([TimerTrigger("every five minutes")] TimerInfo timer)
        {
        }
    }

    private sealed class Unbindable
    {
        [Function("U")]
        public static IResult U([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "u")] HttpRequest req, FunctionContext context) => Results.NoContent();
    }
}
