using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>
/// A client that lost the answer to a POST sends it again with the same Idempotency-Key: it gets the original answer,
/// and nothing is created twice. The same key for another request is refused.
/// </summary>
public class IdempotencyTests
{
    private const string Incident = """{"type":"Incident","title":"Printer jams on floor 2","impact":2,"urgency":2}""";

    [Fact]
    public async Task A_repeated_ticket_create_gets_the_original_answer_and_creates_one_ticket()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var first = await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident, "key-1");
        var again = await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident, "key-1");

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.StatusCode, again.StatusCode));
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.True(again.Headers.TryGetValues("Idempotent-Replayed", out var replayed) && replayed.Single() == "true");
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Single((await agent.GetFromJsonAsync<JsonElement>("/api/tickets")).GetProperty("items").EnumerateArray());
        var next = await (await agent.PostAsync("/api/tickets", Json(Incident))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("INC0001002", next.GetProperty("number").GetString());
    }

    [Fact]
    public async Task The_same_key_with_another_body_gets_422_and_another_caller_has_keys_of_their_own()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident, "key-1")).StatusCode);

        var other = await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident.Replace("floor 2", "floor 3", StringComparison.Ordinal), "key-1");
        Assert.Equal((HttpStatusCode)422, other.StatusCode);
        Assert.Equal("application/problem+json", other.Content.Headers.ContentType?.MediaType);

        var elsewhere = await SendAsync(app.As("kim", "contoso", AppRoles.Agent), HttpMethod.Post, "/api/tickets", Incident, "key-1");
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
        Assert.Equal(2, (await agent.GetFromJsonAsync<JsonElement>("/api/tickets")).GetProperty("items").GetArrayLength());

        var malformed = await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident, new string('k', 201));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("Idempotency-Key", await malformed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_request_binds_nothing_and_a_key_older_than_a_day_starts_again()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        // A request refused for its body creates nothing, so the key is still free for the corrected one.
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(agent, HttpMethod.Post, "/api/tickets", """{"type":"Incident"}""", "key-1")).StatusCode);
        var created = await SendAsync(agent, HttpMethod.Post, "/api/tickets", Incident, "key-1");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        app.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var later = await SendAsync(app.As("sam", "contoso", AppRoles.Agent), HttpMethod.Post, "/api/tickets", Incident, "key-1");
        Assert.Equal(HttpStatusCode.Created, later.StatusCode);
        Assert.NotEqual(created.Headers.Location, later.Headers.Location);
    }

    [Fact]
    public async Task A_repeated_comment_is_added_once_and_answered_again()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var id = (await (await agent.PostAsync("/api/tickets", Json(Incident))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var first = await SendAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/comment", """{"body":"Toner replaced."}""", "c-1");
        var again = await SendAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/comment", """{"body":"Toner replaced."}""", "c-1");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, again.StatusCode));
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Single((await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/comments")).GetProperty("items").EnumerateArray());
        Assert.Equal((HttpStatusCode)422, (await SendAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/work-note", """{"body":"Toner replaced."}""", "c-1")).StatusCode);
    }

    [Fact]
    public async Task Repeated_cmdb_creates_make_one_ci_one_relationship_and_one_import_job()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        async Task<(HttpResponseMessage First, HttpResponseMessage Again)> TwiceAsync(string route, string body, string key, string mediaType = "application/json") =>
            (await SendAsync(agent, HttpMethod.Post, route, body, key, mediaType), await SendAsync(agent, HttpMethod.Post, route, body, key, mediaType));

        var (host, hostAgain) = await TwiceAsync("/api/cis", """{"class":"server","name":"esx-1"}""", "ci-1");
        var (vm, vmAgain) = await TwiceAsync("/api/cis", """{"class":"virtualMachine","name":"vm-7","externalKey":"/vms/7"}""", "ci-2");
        Assert.Equal((host.Headers.Location, vm.Headers.Location), (hostAgain.Headers.Location, vmAgain.Headers.Location));
        Assert.Equal(2, (await agent.GetFromJsonAsync<JsonElement>("/api/cis")).GetProperty("items").GetArrayLength());

        var hostId = (await host.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var vmId = (await vm.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var (related, relatedAgain) = await TwiceAsync($"/api/cis/{vmId}/relationships", $$"""{"type":"HostedOn","targetId":"{{hostId}}"}""", "rel-1");
        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (related.StatusCode, relatedAgain.StatusCode));

        var (import, importAgain) = await TwiceAsync("/api/cmdb/imports?kind=cis", "externalKey,class,name\n/hosts/2,server,esx-2\n", "imp-1", "text/csv");
        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (import.StatusCode, importAgain.StatusCode));
        Assert.Equal(import.Headers.Location, importAgain.Headers.Location);
        await app.WaitForDurableIdleAsync();
        Assert.Equal("Completed", (await agent.GetFromJsonAsync<JsonElement>(import.Headers.Location)).GetProperty("status").GetString());
        Assert.Equal(3, (await agent.GetFromJsonAsync<JsonElement>("/api/cis")).GetProperty("items").GetArrayLength());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string route, string body, string key, string mediaType = "application/json")
    {
        using var request = new HttpRequestMessage(method, route) { Content = new StringContent(body, Encoding.UTF8, mediaType) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await client.SendAsync(request);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
