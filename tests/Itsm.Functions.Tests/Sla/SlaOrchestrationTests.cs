using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Microsoft.DurableTask.Client;
using static Itsm.Functions.Tests.Sla.Calendars;

namespace Itsm.Functions.Tests.Sla;

/// <summary>
/// SLA clocks end to end through the standalone app: a policy set through the admin API, tickets raised and worked
/// through the tickets API, and each clock's orchestration woken by durable timers on a fake clock. The app starts
/// Monday 2 March 2026, 09:00 in Berlin; the office calendar works 08:00-12:00 and 13:00-17:00 on weekdays, and a
/// P3 incident must be resolved within 16 business hours (due Wednesday 09:00).
/// </summary>
public class SlaOrchestrationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private const string Office = """
        {"name":"Berlin office","timeZone":"Europe/Berlin",
         "weeklyHours":{"monday":["08:00-12:00","13:00-17:00"],"tuesday":["08:00-12:00","13:00-17:00"],"wednesday":["08:00-12:00","13:00-17:00"],
                        "thursday":["08:00-12:00","13:00-17:00"],"friday":["08:00-12:00","13:00-17:00"]},
         "recurringHolidays":["12-25","12-26"]}
        """;

    private const string Standard = """
        {"name":"Standard incidents","calendarId":"office","appliesTo":{"types":["Incident"]},
         "responseMinutes":{"1":15,"2":30,"3":240},"resolutionMinutes":{"1":240,"2":480,"3":960},
         "pauseStates":["OnHold:AwaitingCaller"],"warnings":[50,75,90],
         "onBreach":{"notify":["Assignee","GroupManager"],"reassignToGroup":"major-incident-desk","raisePriority":true}}
        """;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<StandaloneApp> StartWithPolicyAsync(string? directory = null, FakeTimeProvider? clock = null)
    {
        var app = await StandaloneApp.StartAsync(directory: directory, clock: clock);
        if (directory is null)
        {
            var admin = app.As("root", "contoso", AppRoles.Admin);
            Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/calendars/office", Json(Office))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/policies/standard", Json(Standard))).StatusCode);
        }

        return app;
    }

    private static HttpClient Agent(StandaloneApp app) => app.As("sam", "contoso", AppRoles.Agent);

    private static async Task IdleAsync(StandaloneApp app) =>
        await app.WaitForDurableIdleAsync(Patience);

    private static async Task<string> RaiseAsync(StandaloneApp app, string json = """{"type":"Incident","title":"Payroll export fails","impact":2,"urgency":2}""")
    {
        var response = await Agent(app).PostAsync("/api/tickets", Json(json));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await IdleAsync(app);

        // The agent takes it at once: the response target is met, so only the resolution clock runs on.
        await ActAsync(app, id, "start");
        return id;
    }

    private static async Task ActAsync(StandaloneApp app, string id, string action, string body = "{}")
    {
        var response = await Agent(app).PostAsync($"/api/tickets/{id}/actions/{action}", Json(body));
        Assert.True(response.IsSuccessStatusCode, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await IdleAsync(app);
    }

    private static async Task<JsonElement> ClockAsync(StandaloneApp app, string id, string key = "resolution")
    {
        var sla = await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/sla");
        return sla.GetProperty("clocks").EnumerateArray().Single(c => c.GetProperty("key").GetString() == key);
    }

    private static async Task<JsonElement[]> SlaEventsAsync(StandaloneApp app, string id, string key = "resolution")
    {
        var history = await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history");
        return history.GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("action").GetString()!.StartsWith("sla.", StringComparison.Ordinal)
                && e.GetProperty("changes").EnumerateArray().Any(c => c.GetProperty("field").GetString() == "sla" && c.GetProperty("new").GetString() == key))
            .ToArray();
    }

    private static string[] Actions(IEnumerable<JsonElement> events) => events.Select(e => e.GetProperty("action").GetString()!).ToArray();

    private static JsonElement Detail(JsonElement auditEvent, string field) =>
        auditEvent.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == field).GetProperty("new");

    private static async Task AdvanceToAsync(StandaloneApp app, DateTimeOffset instant)
    {
        app.Clock.SetUtcNow(instant);
        await IdleAsync(app);
    }

    [Fact]
    public async Task Warnings_fire_at_each_threshold_to_the_tick_and_the_breach_escalates_once()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app, """{"type":"Incident","title":"Payroll export fails","impact":2,"urgency":2,"assignmentGroup":"payroll-team"}""");

        var clock = await ClockAsync(app, id);
        Assert.Equal(Berlin(2026, 3, 4, 9), clock.GetProperty("dueAt").GetDateTimeOffset());
        Assert.Equal("PT16H", clock.GetProperty("target").GetString());
        Assert.Equal(["sla.started"], Actions(await SlaEventsAsync(app, id)));

        // 50 % = 8 business hours: Tuesday 09:00; 75 % = 12 h: Tuesday 14:00; 90 % = 14.4 h: Tuesday 16:24.
        var expected = new[] { (50, Berlin(2026, 3, 3, 9)), (75, Berlin(2026, 3, 3, 14)), (90, Berlin(2026, 3, 3, 16, 24)) };
        foreach (var (percent, instant) in expected)
        {
            await AdvanceToAsync(app, instant.AddTicks(-1));
            Assert.DoesNotContain(await SlaEventsAsync(app, id), e => e.GetProperty("action").GetString() == "sla.warning" && Detail(e, "percent").GetInt32() == percent);

            await AdvanceToAsync(app, instant);
            var warning = Assert.Single(await SlaEventsAsync(app, id), e => e.GetProperty("action").GetString() == "sla.warning" && Detail(e, "percent").GetInt32() == percent);
            Assert.Equal(instant, warning.GetProperty("at").GetDateTimeOffset());
        }

        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9));
        await AdvanceToAsync(app, Berlin(2026, 3, 9, 9));

        var actions = Actions(await SlaEventsAsync(app, id));
        Assert.Equal(["sla.started", "sla.warning", "sla.warning", "sla.warning"], actions.Take(4));
        Assert.Equal(["sla.breach", "sla.escalated", "sla.notice", "sla.retargeted"], actions.Skip(4).Order(StringComparer.Ordinal));
        var notice = (await SlaEventsAsync(app, id)).Single(e => e.GetProperty("action").GetString() == "sla.notice");
        Assert.Equal("group-manager:payroll-team", Detail(notice, "recipients")[0].GetString());
        var ticket = await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}");
        Assert.Equal((2, "major-incident-desk"), (ticket.GetProperty("priority").GetInt32(), ticket.GetProperty("assignmentGroup").GetString()));
        clock = await ClockAsync(app, id);
        Assert.True(clock.GetProperty("breached").GetBoolean());
        Assert.Equal(Berlin(2026, 3, 4, 9), clock.GetProperty("breachedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_escalated_priority_holds_through_other_edits_until_an_agent_changes_impact_or_urgency()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9));
        Assert.Equal(2, (await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}")).GetProperty("priority").GetInt32());

        // An edit of another field (tags) keeps the escalated priority.
        var afterTags = await PatchAsync(app, id, """{"tags":["vpn"]}""");
        Assert.Equal(2, afterTags.GetProperty("priority").GetInt32());

        // The trail says who did what: the SLA engine raised it, the agent only changed tags.
        var history = (await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history")).GetProperty("items").EnumerateArray().ToArray();
        var escalated = Assert.Single(history, e => e.GetProperty("action").GetString() == "sla.escalated");
        Assert.Equal("sla", escalated.GetProperty("actor").GetString());
        var raised = escalated.GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == "priority");
        Assert.Equal((3, 2), (raised.GetProperty("old").GetInt32(), raised.GetProperty("new").GetInt32()));
        var tagEdit = history.Last(e => e.GetProperty("action").GetString() == "updated");
        Assert.Equal("sam", tagEdit.GetProperty("actor").GetString());
        Assert.Equal(["tags"], tagEdit.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("field").GetString()));

        // Changing impact or urgency is how an agent sets the priority on purpose: the matrix decides again.
        var lowered = await PatchAsync(app, id, """{"impact":3,"urgency":3}""");
        Assert.Equal(5, lowered.GetProperty("priority").GetInt32());
        history = (await Agent(app).GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history")).GetProperty("items").EnumerateArray().ToArray();
        var change = history.Last(e => e.GetProperty("action").GetString() == "updated");
        Assert.Equal("sam", change.GetProperty("actor").GetString());
        Assert.Contains("priority", change.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("field").GetString()));
    }

    private static async Task<JsonElement> PatchAsync(StandaloneApp app, string id, string json)
    {
        var current = await Agent(app).GetAsync($"/api/tickets/{id}");
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = Json(json) };
        patch.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        var response = await Agent(app).SendAsync(patch);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await IdleAsync(app);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Time_on_hold_awaiting_the_caller_is_excluded_and_the_warnings_move_with_it()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);

        await AdvanceToAsync(app, Berlin(2026, 3, 2, 11));
        await ActAsync(app, id, "hold", """{"holdReason":"AwaitingCaller"}""");
        Assert.Equal("Paused", (await ClockAsync(app, id)).GetProperty("state").GetString());

        // Tuesday 09:00 would have been the 50 % warning; the clock is paused, so nothing fires.
        await AdvanceToAsync(app, Berlin(2026, 3, 3, 11));
        Assert.DoesNotContain("sla.warning", Actions(await SlaEventsAsync(app, id)));

        await ActAsync(app, id, "resume");
        var clock = await ClockAsync(app, id);
        Assert.Equal("PT2H", clock.GetProperty("elapsed").GetString());
        Assert.Equal("P1D", clock.GetProperty("pausedWall").GetString());
        Assert.Equal("PT8H", clock.GetProperty("pausedBusiness").GetString());
        Assert.Equal(Berlin(2026, 3, 5, 9), clock.GetProperty("dueAt").GetDateTimeOffset());

        // 8 business hours elapsed: 2 before the hold, then 6 from Tuesday 11:00 = Wednesday 09:00.
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9).AddTicks(-1));
        Assert.DoesNotContain("sla.warning", Actions(await SlaEventsAsync(app, id)));
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9));
        Assert.Equal(50, Detail(Assert.Single(await SlaEventsAsync(app, id), e => e.GetProperty("action").GetString() == "sla.warning"), "percent").GetInt32());
    }

    [Fact]
    public async Task A_priority_change_retargets_the_clock_keeping_elapsed_time_and_wakes_the_orchestration_early()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);
        await AdvanceToAsync(app, Berlin(2026, 3, 2, 15));

        var current = await Agent(app).GetAsync($"/api/tickets/{id}");
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = Json("""{"impact":1}""") };
        patch.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await Agent(app).SendAsync(patch)).StatusCode);
        await IdleAsync(app);

        var clock = await ClockAsync(app, id);
        Assert.Equal(("PT8H", "PT5H"), (clock.GetProperty("target").GetString(), clock.GetProperty("elapsed").GetString()));
        Assert.Equal(Berlin(2026, 3, 3, 9), clock.GetProperty("dueAt").GetDateTimeOffset());

        // 5 of 8 hours are gone: the 50 % threshold (4 h) has passed, so it fires at the retarget, not on Tuesday.
        Assert.Equal(["sla.started", "sla.retargeted", "sla.warning"], Actions(await SlaEventsAsync(app, id)));
        await AdvanceToAsync(app, Berlin(2026, 3, 2, 16));
        Assert.Equal(75, Detail((await SlaEventsAsync(app, id)).Last(), "percent").GetInt32());
    }

    [Fact]
    public async Task Resolving_a_second_before_the_deadline_meets_it_and_no_breach_follows()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);

        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9).AddSeconds(-1));
        await ActAsync(app, id, "resolve", """{"resolutionCode":"fixed","resolutionNotes":"Export job restarted."}""");
        await AdvanceToAsync(app, Berlin(2026, 3, 9, 9));

        var actions = Actions(await SlaEventsAsync(app, id));
        Assert.Equal("sla.met", actions.Last());
        Assert.DoesNotContain("sla.breach", actions);
        Assert.DoesNotContain("sla.breached", actions);
        var clock = await ClockAsync(app, id);
        Assert.Equal(("Met", "PT15H59M59S"), (clock.GetProperty("state").GetString(), clock.GetProperty("elapsed").GetString()));
        var status = await app.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync($"sla:contoso:{id}:resolution:1", getInputsAndOutputs: false);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status!.RuntimeStatus);
    }

    [Fact]
    public async Task Resolving_a_second_after_the_deadline_records_the_breach_and_one_breached_outcome()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);

        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9).AddSeconds(1));
        await ActAsync(app, id, "resolve", """{"resolutionCode":"fixed","resolutionNotes":"Export job restarted."}""");

        var actions = Actions(await SlaEventsAsync(app, id));
        Assert.Single(actions, a => a == "sla.breach");
        Assert.Single(actions, a => a == "sla.breached");
        Assert.DoesNotContain("sla.met", actions);
        var outcome = (await SlaEventsAsync(app, id)).Single(e => e.GetProperty("action").GetString() == "sla.breached");
        Assert.Equal(Berlin(2026, 3, 4, 9), Detail(outcome, "breachedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task A_clock_waiting_when_the_app_stops_fires_at_its_instant_after_a_restart()
    {
        string directory;
        FakeTimeProvider clock;
        string id;
        await using (var first = await StartWithPolicyAsync())
        {
            id = await RaiseAsync(first);
            directory = first.Directory;
            clock = first.Clock;
        }

        clock.SetUtcNow(Berlin(2026, 3, 3, 10));
        await using var second = await StartWithPolicyAsync(directory, clock);
        await IdleAsync(second);

        var warning = Assert.Single(await SlaEventsAsync(second, id), e => e.GetProperty("action").GetString() == "sla.warning");
        Assert.Equal(Berlin(2026, 3, 3, 9), Detail(warning, "reachedAt").GetDateTimeOffset());
        await AdvanceToAsync(second, Berlin(2026, 3, 3, 14));
        Assert.Equal(2, (await SlaEventsAsync(second, id)).Count(e => e.GetProperty("action").GetString() == "sla.warning"));
    }

    [Fact]
    public async Task A_reopened_ticket_resumes_its_clock_in_a_new_orchestration()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);
        await AdvanceToAsync(app, Berlin(2026, 3, 2, 12));
        await ActAsync(app, id, "resolve", """{"resolutionCode":"fixed","resolutionNotes":"Restarted."}""");
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9));

        await ActAsync(app, id, "reopen");

        var clock = await ClockAsync(app, id);
        Assert.Equal(("Running", 2, "PT3H"), (clock.GetProperty("state").GetString(), clock.GetProperty("generation").GetInt32(), clock.GetProperty("elapsed").GetString()));
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 15).AddTicks(-1));
        Assert.DoesNotContain("sla.warning", Actions(await SlaEventsAsync(app, id)));
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 15));
        Assert.Equal(50, Detail((await SlaEventsAsync(app, id)).Last(), "percent").GetInt32());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_tightened_policy_moves_open_tickets_on_time_only_when_it_says_so(bool applyToOpenTickets)
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app);
        await AdvanceToAsync(app, Berlin(2026, 3, 2, 10));

        var flag = applyToOpenTickets ? "true" : "false";
        var tightened = Standard.Replace("\"3\":960", "\"3\":240", StringComparison.Ordinal).Replace("\"name\":", "\"applyToOpenTickets\":" + flag + ",\"name\":", StringComparison.Ordinal);
        var put = await app.As("root", "contoso", AppRoles.Admin).PutAsync("/api/manage/sla/policies/standard", Json(tightened));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await IdleAsync(app);

        // 4 hours from Monday 09:00 with 1 gone: due 14:00, 50 % at 11:00, long before the old Tuesday 09:00.
        await AdvanceToAsync(app, Berlin(2026, 3, 2, 11));
        var clock = await ClockAsync(app, id);
        if (applyToOpenTickets)
        {
            Assert.Equal(("PT4H", 2), (clock.GetProperty("target").GetString(), clock.GetProperty("policy").GetProperty("version").GetInt32()));
            Assert.Equal(Berlin(2026, 3, 2, 14), clock.GetProperty("dueAt").GetDateTimeOffset());
            Assert.Equal(50, Detail(Assert.Single(await SlaEventsAsync(app, id), e => e.GetProperty("action").GetString() == "sla.warning"), "percent").GetInt32());
        }
        else
        {
            Assert.Equal(("PT16H", 1), (clock.GetProperty("target").GetString(), clock.GetProperty("policy").GetProperty("version").GetInt32()));
            Assert.DoesNotContain("sla.warning", Actions(await SlaEventsAsync(app, id)));
        }
    }

    [Fact]
    public async Task The_assignee_is_told_of_each_warning_and_the_breach_once_through_the_outbox()
    {
        await using var app = await StartWithPolicyAsync();
        var id = await RaiseAsync(app, """{"type":"Incident","title":"Payroll export fails","impact":2,"urgency":2,"assignee":{"id":"kim","name":"Kim"}}""");

        await AdvanceToAsync(app, Berlin(2026, 3, 3, 9));
        await AdvanceToAsync(app, Berlin(2026, 3, 4, 9));

        var outbox = await app.As("root", "contoso", AppRoles.Admin).GetFromJsonAsync<JsonElement>("/api/manage/notifications/outbox?pageSize=100");
        var sla = outbox.GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("eventKind").GetString()!.StartsWith("sla.", StringComparison.Ordinal) && n.GetProperty("ticketId").GetString() == id)
            .ToArray();
        Assert.Equal(["sla.breach", "sla.warning", "sla.warning", "sla.warning"], sla.Select(n => n.GetProperty("eventKind").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(sla.Where(n => n.GetProperty("eventKind").GetString() == "sla.warning"), n =>
        {
            Assert.Equal(("kim", "Teams"), (n.GetProperty("recipient").GetProperty("id").GetString(), n.GetProperty("channel").GetString()));
            Assert.Contains("resolution", n.GetProperty("text").GetString(), StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Sla_clocks_are_for_agents_of_the_tenant()
    {
        await using var app = await StartWithPolicyAsync();
        var response = await app.As("ana", "contoso").PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Printer","impact":2,"urgency":2}"""));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.Forbidden, (await app.As("ana", "contoso").GetAsync($"/api/tickets/{id}/sla")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As("sam", "fabrikam", AppRoles.Agent).GetAsync($"/api/tickets/{id}/sla")).StatusCode);
        var history = await app.As("ana", "contoso").GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history");
        Assert.DoesNotContain(history.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString()!.StartsWith("sla.", StringComparison.Ordinal));
    }
}
