using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>Bodies that are not text, or JSON whose strings cannot be decoded, get 400 problem details on every route that takes a body.</summary>
public partial class MalformedInputTests
{
    private static readonly (string Method, string Route)[] RoutesWithBodies = FunctionIndex.ForApp().OfKind(TriggerKind.Http)
        .SelectMany(f => f.HttpMethods.Where(m => m is "POST" or "PUT" or "PATCH").Select(m => (m, "/api/" + RouteValues().Replace(f.Route, "x1"))))
        .ToArray();

    [Fact]
    public async Task A_lone_surrogate_in_a_json_string_gets_400_naming_the_problem_on_every_route()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var ticket = await (await admin.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Seed"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        var failures = new List<string>();
        foreach (var (method, route) in RoutesWithBodies.Append(("POST", $"/api/tickets/{ticket.GetProperty("id").GetString()}/actions/comment")))
        {
            foreach (var body in new[] { """{"title":"\ud800"}""", """{"body":"ok \udc00 then"}""", """{"\ud83d":1}""", "[\"\\ud800\"]" })
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = Json(body) };
                request.Headers.TryAddWithoutValidation("If-Match", "\"x\"");
                var response = await admin.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.BadRequest || response.Content.Headers.ContentType?.MediaType != "application/problem+json" || !text.Contains("surrogate", StringComparison.Ordinal))
                {
                    failures.Add($"{method} {route} {body}: {(int)response.StatusCode} {text}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("text/csv")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task A_lone_surrogate_in_json_sent_as_another_media_type_gets_400_not_500(string mediaType)
    {
        // Found by the route fuzz test: the body check skips form and CSV bodies, and a JSON handler then threw.
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var response = await agent.PostAsync("/api/tickets", new StringContent("""{"type":"Incident","title":"\ud800"}""", Encoding.UTF8, mediaType));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("surrogate", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_body_that_is_not_utf8_gets_400_on_every_route_and_nothing_is_stored()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var failures = new List<string>();
        foreach (var (method, route) in RoutesWithBodies)
        {
            var bytes = Encoding.UTF8.GetBytes("""{"type":"Incident","title":"Caf""").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
            using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            var response = await admin.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.BadRequest || !text.Contains("UTF-8", StringComparison.Ordinal))
            {
                failures.Add($"{method} {route}: {(int)response.StatusCode} {text}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/tickets");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("GET /api/tickets/%00 HTTP/1.1")]
    [InlineData("GET /api/health%00 HTTP/1.1")]
    [InlineData("POST /api/tickets/a%00b/actions/start HTTP/1.1")]
    [InlineData("GET /api/tickets HTTP/1.1\r\nBad Header: x")]
    public async Task A_request_the_server_itself_refuses_still_gets_problem_details(string requestHead)
    {
        await using var app = await StandaloneApp.StartAsync(kestrel: true);

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(app.BaseAddress.Host, app.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(requestHead.Replace("\\r\\n", "\r\n", StringComparison.Ordinal) + $"\r\nHost: {app.BaseAddress.Authority}\r\nContent-Length: 0\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 400 Bad Request\r\n", answer, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Type: application/problem+json; charset=utf-8\r\n", answer, StringComparison.Ordinal);
        var body = JsonDocument.Parse(answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]).RootElement;
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.Contains("%00", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ordinary_answers_pass_through_the_rejection_filter_unchanged_on_a_kept_alive_connection()
    {
        await using var app = await StandaloneApp.StartAsync(kestrel: true);
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/health")).StatusCode);
            var created = await agent.PostAsync("/api/tickets", Json("{\"type\":\"Incident\",\"title\":\"T" + i + "\"}"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var missing = await agent.GetAsync("/api/tickets/nope");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}]*\}")]
    private static partial System.Text.RegularExpressions.Regex RouteValues();
}
