using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Sla;

/// <summary>An SLA clock survives the app being killed (SIGKILL) right after its ticket was raised.</summary>
public class SlaKillTests
{
    [Fact]
    public async Task A_clock_started_by_a_killed_process_fires_its_warning_and_breach_once_after_a_restart()
    {
        var directory = TempDirectory.Create();
        var database = Path.Combine(directory, "itsm.db");
        var environment = new Dictionary<string, string>
        {
            ["Itsm__Sqlite__Path"] = database,
            ["Itsm__Standalone__Urls"] = "http://127.0.0.1:0",
            ["Logging__LogLevel__Default"] = "Warning",
        };

        string id;
        DateTimeOffset raisedAt;
        await using (var process = AppProcess.Start(environment))
        {
            using var http = new HttpClient { BaseAddress = await process.ListeningAddressAsync() };
            var token = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(database), "root", [AppRoles.Admin], "contoso");
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var days = string.Join(",", Enum.GetNames<DayOfWeek>().Select(d => $"\"{d.ToLowerInvariant()}\":[\"00:00-24:00\"]"));
            Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/api/manage/sla/calendars/24x7", Json($$$"""{"name":"24x7","timeZone":"Etc/UTC","weeklyHours":{{{{days}}}}}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await http.PutAsync("/api/manage/sla/policies/fast", Json("""{"name":"Fast","calendarId":"24x7","resolutionMinutes":{"3":60},"warnings":[50]}"""))).StatusCode);

            var created = await http.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Core switch down","impact":2,"urgency":2}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var ticket = await created.Content.ReadFromJsonAsync<JsonElement>();
            (id, raisedAt) = (ticket.GetProperty("id").GetString()!, ticket.GetProperty("createdAt").GetDateTimeOffset());

            // No shutdown code runs: the clock's first episode or activity may be cut off half-way.
            await process.KillAsync();
        }

        var clock = new FakeTimeProvider(raisedAt.AddHours(2));
        await using var app = await StandaloneApp.StartAsync(directory: directory, clock: clock);
        await app.WaitForDurableIdleAsync(TimeSpan.FromSeconds(30));

        var history = await app.As("sam", "contoso", AppRoles.Agent).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history");
        var sla = history.GetProperty("items").EnumerateArray().Where(e => e.GetProperty("action").GetString()!.StartsWith("sla.", StringComparison.Ordinal)).ToArray();
        var warning = Assert.Single(sla, e => e.GetProperty("action").GetString() == "sla.warning");
        var breach = Assert.Single(sla, e => e.GetProperty("action").GetString() == "sla.breach");
        Assert.Equal(raisedAt.AddMinutes(30), Detail(warning, "reachedAt"));
        Assert.Equal(raisedAt.AddMinutes(60), Detail(breach, "breachedAt"));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static DateTimeOffset Detail(JsonElement auditEvent, string field) =>
        auditEvent.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == field).GetProperty("new").GetDateTimeOffset();
}
