using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tests.Support;

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
    public async Task A_request_reaches_the_function_as_the_http_request_object_of_the_envelope()
    {
        HttpTriggerRequest? seen = null;
        string? rawEnvelopeValue = null;
        await using var app = await StandaloneApp.StartAsync(functions => functions.MapHttp("Echo", "POST", "echo/{id}", context =>
        {
            seen = context.Request;
            rawEnvelopeValue = context.Invocation.Request.Data["req"].GetRawText();
            return Task.FromResult(HttpResults.JsonBody(201, new { context.Request.Body }, new Dictionary<string, string> { ["Location"] = "/api/echo/" + context.Request.RouteValue("id") }));
        }));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/echo/42?view=full")
        {
            Content = new StringContent("{\"title\":\"Printer on fire\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("If-Match", "\"etag-1\"");
        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/echo/42", response.Headers.Location?.OriginalString);
        Assert.Equal("{\"body\":\"{\\\"title\\\":\\\"Printer on fire\\\"}\"}", await response.Content.ReadAsStringAsync());
        Assert.NotNull(seen);
        Assert.Equal("42", seen.RouteValue("id"));
        Assert.Equal("full", seen.QueryValue("view"));
        Assert.Equal("\"etag-1\"", seen.Header("If-Match"));
        Assert.Contains("\"Params\":{\"id\":\"42\"}", rawEnvelopeValue, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_body_gets_413_and_the_function_never_runs()
    {
        var calls = 0;
        await using var app = await StandaloneApp.StartAsync(
            functions => functions.MapHttp("Sink", "POST", "sink", _ =>
            {
                calls++;
                return Task.FromResult(HttpResults.NoContent());
            }),
            new Dictionary<string, string?> { ["Itsm:Http:MaxRequestBodyBytes"] = "2048" });

        var response = await app.Client.PostAsync("/api/sink", new StringContent(new string('x', 4096), Encoding.UTF8, "text/plain"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, calls);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health")).StatusCode);
    }

    [Fact]
    public async Task A_function_that_throws_answers_500_problem_details_without_a_stack_trace()
    {
        await using var app = await StandaloneApp.StartAsync(functions => functions.MapHttp("Broken", "GET", "broken", _ => throw new InvalidOperationException("secret connection string")));

        var response = await app.Client.GetAsync("/api/broken");

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
    public async Task The_custom_handler_envelope_endpoint_is_not_exposed_standalone()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.Client.PostAsync("/Health", new StringContent("""{"Data":{}}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public void Inconsistent_settings_stop_the_app_at_start_and_name_the_setting()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ItsmApp.Build(
            [],
            builder => builder.Configuration["Itsm:Queues:MaxDeliveryCount"] = "0"));

        Assert.Contains("Itsm:Queues:MaxDeliveryCount", error.Message, StringComparison.Ordinal);
    }
}
