using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Security;
using static Itsm.Functions.Tests.Sla.Calendars;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>
/// Service requests on the approval engine, end to end through the standalone app: a request for a catalogue item
/// that a policy names is raised on hold awaiting approval, its requester's manager is prompted, and the answer
/// resumes or cancels it. The same engine as changes: only what differs for requests is tested here.
/// </summary>
public class ServiceRequestApprovalTests
{
    private const string Settings = """
        {"policies":[
           {"id":"hardware","name":"Hardware requests","ticketType":"ServiceRequest","categories":["Laptop","Monitor"],
            "levels":[{"name":"Manager","approvers":[{"kind":"RequesterManager"}],"timeoutMinutes":1440,"onTimeout":"AutoApprove"}]},
           {"id":"cab","name":"Change advisory board","changeTypes":["Normal"],
            "levels":[{"name":"CAB","approvers":[{"kind":"User","id":"carol"}]}]}],
         "managers":{"rita":"mona"}}
        """;

    private static HttpClient Requester(ApprovalHarness h, string id = "rita") => h.App.As(id, "contoso");

    private static async Task<string> RaiseAsync(ApprovalHarness h, string category, string requester = "rita")
    {
        var response = await Requester(h, requester).PostAsync("/api/tickets", ApprovalHarness.Json($$"""{"type":"ServiceRequest","title":"New laptop for the new starter","category":"{{category}}"}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await h.IdleAsync();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> TicketAsync(ApprovalHarness h, string id) =>
        await h.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}");

    private static async Task<JsonElement[]> ApprovalsAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/approvals")).GetProperty("approvals").EnumerateArray().ToArray();

    private static async Task<string[]> HistoryAsync(ApprovalHarness h, string id) =>
        (await h.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/history")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()!).ToArray();

    private static async Task<JsonElement[]> OutboxAsync(ApprovalHarness h, string kind, string ticketId) =>
        (await h.App.As("root", "contoso", AppRoles.Admin).GetFromJsonAsync<JsonElement>("/api/manage/notifications/outbox?pageSize=200"))
            .GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("eventKind").GetString() == kind && n.GetProperty("ticketId").GetString() == ticketId)
            .ToArray();

    [Fact]
    public async Task A_request_for_a_listed_item_waits_on_hold_for_the_managers_approval_and_resumes_when_approved()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var request = await RaiseAsync(h, "laptop");

        var ticket = await TicketAsync(h, request);
        Assert.Equal(("OnHold", "AwaitingApproval"), (ticket.GetProperty("state").GetString(), ticket.GetProperty("holdReason").GetString()));
        var approval = Assert.Single(await ApprovalsAsync(h.Agent, request));
        var approvalId = approval.GetProperty("id").GetString()!;
        Assert.Equal(("ServiceRequest", "Hardware requests", "Pending"), (approval.GetProperty("subjectType").GetString(), approval.GetProperty("policyName").GetString(), approval.GetProperty("state").GetString()));
        Assert.Equal(["mona"], (await h.PromptsAsync(approvalId)).Select(p => p.GetProperty("recipient").GetString()));

        var answer = await h.DecideAsync("mona", approvalId, "Approve", "Budgeted.");
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);

        ticket = await TicketAsync(h, request);
        Assert.Equal("InProgress", ticket.GetProperty("state").GetString());
        Assert.False(ticket.TryGetProperty("holdReason", out var reason) && reason.ValueKind != JsonValueKind.Null);
        Assert.Contains("Approval approved", Assert.Single(await OutboxAsync(h, "approval.decided", request)).GetProperty("subject").GetString(), StringComparison.Ordinal);
        var history = await HistoryAsync(h, request);
        Assert.Contains("approval.required", history);
        Assert.Contains("approval.approved", history);
    }

    [Fact]
    public async Task A_rejected_request_is_cancelled_with_the_reason_and_its_requester_sees_the_decision_but_no_links()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var request = await RaiseAsync(h, "Monitor");
        var approvalId = (await ApprovalsAsync(h.Agent, request))[0].GetProperty("id").GetString()!;

        await h.DecideAsync("mona", approvalId, "Reject", "Use the spare in the store room.");

        var ticket = await TicketAsync(h, request);
        Assert.Equal("Cancelled", ticket.GetProperty("state").GetString());
        Assert.Contains("approval.rejected", await HistoryAsync(h, request));
        var seen = Assert.Single(await ApprovalsAsync(Requester(h), request));
        Assert.Equal("Rejected", seen.GetProperty("state").GetString());
        Assert.Equal("Use the spare in the store room.", seen.GetProperty("decisions")[0].GetProperty("comment").GetString());
        Assert.All(seen.GetProperty("prompts").EnumerateArray(), p => Assert.Equal("", p.GetProperty("link").GetString()));
        Assert.Single(await OutboxAsync(h, "approval.decided", request));

        // Another requester does not see it at all.
        Assert.Equal(HttpStatusCode.NotFound, (await Requester(h, "omar").GetAsync($"/api/tickets/{request}/approvals")).StatusCode);
    }

    [Fact]
    public async Task A_request_for_an_item_no_policy_names_needs_no_approval()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var request = await RaiseAsync(h, "Software");

        Assert.Equal("New", (await TicketAsync(h, request)).GetProperty("state").GetString());
        Assert.Empty(await ApprovalsAsync(h.Agent, request));
    }

    [Fact]
    public async Task An_unanswered_request_is_auto_approved_at_the_timeout_as_a_low_risk_subject()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var request = await RaiseAsync(h, "Laptop");
        var approvalId = (await ApprovalsAsync(h.Agent, request))[0].GetProperty("id").GetString()!;

        await h.AdvanceAsync(TimeSpan.FromMinutes(1439));
        Assert.Equal("OnHold", (await TicketAsync(h, request)).GetProperty("state").GetString());

        await h.AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal("Approved", await h.StateAsync(approvalId));
        Assert.Equal("InProgress", (await TicketAsync(h, request)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_agent_puts_a_request_on_hold_for_approval_cannot_resume_it_by_hand_and_cancelling_withdraws_the_approval()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings.Replace("\"categories\":[\"Laptop\",\"Monitor\"],", "", StringComparison.Ordinal));
        var created = await h.Agent.PostAsync("/api/tickets", ApprovalHarness.Json("""{"type":"ServiceRequest","title":"Access to the finance share","requester":{"id":"rita"}}"""));
        var request = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await h.IdleAsync();
        var first = Assert.Single(await ApprovalsAsync(h.Agent, request)).GetProperty("id").GetString()!;
        await h.DecideAsync("mona", first, "Approve");
        Assert.Equal("InProgress", (await TicketAsync(h, request)).GetProperty("state").GetString());

        // Scope grew: the agent asks for approval again.
        var held = await h.Agent.PostAsync($"/api/tickets/{request}/actions/hold", ApprovalHarness.Json("""{"holdReason":"AwaitingApproval"}"""));
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        await h.IdleAsync();
        var second = (await ApprovalsAsync(h.Agent, request)).Select(a => a.GetProperty("id").GetString()!).Single(id => id != first);
        Assert.Equal("Pending", await h.StateAsync(second));

        foreach (var bypass in new[] { "resume", "resolve" })
        {
            var refused = await h.Agent.PostAsync($"/api/tickets/{request}/actions/{bypass}", ApprovalHarness.Json(bypass == "resolve" ? """{"resolutionCode":"Done","resolutionNotes":"Granted."}""" : "{}"));
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("awaits the approval 'Hardware requests'", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var cancelled = await h.Agent.PostAsync($"/api/tickets/{request}/actions/cancel", ApprovalHarness.Json("""{"reason":"No longer needed."}"""));
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        await h.IdleAsync();
        Assert.Equal("Withdrawn", await h.StateAsync(second));

        var late = await h.DecideAsync("mona", second, "Approve");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("Cancelled", (await TicketAsync(h, request)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Only_service_requests_wait_for_approval()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var created = await h.Agent.PostAsync("/api/tickets", ApprovalHarness.Json("""{"type":"Incident","title":"VPN drops"}"""));
        var incident = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var held = await h.Agent.PostAsync($"/api/tickets/{incident}/actions/hold", ApprovalHarness.Json("""{"holdReason":"AwaitingApproval"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, held.StatusCode);
        var problem = await held.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("service requests", problem.GetProperty("errors").GetProperty("holdReason")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("New", (await TicketAsync(h, incident)).GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("\"riskLevels\":[\"High\"],", "policies[0].riskLevels")]
    [InlineData("\"changeTypes\":[\"Normal\"],", "policies[0].changeTypes")]
    [InlineData("\"blockOnConflicts\":true,", "policies[0].blockOnConflicts")]
    [InlineData("\"categories\":[\" \"],", "policies[0].categories")]
    public async Task A_request_policy_with_change_only_conditions_is_refused_and_nothing_is_stored(string condition, string field)
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var body = $$"""{"policies":[{"id":"r","name":"Requests","ticketType":"ServiceRequest",{{condition}}"levels":[{"name":"L","approvers":[{"kind":"User","id":"x"}]}]}]}""";

        var response = await h.App.As("root", "contoso", AppRoles.Admin).PutAsync("/api/manage/approvals/settings", ApprovalHarness.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _), field);
        var stored = await h.Agent.GetFromJsonAsync<JsonElement>("/api/manage/approvals/settings");
        Assert.Equal("hardware", stored.GetProperty("policies")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_policy_for_incidents_is_refused()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var body = """{"policies":[{"id":"i","name":"Incidents","ticketType":"Incident","levels":[{"name":"L","approvers":[{"kind":"User","id":"x"}]}]}]}""";

        var response = await h.App.As("root", "contoso", AppRoles.Admin).PutAsync("/api/manage/approvals/settings", ApprovalHarness.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("policies[0].ticketType", out _));
    }

    [Fact]
    public async Task A_change_authorised_by_its_approval_tells_the_requester_it_is_scheduled()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var change = await h.SubmitChangeAsync();
        var approvalId = await h.ApprovalIdAsync(change);

        await h.DecideAsync("carol", approvalId, "Approve");

        Assert.Equal("Scheduled", await h.TicketStateAsync(change));
        var scheduled = await OutboxAsync(h, "change.scheduled", change);
        Assert.NotEmpty(scheduled);
        Assert.All(scheduled, n => Assert.Contains(" UTC to ", n.GetProperty("text").GetString(), StringComparison.Ordinal));
        Assert.Single(await OutboxAsync(h, "approval.decided", change));
    }

    [Fact]
    public async Task Time_waiting_for_approval_pauses_the_requests_sla_and_its_warning_fires_on_time_after_the_approval()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var admin = h.App.As("root", "contoso", AppRoles.Admin);
        var office = """{"name":"Berlin office","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-12:00","13:00-17:00"],"tuesday":["08:00-12:00","13:00-17:00"],"wednesday":["08:00-12:00","13:00-17:00"],"thursday":["08:00-12:00","13:00-17:00"],"friday":["08:00-12:00","13:00-17:00"]}}""";
        var policy = """{"name":"Requests","calendarId":"office","appliesTo":{"types":["ServiceRequest"]},"resolutionMinutes":{"1":960,"2":960,"3":960,"4":960,"5":960},"pauseStates":["OnHold:AwaitingApproval"],"warnings":[50]}""";
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/calendars/office", ApprovalHarness.Json(office))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/api/manage/sla/policies/requests", ApprovalHarness.Json(policy))).StatusCode);

        // Raised Monday 09:00; the manager approves at 13:00, so the 16 business hours start then.
        Assert.Equal(Berlin(2026, 3, 2, 9), h.App.Clock.GetUtcNow());
        var request = await RaiseAsync(h, "Laptop");
        Assert.Equal("Paused", (await ResolutionClockAsync(h, request)).GetProperty("state").GetString());
        await h.AdvanceAsync(TimeSpan.FromHours(4));
        await h.DecideAsync("mona", (await ApprovalsAsync(h.Agent, request))[0].GetProperty("id").GetString()!, "Approve");

        var clock = await ResolutionClockAsync(h, request);
        Assert.Equal("Running", clock.GetProperty("state").GetString());
        Assert.Equal(Berlin(2026, 3, 4, 12), clock.GetProperty("dueAt").GetDateTimeOffset());

        // 50 % = 8 business hours after Monday 13:00: Tuesday 12:00, to the tick.
        h.App.Clock.SetUtcNow(Berlin(2026, 3, 3, 12).AddTicks(-1));
        await h.IdleAsync();
        Assert.DoesNotContain("sla.warning", await HistoryAsync(h, request));
        h.App.Clock.SetUtcNow(Berlin(2026, 3, 3, 12));
        await h.IdleAsync();
        Assert.Contains("sla.warning", await HistoryAsync(h, request));
    }

    private static async Task<JsonElement> ResolutionClockAsync(ApprovalHarness h, string id) =>
        (await h.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}/sla")).GetProperty("clocks").EnumerateArray().Single(c => c.GetProperty("key").GetString() == "resolution");
}
