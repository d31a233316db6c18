using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Changes;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;

namespace Itsm.Functions.Tests.Changes;

/// <summary>Change risk, conflicts, blocking policies, overrides and the calendar through the API, with a fake CMDB.</summary>
public class ChangeApiTests
{
    /// <summary>app-01 runs on db-01; db-01 is mission critical and feeds two services; the app-owners group (alice) owns app-01.</summary>
    private sealed class FakeCmdb : IChangeCmdb
    {
        public Task<IReadOnlySet<string>> RelatedAsync(string tenantId, string ci, int depth, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlySet<string>>(ci is "app-01" or "db-01" && depth >= 1 ? new HashSet<string> { "app-01", "db-01" } : new HashSet<string> { ci });

        public Task<string?> OwnerGroupAsync(string tenantId, string ci, CancellationToken cancellationToken) => Task.FromResult(ci == "app-01" ? "app-owners" : null);

        public Task<int> CriticalityAsync(string tenantId, string ci, CancellationToken cancellationToken) => Task.FromResult(ci == "db-01" ? 5 : 2);

        public Task<IReadOnlyList<string>> AffectedServicesAsync(string tenantId, IReadOnlyList<string> cis, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<string>>(cis.Contains("db-01") ? ["payroll", "hr-portal"] : []);
    }

    private static Task<ApprovalHarness> StartAsync(string settings = """{"policies":[]}""") =>
        ApprovalHarness.StartAsync(settings, services => services.AddSingleton<IChangeCmdb, FakeCmdb>());

    private static async Task<JsonElement> AssessmentAsync(ApprovalHarness h, string id) =>
        await h.Agent.GetFromJsonAsync<JsonElement>($"/api/changes/{id}/assessment");

    private static string[] Rules(JsonElement assessment) =>
        assessment.GetProperty("conflicts").EnumerateArray().Select(c => c.GetProperty("rule").GetString()!).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task Conflicts_cover_same_and_CMDB_related_CIs_the_assignee_and_the_windows()
    {
        await using var h = await StartAsync();
        var admin = h.App.As("root", "contoso", AppRoles.Admin);
        var start = h.App.Clock.GetUtcNow().AddHours(48);
        var windows = $$"""
            {"windows":[{"name":"Payroll run","kind":"Freeze","start":"{{start.AddHours(1):O}}","end":"{{start.AddHours(5):O}}","services":["payroll"]},
                        {"name":"DB nights","kind":"Maintenance","start":"{{start.AddDays(1):O}}","end":"{{start.AddDays(1).AddHours(4):O}}","cis":["db-01"]}],
             "relatedCiDepth":1}
            """;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json(windows))).StatusCode);

        var first = await h.SubmitChangeAsync(extra: """ "configurationItems":["app-01"],"assignee":{"id":"kim"},""");
        Assert.Empty(Rules(await AssessmentAsync(h, first)));

        var sameCi = await h.SubmitChangeAsync(extra: """ "configurationItems":["app-01"],""");
        Assert.Equal(["SameCi"], Rules(await AssessmentAsync(h, sameCi)));

        var related = await h.SubmitChangeAsync(extra: """ "configurationItems":["db-01"],"assignee":{"id":"kim"},"affectedService":"payroll",""");
        Assert.Equal(["AssigneeDoubleBooked", "FreezeWindow", "OutsideMaintenanceWindow", "RelatedCi", "RelatedCi"], Rules(await AssessmentAsync(h, related)));

        // The first change now sees the later ones too.
        Assert.Equal(["AssigneeDoubleBooked", "RelatedCi", "SameCi"], Rules(await AssessmentAsync(h, first)));

        var elsewhere = await h.SubmitChangeAsync(extra: """ "configurationItems":["printer-7"],""", startHours: 24 * 10);
        Assert.Empty(Rules(await AssessmentAsync(h, elsewhere)));
    }

    [Fact]
    public async Task Risk_uses_the_questionnaire_the_CMDB_and_recent_failures_on_the_same_CIs()
    {
        await using var h = await StartAsync();
        var id = await h.SubmitChangeAsync(extra: """ "configurationItems":["db-01"],""");
        var risk = (await AssessmentAsync(h, id)).GetProperty("risk");
        Assert.Equal((6, "Medium"), (risk.GetProperty("score").GetInt32(), risk.GetProperty("level").GetString())); // criticality 5 (+4), 2 services (+2)

        var answered = await h.Agent.PutAsync($"/api/changes/{id}/risk", ApprovalHarness.Json("""{"serviceOutageExpected":true,"testedOutsideProduction":false}"""));
        Assert.Equal(10, (await answered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("risk").GetProperty("score").GetInt32());
        Assert.Equal("High", (await AssessmentAsync(h, id)).GetProperty("risk").GetProperty("level").GetString());

        var bad = await h.Agent.PutAsync($"/api/changes/{id}/risk", ApprovalHarness.Json("""{"serviceOutageExpected":"yes","colour":1}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(10, (await AssessmentAsync(h, id)).GetProperty("risk").GetProperty("score").GetInt32());
    }

    [Fact]
    public async Task A_blocking_policy_holds_a_conflicting_change_and_only_an_emergency_change_may_override_with_a_reason()
    {
        await using var h = await StartAsync("""
            {"policies":[{"id":"cab","name":"CAB","changeTypes":["Normal","Emergency"],"blockOnConflicts":true,
              "levels":[{"name":"CAB","approvers":[{"kind":"CiOwner"}]}]}],
             "groups":{"app-owners":["alice"]}}
            """);
        var admin = h.App.As("root", "contoso", AppRoles.Admin);
        var start = h.App.Clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json(
            $$"""{"windows":[{"name":"Year end","kind":"Freeze","start":"{{start:O}}","end":"{{start.AddDays(30):O}}"}]}"""))).StatusCode);
        var manager = h.App.As("cm", "contoso", AppRoles.ChangeManager);

        var normal = await h.SubmitChangeAsync(extra: """ "configurationItems":["app-01"],""");
        var normalApproval = await h.ApprovalAsync(await h.ApprovalIdAsync(normal));
        Assert.Equal("Blocked", normalApproval.GetProperty("state").GetString());
        Assert.Empty(normalApproval.GetProperty("prompts").EnumerateArray());
        var refused = await manager.PostAsync($"/api/changes/{normal}/override-conflicts", ApprovalHarness.Json("""{"reason":"Needed"}"""));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Only emergency changes", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var authorised = await manager.PostAsync($"/api/tickets/{normal}/actions/authorize", ApprovalHarness.Json("{}"));
        Assert.Equal(HttpStatusCode.Conflict, authorised.StatusCode);
        Assert.Contains("Blocked", await authorised.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("Authorize", await h.TicketStateAsync(normal));

        var emergency = await h.SubmitChangeAsync("Emergency", """ "configurationItems":["app-01"],""");
        var approvalId = await h.ApprovalIdAsync(emergency);
        Assert.Equal("Blocked", await h.StateAsync(approvalId));
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Agent.PostAsync($"/api/changes/{emergency}/override-conflicts", ApprovalHarness.Json("""{"reason":"x"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await manager.PostAsync($"/api/changes/{emergency}/override-conflicts", ApprovalHarness.Json("{}"))).StatusCode);
        Assert.Equal("Blocked", await h.StateAsync(approvalId));

        var overridden = await manager.PostAsync($"/api/changes/{emergency}/override-conflicts", ApprovalHarness.Json("""{"reason":"Payroll is down; the fix cannot wait."}"""));
        Assert.Equal(HttpStatusCode.OK, overridden.StatusCode);
        await h.IdleAsync();
        var record = await h.ApprovalAsync(approvalId);
        Assert.Equal(("Pending", "cm", "Payroll is down; the fix cannot wait."), (record.GetProperty("state").GetString(), record.GetProperty("override").GetProperty("by").GetString(), record.GetProperty("override").GetProperty("reason").GetString()));

        // The CI owner (from the CMDB) is prompted, and the page shows the conflicts.
        var prompt = Assert.Single(record.GetProperty("prompts").EnumerateArray());
        Assert.Equal("alice", prompt.GetProperty("recipient").GetString());
        var page = await (await h.App.Client.GetAsync(prompt.GetProperty("link").GetString())).Content.ReadAsStringAsync();
        Assert.Contains("FreezeWindow", page, StringComparison.Ordinal);
        Assert.Contains("Year end", page, StringComparison.Ordinal);

        await h.DecideAsync("alice", approvalId, "Approve");
        Assert.Equal("Scheduled", await h.TicketStateAsync(emergency));
    }

    [Fact]
    public async Task The_calendar_lists_overlapping_changes_and_windows_with_filters()
    {
        await using var h = await StartAsync();
        var a = await h.SubmitChangeAsync(extra: """ "configurationItems":["app-01"],"assignmentGroup":"web",""", startHours: 24);
        var b = await h.SubmitChangeAsync(extra: """ "configurationItems":["db-01"],"assignmentGroup":"dba","affectedService":"payroll",""", startHours: 72);
        await h.SubmitChangeAsync(extra: """ "configurationItems":["db-01"],""", startHours: 24 * 20);
        var from = h.App.Clock.GetUtcNow();

        async Task<string[]> NumbersAsync(string query)
        {
            var calendar = await h.Agent.GetFromJsonAsync<JsonElement>($"/api/changes/calendar?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(from.AddDays(7).ToString("O"))}{query}");
            return calendar.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("id").GetString()!).ToArray();
        }

        Assert.Equal([a, b], await NumbersAsync(""));
        Assert.Equal([b], await NumbersAsync("&ci=db-01"));
        Assert.Equal([a], await NumbersAsync("&group=web"));
        Assert.Equal([b], await NumbersAsync("&service=payroll"));
        Assert.Empty(await NumbersAsync("&ci=nothing"));

        var other = await h.App.As("sam", "fabrikam", AppRoles.Agent).GetFromJsonAsync<JsonElement>($"/api/changes/calendar?from={Uri.EscapeDataString(from.ToString("O"))}&to={Uri.EscapeDataString(from.AddDays(7).ToString("O"))}");
        Assert.Empty(other.GetProperty("changes").EnumerateArray());
    }

    [Fact]
    public async Task The_calendar_shows_each_occurrence_of_a_weekly_window_in_the_range_as_instants()
    {
        await using var h = await StartAsync();
        var admin = h.App.As("root", "contoso", AppRoles.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json("""
            {"windows":[{"name":"Sunday night","kind":"Maintenance","cis":["db-01"],"start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z",
                         "recurrence":{"timeZone":"Europe/Berlin","weeklyHours":{"sunday":["22:00-24:00"],"monday":["00:00-04:00"]}}}]}
            """))).StatusCode);

        // Two Sunday nights, the second after the switch to summer time on 29 March.
        var calendar = await h.Agent.GetFromJsonAsync<JsonElement>("/api/changes/calendar?from=2026-03-20T00:00:00Z&to=2026-04-01T00:00:00Z&ci=db-01");

        var window = Assert.Single(calendar.GetProperty("windows").EnumerateArray());
        var occurrences = window.GetProperty("occurrences").EnumerateArray()
            .Select(o => (o.GetProperty("start").GetDateTimeOffset(), o.GetProperty("end").GetDateTimeOffset())).ToArray();
        Assert.Equal(
            [
                (new DateTimeOffset(2026, 3, 22, 21, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 23, 3, 0, 0, TimeSpan.Zero)),
                (new DateTimeOffset(2026, 3, 29, 20, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 30, 2, 0, 0, TimeSpan.Zero)),
            ],
            occurrences);
        Assert.Empty((await h.Agent.GetFromJsonAsync<JsonElement>("/api/changes/calendar?from=2026-03-24T00:00:00Z&to=2026-03-28T00:00:00Z")).GetProperty("windows").EnumerateArray());
    }

    [Theory]
    [InlineData("", "from")]
    [InlineData("?from=2026-03-02T00:00:00Z", "to")]
    [InlineData("?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "to")]
    [InlineData("?from=yesterday&to=2026-03-01T00:00:00Z", "from")]
    [InlineData("?from=2026-03-02T00:00:00Z&to=2028-03-01T00:00:00Z", "to")]
    public async Task A_bad_calendar_range_names_the_field(string query, string field)
    {
        await using var h = await StartAsync();
        var response = await h.Agent.GetAsync("/api/changes/calendar" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Requesters_see_no_calendar_and_bad_settings_are_refused_field_by_field()
    {
        await using var h = await StartAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await h.App.As("rita", "contoso").GetAsync("/api/changes/calendar?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z")).StatusCode);
        var admin = h.App.As("root", "contoso", AppRoles.Admin);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Agent.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json("""{"windows":[]}"""))).StatusCode);

        var backwards = await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json("""{"windows":[{"name":"x","kind":"Freeze","start":"2026-03-05T00:00:00Z","end":"2026-03-04T00:00:00Z"}]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, backwards.StatusCode);
        Assert.True((await backwards.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("windows[0].end", out _));

        var recurring = await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json("""
            {"windows":[{"name":"x","kind":"Maintenance","start":"2026-03-01T00:00:00Z","end":"2027-03-01T00:00:00Z","cis":["app-01"],
                         "recurrence":{"timeZone":"Mars/Olympus","weeklyHours":{"sunday":["06:00-02:00"],"someday":["01:00-02:00"]}}}]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, recurring.StatusCode);
        var recurrenceErrors = (await recurring.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(recurrenceErrors.TryGetProperty("windows[0].recurrence.timeZone", out _), recurrenceErrors.ToString());
        Assert.True(recurrenceErrors.TryGetProperty("windows[0].recurrence.weeklyHours.someday", out _), recurrenceErrors.ToString());
        Assert.Contains(recurrenceErrors.EnumerateObject(), e => e.Name.StartsWith("windows[0].recurrence.weeklyHours.sunday", StringComparison.Ordinal));
        var endless = await admin.PutAsync("/api/manage/changes/settings", ApprovalHarness.Json("""
            {"windows":[{"name":"x","kind":"Freeze","start":"2026-01-01T00:00:00Z","end":"2226-01-01T00:00:00Z",
                         "recurrence":{"timeZone":"Europe/Berlin","weeklyHours":{"sunday":["00:00-24:00"]}}}]}
            """));
        Assert.True((await endless.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("windows[0].end", out _));
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/manage/changes/settings")).GetProperty("windows").EnumerateArray());

        var policy = await admin.PutAsync("/api/manage/approvals/settings", ApprovalHarness.Json("""
            {"policies":[{"id":"p","name":"P","levels":[{"name":"L","approvers":[{"kind":"Group"}],"rule":"Quorum","onTimeout":"Escalate"}]}]}
            """));
        Assert.Equal(HttpStatusCode.BadRequest, policy.StatusCode);
        var errors = (await policy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["policies[0].levels[0].approvers[0].id", "policies[0].levels[0].quorumCount", "policies[0].levels[0].substitutes"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));

        var unknown = await admin.PutAsync("/api/manage/approvals/settings", ApprovalHarness.Json("""{"policies":[],"colour":"red"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement>("/api/manage/approvals/settings")).GetProperty("policies").EnumerateArray());
    }
}
