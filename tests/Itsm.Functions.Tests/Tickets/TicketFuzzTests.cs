using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>Thousands of generated bad requests: each gets a 4xx, none a 5xx, and nothing in the store changes.</summary>
public class TicketFuzzTests
{
    private const int RequestCount = 2500;

    private static readonly string[] Fields = ["type", "title", "description", "impact", "urgency", "majorIncident", "assignee", "assignmentGroup", "category", "tags", "watchers", "configurationItems", "customFields", "change", "problem", "requester"];

    private static readonly string[] Actions = ["start", "hold", "resume", "resolve", "close", "reopen", "cancel", "comment", "work-note", "link", "time-entry", "merge", "implement", "frobnicate", "", "%00", "..%2F..%2Fadmin"];

    [Fact]
    public async Task Generated_bad_requests_all_get_4xx_and_leave_the_tickets_unchanged()
    {
        await using var app = await StandaloneApp.StartAsync(settings: new Dictionary<string, string?> { ["Itsm:Http:MaxRequestBodyBytes"] = "65536" });
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var ana = app.As("ana");
        var first = await (await agent.PostAsync("/api/tickets", Content("""{"type":"Incident","title":"Seed one"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        var second = await (await ana.PostAsync("/api/tickets", Content("""{"type":"ServiceRequest","title":"Seed two"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        string[] ids = [first.GetProperty("id").GetString()!, second.GetProperty("id").GetString()!];
        var before = await SnapshotAsync(agent, ids);

        var random = new Random(20261122);
        var failures = new List<string>();
        for (var i = 0; i < RequestCount; i++)
        {
            var client = random.Next(4) == 0 ? ana : agent;
            var request = NextBadRequest(random, ids);
            var description = $"{request.Method} {request.RequestUri} {(request.Content is null ? "" : await request.Content.ReadAsStringAsync())}";
            var response = await client.SendAsync(request);
            if ((int)response.StatusCode is < 400 or >= 500)
            {
                failures.Add($"{(int)response.StatusCode} for {description[..Math.Min(description.Length, 300)]}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal(before, await SnapshotAsync(agent, ids));
        var next = await (await agent.PostAsync("/api/tickets", Content("""{"type":"Incident","title":"After the storm"}"""))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("INC0001002", next.GetProperty("number").GetString());
    }

    private static async Task<string> SnapshotAsync(HttpClient agent, string[] ids)
    {
        var snapshot = new StringBuilder(await agent.GetStringAsync("/api/tickets?sort=createdAt&pageSize=100"));
        foreach (var id in ids)
        {
            snapshot.Append(await agent.GetStringAsync($"/api/tickets/{id}/history"));
            snapshot.Append(await agent.GetStringAsync($"/api/tickets/{id}/comments"));
        }

        return snapshot.ToString();
    }

    private static HttpRequestMessage NextBadRequest(Random random, string[] ids)
    {
        var id = random.Next(5) == 0 ? RandomText(random, 1, 80) : ids[random.Next(ids.Length)];
        var escapedId = Uri.EscapeDataString(id);
        return random.Next(6) switch
        {
            0 => new HttpRequestMessage(HttpMethod.Post, "/api/tickets") { Content = BadBody(random, ValidCreate()) },
            1 => Patch(random, escapedId),
            2 => new HttpRequestMessage(HttpMethod.Post, $"/api/tickets/{escapedId}/actions/{Uri.EscapeDataString(Actions[random.Next(Actions.Length)])}") { Content = BadBody(random, new JsonObject { ["body"] = "x", ["minutes"] = 5 }) },
            3 => new HttpRequestMessage(HttpMethod.Get, "/api/tickets?" + BadQuery(random)),
            4 => new HttpRequestMessage(random.Next(2) == 0 ? HttpMethod.Delete : HttpMethod.Put, $"/api/tickets/{escapedId}") { Content = Content("{}") },
            _ => new HttpRequestMessage(HttpMethod.Get, $"/api/tickets/{Uri.EscapeDataString(RandomText(random, 1, 300))}"),
        };
    }

    private static HttpRequestMessage Patch(Random random, string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = BadBody(random, new JsonObject { ["title"] = "changed" }) };
        if (random.Next(3) > 0)
        {
            request.Headers.TryAddWithoutValidation("If-Match", random.Next(2) == 0 ? "\"stale\"" : RandomText(random, 0, 40));
        }

        return request;
    }

    private static JsonObject ValidCreate() => new() { ["type"] = "Incident", ["title"] = "Valid title", ["impact"] = 2, ["urgency"] = 2 };

    /// <summary>A body that is certainly invalid: malformed JSON, a wrong shape, or a valid object with at least one bad field.</summary>
    private static HttpContent BadBody(Random random, JsonObject valid)
    {
        switch (random.Next(10))
        {
            case 0:
                return Content(valid.ToJsonString()[..Math.Max(1, random.Next(valid.ToJsonString().Length))]);
            case 1:
                return Content(string.Concat(Enumerable.Repeat("[", 200 + random.Next(300))));
            case 2:
                return new ByteArrayContent(Enumerable.Range(0, random.Next(1, 200)).Select(_ => (byte)random.Next(256)).ToArray());
            case 3:
                return Content(random.Next(2) == 0 ? "[]" : "\"just a string\"");
            case 4:
                return Content("{\"title\":\"" + new string('x', 70_000) + "\"}");
        }

        var body = (JsonObject)valid.DeepClone();
        var mutations = 1 + random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            var field = Fields[random.Next(Fields.Length)];
            body[field] = BadValue(random, field);
        }

        if (random.Next(3) == 0)
        {
            body["unexpected_" + random.Next(1000)] = 1;
        }

        return Content(body.ToJsonString());
    }

    /// <summary>A value that is wrong for the field (type, range, shape or size).</summary>
    private static JsonNode? BadValue(Random random, string field) => field switch
    {
        "type" => random.Next(2) == 0 ? "Outage" : 3,
        "title" => random.Next(2) == 0 ? new string('t', 201) : 42,
        "description" => new JsonArray(1, 2),
        "impact" or "urgency" => random.Next(3) switch { 0 => 0, 1 => 4, _ => "high" },
        "majorIncident" => "yes",
        "assignee" or "requester" => random.Next(2) == 0 ? "bob" : new JsonObject { ["name"] = "no id" },
        "assignmentGroup" or "category" => new JsonObject(),
        "tags" or "watchers" or "configurationItems" => random.Next(2) == 0 ? "not-a-list" : new JsonArray(Enumerable.Range(0, 60).Select(i => (JsonNode?)JsonValue.Create("x" + i)).ToArray()),
        "customFields" => new JsonObject { ["9bad key"] = new JsonObject() },
        "change" => new JsonObject { ["plannedStart"] = "tomorrow", ["risk"] = "high" },
        _ => new JsonObject { ["knownError"] = true, ["extra"] = 1 },
    };

    private static string BadQuery(Random random) => random.Next(6) switch
    {
        0 => "priority=9" + RandomText(random, 0, 10),
        1 => "state=Exploded",
        2 => "pageSize=" + random.Next(-5, 5000).ToString(System.Globalization.CultureInfo.InvariantCulture) + "&pageSize=0",
        3 => "continuationToken=" + Uri.EscapeDataString(RandomText(random, 1, 200)),
        4 => "createdFrom=yesterday",
        _ => Uri.EscapeDataString(RandomText(random, 1, 20)) + "=1&sort=-colour",
    };

    private static string RandomText(Random random, int min, int max)
    {
        const string alphabet = "abcXYZ019 _-.:/\\\"'{}[]<>%&|\u00e9\u4e2d\U0001F600\t";
        var length = random.Next(min, max + 1);
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return text.ToString();
    }

    private static StringContent Content(string json) => new(json, Encoding.UTF8, "application/json");
}
