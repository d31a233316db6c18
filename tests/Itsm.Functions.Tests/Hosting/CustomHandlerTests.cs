using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>The app as the Functions host sees it: FUNCTIONS_CUSTOMHANDLER_PORT is set.</summary>
public class CustomHandlerTests
{
    private const string EntraTenant = "8f1c2a9e-6b0d-4f5e-9a3c-2d7e1b4c6a80";

    private static Task<StandaloneApp> StartUnderFunctionsHostAsync(IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "43117", ["Itsm:Auth:TenantId"] = EntraTenant, ["Itsm:Auth:Audience"] = "api://itsm-tests", ["Itsm:Store:Provider"] = "Sqlite" };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return StandaloneApp.StartAsync(settings: all);
    }

    private static StringContent Envelope(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Readiness_probe_on_the_root_answers_at_once()
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task An_http_function_invoked_through_the_envelope_answers_with_an_http_output_object()
    {
        await using var app = await StartUnderFunctionsHostAsync();
        var envelope = """
            {"Data":{"req":{"Url":"https://itsm.example/api/health","Method":"GET","Query":{},"Headers":{"Accept":["application/json"]},"Params":{},"Identities":[],"Body":""}},
             "Metadata":{"sys":{"MethodName":"Health","UtcNow":"2026-03-02T08:00:00Z","RandGuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}
            """;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/Health") { Content = Envelope(envelope) };
        request.Headers.Add("X-Azure-Functions-InvocationId", Guid.NewGuid().ToString());

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var res = result.GetProperty("Outputs").GetProperty("res");
        Assert.Equal(200, res.GetProperty("statusCode").GetInt32());
        Assert.Equal("application/json; charset=utf-8", res.GetProperty("headers").GetProperty("Content-Type").GetString());
        var health = JsonDocument.Parse(res.GetProperty("body").GetString()!).RootElement;
        Assert.Equal("functions", health.GetProperty("mode").GetString());
        Assert.Equal(JsonValueKind.Array, result.GetProperty("Logs").ValueKind);
    }

    [Fact]
    public async Task Api_routes_are_not_served_directly_under_the_functions_host()
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.GetAsync("/api/health");

        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/NoSuchFunction", "application/json", """{"Data":{}}""", HttpStatusCode.NotFound)]
    [InlineData("/Health", "text/plain", """{"Data":{}}""", HttpStatusCode.UnsupportedMediaType)]
    [InlineData("/Health", "application/json", "{not json", HttpStatusCode.BadRequest)]
    [InlineData("/Health", "application/json", """{"Metadata":{}}""", HttpStatusCode.BadRequest)]
    [InlineData("/Health", "application/json", """{"Data":{"req":"not an object"}}""", HttpStatusCode.BadRequest)]
    [InlineData("/Health", "application/json", """{"Data":{"req":{"Url":"x"}}}""", HttpStatusCode.BadRequest)]
    public async Task Bad_envelopes_get_a_clear_error_and_the_process_keeps_serving(string path, string contentType, string body, HttpStatusCode expected)
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, contentType));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task An_oversized_envelope_is_refused_with_413()
    {
        await using var app = await StartUnderFunctionsHostAsync(new Dictionary<string, string?>
        {
            ["Itsm:Http:MaxEnvelopeBytes"] = "4096",
            ["Itsm:Http:MaxRequestBodyBytes"] = "2048",
        });

        var response = await app.Client.PostAsync("/Health", Envelope("{\"Data\":{\"pad\":\"" + new string('x', 8192) + "\"}}"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public void A_port_that_is_not_a_number_stops_the_app_with_a_clear_message()
    {
        var error = Assert.Throws<Itsm.Functions.Hosting.InvalidSettingsException>(() => Itsm.Functions.Hosting.ItsmApp.Build(
            [],
            builder => builder.Configuration["FUNCTIONS_CUSTOMHANDLER_PORT"] = "http"));

        Assert.Contains("FUNCTIONS_CUSTOMHANDLER_PORT", error.Message, StringComparison.Ordinal);
    }
}
