using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Sla;

/// <summary>
/// <c>Itsm:Policies:MinuteLength</c>: tests and demos count the policies' minutes in seconds (the real-host scenario
/// suite runs SLA clocks and approval timeouts this way under both hosts); deployed apps cannot.
/// </summary>
public class PolicyMinuteTests
{
    private static readonly Dictionary<string, string?> Seconds = new() { ["Itsm:Policies:MinuteLength"] = "00:00:01" };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task With_one_second_minutes_an_sla_target_of_20_minutes_is_due_20_seconds_after_the_ticket_was_raised()
    {
        await using var app = await StandaloneApp.StartAsync(settings: Seconds);
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var days = string.Join(",", Enum.GetNames<DayOfWeek>().Select(d => $"\"{d.ToLowerInvariant()}\":[\"00:00-24:00\"]"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/calendars/24x7", Json($$$"""{"name":"24x7","timeZone":"Etc/UTC","weeklyHours":{{{{days}}}}}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/policies/fast", Json("""{"name":"Fast","calendarId":"24x7","resolutionMinutes":{"3":20},"warnings":[50]}"""))).StatusCode);

        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var created = await agent.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Core switch down","impact":2,"urgency":2}"""));
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var clock = (await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/sla")).GetProperty("clocks").EnumerateArray().Single(c => c.GetProperty("key").GetString() == "resolution");

        Assert.Equal("PT20S", clock.GetProperty("target").GetString());
        Assert.Equal(app.Clock.GetUtcNow().AddSeconds(20), clock.GetProperty("dueAt").GetDateTimeOffset());

        app.Clock.Advance(TimeSpan.FromSeconds(20));
        await app.WaitForDurableIdleAsync(TimeSpan.FromSeconds(30));
        var history = await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history");
        Assert.Single(history.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "sla.breach");
    }

    [Fact]
    public async Task With_one_second_minutes_an_approval_level_times_out_after_its_timeout_in_seconds()
    {
        await using var h = await ApprovalHarness.StartAsync(
            """{"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal"],"levels":[{"name":"L","approvers":[{"kind":"User","id":"bob"}],"rule":"Any","timeoutMinutes":30,"onTimeout":"AutoReject"}]}]}""",
            settings: Seconds);
        var change = await h.SubmitChangeAsync();
        var approval = await h.ApprovalIdAsync(change);

        await h.AdvanceAsync(TimeSpan.FromSeconds(29));
        Assert.Equal("Pending", await h.StateAsync(approval));
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal("Rejected", await h.StateAsync(approval));
    }

    [Fact]
    public void An_app_that_accepts_entra_tokens_refuses_shortened_minutes()
    {
        var error = Assert.Throws<InvalidSettingsException>(() => ItsmApp.BuildFunctionsWorker(
            [],
            configuration =>
            {
                configuration.Sources.Clear();
                configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Itsm:Auth:TenantId"] = "6f1c2a8e-4b7d-4c1e-9a3f-2d5e8b0c7a91",
                    ["Itsm:Auth:Audience"] = "api://itsm",
                    ["Itsm:Store:Provider"] = "Sqlite",
                    ["Itsm:Policies:MinuteLength"] = "00:00:01",
                });
            }));

        Assert.Single(error.Errors, e => e.StartsWith("Itsm:Policies:MinuteLength shortens", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:00.5")]
    [InlineData("00:02:00")]
    public void Minutes_shorter_than_a_second_or_longer_than_a_minute_are_refused(string value)
    {
        var options = new ItsmOptions { Policies = new() { MinuteLength = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) } };

        Assert.Contains("Itsm:Policies:MinuteLength must be between 00:00:01 and 00:01:00.", options.Validate());
    }
}
