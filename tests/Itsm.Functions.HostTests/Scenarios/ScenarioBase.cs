using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.HostTests.Support;
using Itsm.Functions.Security;
using Xunit.Abstractions;

namespace Itsm.Functions.HostTests.Scenarios;

/// <summary>What the scenarios share: the target, the users' calls through the public API, and measurements in the test output.</summary>
public abstract class ScenarioBase(AppTarget target, ITestOutputHelper output)
{
    /// <summary>How long a scenario waits for what a user should see; generous, since CI runs both hosts on two cores.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    /// <summary>How late a threshold or timeout may fire and still count as "at its time" (polling is one second under the host).</summary>
    protected static readonly TimeSpan Lateness = TimeSpan.FromSeconds(15);

    protected AppTarget Target { get; } = target;

    protected static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    protected HttpClient Admin(string tenant) => Target.As("root", tenant, AppRoles.Admin);

    protected HttpClient Agent(string tenant) => Target.As("sam", tenant, AppRoles.Agent);

    /// <summary>Runs a scenario; when it fails, the app's (and host's) last log lines go to the test output.</summary>
    protected async Task RunAsync(Func<Task> scenario)
    {
        output.WriteLine($"target: {Target.Name} at {Target.BaseAddress} ({Target.Directory}); started in {string.Join(", ", Target.StartTimes.Select(t => $"{t.TotalSeconds:F1} s"))}");
        try
        {
            await scenario();
        }
        catch
        {
            output.WriteLine($"--- last lines of the {Target.Name} log ---");
            output.WriteLine(Target.LogTail(120));
            throw;
        }
    }

    /// <summary>Writes a measurement to the test output and, when <c>ITSM_HOST_TESTS_MEASUREMENTS</c> names a file, appends it there (target, name, seconds).</summary>
    protected void Measure(string name, TimeSpan value)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"measured [{Target.Name}] {name}: {value.TotalSeconds:F3} s");
        output.WriteLine(line);
        if (Environment.GetEnvironmentVariable("ITSM_HOST_TESTS_MEASUREMENTS") is { Length: > 0 } file)
        {
            lock (typeof(ScenarioBase))
            {
                File.AppendAllText(file, string.Create(CultureInfo.InvariantCulture, $"{Target.Name}\t{name}\t{value.TotalSeconds:F3}{Environment.NewLine}"));
            }
        }
    }

    protected void Note(string text) => output.WriteLine($"[{Target.Name}] {text}");

    protected static async Task<JsonElement> GetJsonAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    protected static async Task<JsonElement> SendJsonAsync(HttpClient client, HttpMethod method, string url, string json, HttpStatusCode? expected = null)
    {
        using var response = await client.SendAsync(new HttpRequestMessage(method, url) { Content = Json(json) });
        var body = await response.Content.ReadAsStringAsync();
        if (expected is { } status)
        {
            Assert.True(response.StatusCode == status, $"{method} {url}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        }
        else
        {
            Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {body}");
        }

        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>A 24x7 UTC calendar and an SLA policy for <paramref name="tenant"/>, through the admin API.</summary>
    protected async Task SetUpSlaAsync(string tenant, string policyJson)
    {
        var admin = Admin(tenant);
        var days = string.Join(",", Enum.GetNames<DayOfWeek>().Select(d => $"\"{d.ToLowerInvariant()}\":[\"00:00-24:00\"]"));
        await SendJsonAsync(admin, HttpMethod.Put, "/api/manage/sla/calendars/24x7", $$$"""{"name":"Around the clock","timeZone":"Etc/UTC","weeklyHours":{{{{days}}}}}""");
        await SendJsonAsync(admin, HttpMethod.Put, "/api/manage/sla/policies/fast", policyJson);
    }

    /// <summary>An agent raises an incident (impact 2, urgency 2: priority 3); its id and creation instant.</summary>
    protected async Task<(string Id, DateTimeOffset CreatedAt)> RaiseIncidentAsync(string tenant, string title, string extra = "")
    {
        var ticket = await SendJsonAsync(Agent(tenant), HttpMethod.Post, "/api/tickets", $$"""{"type":"Incident","title":"{{title}}","impact":2,"urgency":2{{extra}}}""", HttpStatusCode.Created);
        Assert.Equal(3, ticket.GetProperty("priority").GetInt32());
        return (ticket.GetProperty("id").GetString()!, ticket.GetProperty("createdAt").GetDateTimeOffset());
    }

    protected async Task<JsonElement[]> HistoryAsync(string tenant, string ticketId) =>
        (await GetJsonAsync(Agent(tenant), $"/api/tickets/{ticketId}/history")).GetProperty("items").EnumerateArray().ToArray();

    protected static JsonElement[] Events(IEnumerable<JsonElement> history, string action) =>
        history.Where(e => e.GetProperty("action").GetString() == action).ToArray();

    /// <summary>The new value of <paramref name="field"/> in an audit event.</summary>
    protected static JsonElement Detail(JsonElement auditEvent, string field) =>
        auditEvent.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == field).GetProperty("new");

    protected static DateTimeOffset At(JsonElement auditEvent) => auditEvent.GetProperty("at").GetDateTimeOffset();

    /// <summary>The approval settings of <paramref name="tenant"/>: one policy for normal changes with these levels.</summary>
    protected async Task SetUpApprovalsAsync(string tenant, string levels) =>
        await SendJsonAsync(Admin(tenant), HttpMethod.Put, "/api/manage/approvals/settings", $$"""{"policies":[{"id":"cab","name":"Change advisory board","changeTypes":["Normal"],"levels":[{{levels}}]}]}""");

    /// <summary>An agent raises a normal change two days out and submits it (it enters Authorize); the change and its approval, once the approval has prompted its approvers.</summary>
    protected async Task<(string Change, string Approval)> SubmitChangeAsync(string tenant, string title)
    {
        var agent = Agent(tenant);
        var start = DateTimeOffset.UtcNow.AddDays(2);
        var created = await SendJsonAsync(agent, HttpMethod.Post, "/api/tickets", $$"""
            {"type":"Change","title":"{{title}}","description":"Apply the vendor's security fix.",
             "change":{"changeType":"Normal","plannedStart":"{{start:O}}","plannedEnd":"{{start.AddHours(2):O}}","implementationPlan":"Patch.","backoutPlan":"Restore snapshot."}
            }
            """, HttpStatusCode.Created);
        var change = created.GetProperty("id").GetString()!;
        await SendJsonAsync(agent, HttpMethod.Post, $"/api/tickets/{change}/actions/submit", "{}");
        var assessment = await Poll.UntilAsync(
            () => GetJsonAsync(agent, $"/api/changes/{change}/assessment"),
            a => a.GetProperty("approvals").GetArrayLength() > 0,
            Patience,
            $"the approval of change {change} to start");
        var approval = assessment.GetProperty("approvals").EnumerateArray().Last().GetProperty("id").GetString()!;
        await Poll.UntilAsync(() => ApprovalAsync(tenant, approval), a => a.GetProperty("prompts").GetArrayLength() > 0, Patience, $"approval {approval} to prompt its approvers");
        return (change, approval);
    }

    protected Task<JsonElement> ApprovalAsync(string tenant, string approval) => GetJsonAsync(Agent(tenant), $"/api/approvals/{approval}");

    protected async Task<string> TicketStateAsync(string tenant, string ticketId) =>
        (await GetJsonAsync(Agent(tenant), $"/api/tickets/{ticketId}")).GetProperty("state").GetString()!;
}
