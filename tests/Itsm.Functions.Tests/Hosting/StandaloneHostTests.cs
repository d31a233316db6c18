using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Tests.Hosting;

public class StandaloneHostTests
{
    [Fact]
    public async Task Health_reports_standalone_mode_version_and_a_reachable_database()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var health = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        Assert.Equal("standalone", health.GetProperty("mode").GetString());
        Assert.Equal(ItsmApp.Version, health.GetProperty("version").GetString());
        Assert.True(health.GetProperty("database").GetProperty("reachable").GetBoolean());
        Assert.True(File.Exists(app.DatabasePath));
    }

    [Fact]
    public async Task A_request_reaches_the_handler_with_its_route_values_query_headers_and_body()
    {
        var probe = new Probe();
        await using var app = await StandaloneApp.StartAsync([typeof(ProbeFunctions)], services: s => s.AddSingleton(probe));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo/42?view=full")
        {
            Content = new StringContent("{\"title\":\"Printer on fire\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("If-Match", "\"etag-1\"");
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/echo/42", response.Headers.Location?.OriginalString);
        Assert.Equal("{\"body\":\"{\\\"title\\\":\\\"Printer on fire\\\"}\"}", await response.Content.ReadAsStringAsync());
        var seen = probe.Seen;
        Assert.NotNull(seen);
        Assert.Equal("42", seen.RouteValue("id"));
        Assert.Equal("full", seen.QueryValue("view"));
        Assert.Equal("\"etag-1\"", seen.Header("If-Match"));
    }

    [Fact]
    public async Task An_oversized_body_gets_413_and_the_handler_never_runs()
    {
        var probe = new Probe();
        await using var app = await StandaloneApp.StartAsync(
            [typeof(ProbeFunctions)],
            new Dictionary<string, string?> { ["Itsm:Http:MaxRequestBodyBytes"] = "2048" },
            services: s => s.AddSingleton(probe));

        var response = await app.Client.PostAsync("/api/sink", new StringContent(new string('x', 4096), Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, probe.Calls);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health")).StatusCode);
    }

    [Theory]
    [InlineData("/api/broken")]
    [InlineData("/api/broken-outside")]
    public async Task A_function_that_throws_answers_500_problem_details_without_a_stack_trace(string path)
    {
        await using var app = await StandaloneApp.StartAsync([typeof(ProbeFunctions)], services: s => s.AddSingleton(new Probe()));

        var response = await app.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health")).StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/no-such-route", HttpStatusCode.NotFound)]
    [InlineData("DELETE", "/api/health", HttpStatusCode.MethodNotAllowed)]
    public async Task Unknown_routes_and_methods_get_problem_details(string method, string path, HttpStatusCode expected)
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_wrong_method_on_a_known_route_names_the_methods_it_accepts()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.DeleteAsync("/api/tickets");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal(["GET", "POST"], response.Content.Headers.Allow.Order(StringComparer.Ordinal));
        Assert.Contains("'/api/tickets' does not accept DELETE.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Functions_are_reachable_under_their_api_routes_only_not_under_their_names()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.PostAsync("/Health", new StringContent("""{"Data":{}}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void Inconsistent_settings_stop_the_app_at_start_and_name_the_setting()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ItsmApp.BuildStandalone(
            [],
            builder => builder.Configuration["Itsm:Queues:MaxDeliveryCount"] = "0"));

        Assert.Contains("Itsm:Queues:MaxDeliveryCount", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--functions-worker-id", true)]
    [InlineData("--workerId", true)]
    [InlineData("--urls", false)]
    public void The_functions_host_is_recognised_by_the_worker_arguments_it_passes(string argument, bool underHost)
    {
        Assert.Equal(underHost, ItsmApp.StartedByFunctionsHost(["--host", "127.0.0.1", argument, "3f1c"]));
        Assert.False(ItsmApp.StartedByFunctionsHost([]));
    }

    public sealed class Probe
    {
        public HttpTriggerRequest? Seen { get; set; }

        public int Calls { get; set; }
    }

    public sealed class ProbeFunctions(HttpEndpoint http, Probe probe)
    {
        [Function("Echo")]
        public Task<IResult> Echo([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "echo/{id}")] HttpRequest req) =>
            http.PublicAsync(req, context =>
            {
                probe.Seen = context.Request;
                return Task.FromResult(HttpResults.JsonBody(201, new { context.Request.Body }, new Dictionary<string, string> { ["Location"] = "/api/echo/" + context.Request.RouteValue("id") }));
            });

        [Function("Sink")]
        public Task<IResult> Sink([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "sink")] HttpRequest req) =>
            http.PublicAsync(req, _ =>
            {
                probe.Calls++;
                return Task.FromResult(HttpResults.NoContent());
            });

        [Function("Broken")]
        public Task<IResult> Broken([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "broken")] HttpRequest req) =>
            http.PublicAsync(req, _ => throw new InvalidOperationException("secret connection string"));

        [Function("BrokenOutside")]
        public static IResult BrokenOutside([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "broken-outside")] HttpRequest req) =>
            throw new InvalidOperationException("secret connection string");
    }
}
