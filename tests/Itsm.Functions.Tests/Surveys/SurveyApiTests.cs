using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Surveys;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Surveys;

/// <summary>Satisfaction surveys end to end through the standalone host: invitation on resolve, the page, single use, expiry, reminders, results, settings, tenants.</summary>
public class SurveyApiTests
{
    internal const string Origin = "http://itsm.test";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    internal static Task<StandaloneApp> StartAsync() =>
        StandaloneApp.StartAsync(settings: new Dictionary<string, string?> { ["Itsm:PublicBaseUrl"] = Origin });

    internal static async Task EnableAsync(StandaloneApp app, string json = """{"enabled":true}""", string tenant = "contoso")
    {
        var response = await app.As("ada", tenant, AppRoles.Admin).PutAsync("/api/manage/surveys/settings", Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    /// <summary>An agent raises a ticket for ana, assigned to an agent, and resolves it; returns its id.</summary>
    internal static async Task<string> ResolvedTicketAsync(StandaloneApp app, string type = "Incident", string agentId = "sam", string group = "Network", string service = "VPN", string tenant = "contoso")
    {
        var agent = app.As(agentId, tenant, AppRoles.Agent);
        var created = await agent.PostAsync("/api/tickets", Json($$"""
            {"type":"{{type}}","title":"VPN drops","requester":{"id":"ana","name":"Ana","email":"ana@contoso.com"},
             "assignee":{"id":"{{agentId}}","name":"{{agentId}}"},"assignmentGroup":"{{group}}","affectedService":"{{service}}"}
            """));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await BodyAsync(created)).GetProperty("id").GetString()!;
        var resolved = await agent.PostAsync($"/api/tickets/{id}/actions/resolve", Json("""{"resolutionCode":"Fixed","resolutionNotes":"New VPN profile."}"""));
        Assert.True(resolved.StatusCode == HttpStatusCode.OK, await resolved.Content.ReadAsStringAsync());
        return id;
    }

    internal static async Task<List<OutboxNotification>> OutboxAsync(StandaloneApp app, string kind, string tenant = "contoso") =>
        (await app.Services.GetRequiredService<NotificationOutbox>().ListAsync(tenant, null, 200, null, CancellationToken.None))
            .Items.Select(i => i.Document).Where(n => n.EventKind == kind).ToList();

    private static FormUrlEncodedContent Answer(string token, string rating, string comment = "") =>
        new([new("t", token), new("rating", rating), new("comment", comment)]);

    private static string TokenOf(string link) => Uri.UnescapeDataString(link[(link.IndexOf("?t=", StringComparison.Ordinal) + 3)..]);

    [Fact]
    public async Task Resolving_invites_the_requester_once_and_the_link_records_one_answer()
    {
        await using var app = await StartAsync();
        await EnableAsync(app);
        var ticket = await ResolvedTicketAsync(app);

        var invitation = Assert.Single(await OutboxAsync(app, NotificationEventKinds.SurveyInvited));
        var token = TokenOf(invitation.Link!);
        var page = await app.Client.GetAsync(invitation.Link![Origin.Length..]);
        var pageText = await page.Content.ReadAsStringAsync();
        var outOfRange = await app.Client.PostAsync("/api/survey-page", Answer(token, "6"));
        var answered = await app.Client.PostAsync("/api/survey-page", Answer(token, "4", "Quick and friendly."));
        var again = await app.Client.PostAsync("/api/survey-page", Answer(token, "1"));
        var reopened = await app.Client.GetAsync(invitation.Link![Origin.Length..]);
        var survey = await BodyAsync(await app.As("ana").GetAsync($"/api/tickets/{ticket}/survey"));
        var strangers = await app.As("bob").GetAsync($"/api/tickets/{ticket}/survey");

        Assert.Equal(("ana@contoso.com", NotificationChannel.Mail), (invitation.Recipient.Email, invitation.Channel));
        Assert.StartsWith(Origin + "/api/survey-page?t=", invitation.Link, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("VPN drops", pageText, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, outOfRange.StatusCode);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Contains("4 out of 5", await answered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, reopened.StatusCode);
        Assert.Equal(("Answered", 4, "Quick and friendly."), (survey.GetProperty("state").GetString(), survey.GetProperty("rating").GetInt32(), survey.GetProperty("comment").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, strangers.StatusCode);
    }

    [Fact]
    public async Task Surveys_are_off_by_default_and_follow_the_tenants_ticket_types()
    {
        await using var app = await StartAsync();
        await ResolvedTicketAsync(app);
        var whileOff = await OutboxAsync(app, NotificationEventKinds.SurveyInvited);
        await EnableAsync(app, """{"enabled":true,"ticketTypes":["ServiceRequest"]}""");
        await ResolvedTicketAsync(app, type: "Incident");
        var incidentOnly = await OutboxAsync(app, NotificationEventKinds.SurveyInvited);
        await ResolvedTicketAsync(app, type: "ServiceRequest");

        Assert.Empty(whileOff);
        Assert.Empty(incidentOnly);
        Assert.Single(await OutboxAsync(app, NotificationEventKinds.SurveyInvited));
    }

    [Fact]
    public async Task Altered_foreign_and_expired_links_record_nothing()
    {
        await using var app = await StartAsync();
        await EnableAsync(app, """{"enabled":true,"expiryDays":7,"reminderAfterDays":0}""");
        var ticket = await ResolvedTicketAsync(app);
        var token = TokenOf(Assert.Single(await OutboxAsync(app, NotificationEventKinds.SurveyInvited)).Link!);
        var approvalSigned = app.Services.GetRequiredService<Itsm.Functions.Approvals.ApprovalLinks>().Sign("ticket", Convert.FromBase64String(Convert.ToBase64String(Encoding.UTF8.GetBytes("{}"))));

        var altered = await app.Client.PostAsync("/api/survey-page", Answer(token[..^2] + (token[^2] == 'A' ? "BA" : "AA"), "5"));
        var otherPurpose = await app.Client.GetAsync($"/api/survey-page?t={Uri.EscapeDataString(approvalSigned)}");
        app.Clock.Advance(TimeSpan.FromDays(8));
        var expired = await app.Client.PostAsync("/api/survey-page", Answer(token, "5"));
        await app.Services.GetRequiredService<SurveyReminders>().RunAsync(CancellationToken.None);
        var survey = await BodyAsync(await app.As("sam", "contoso", AppRoles.Agent).GetAsync($"/api/tickets/{ticket}/survey"));

        Assert.Equal(HttpStatusCode.BadRequest, altered.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, otherPurpose.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Equal("Expired", survey.GetProperty("state").GetString());
        Assert.False(survey.TryGetProperty("rating", out _));
    }

    [Fact]
    public async Task An_unanswered_survey_is_reminded_once()
    {
        await using var app = await StartAsync();
        await EnableAsync(app, """{"enabled":true,"expiryDays":14,"reminderAfterDays":3}""");
        await ResolvedTicketAsync(app);
        var reminders = app.Services.GetRequiredService<SurveyReminders>();

        await reminders.RunAsync(CancellationToken.None);
        var early = await OutboxAsync(app, NotificationEventKinds.SurveyReminder);
        app.Clock.Advance(TimeSpan.FromDays(3) + TimeSpan.FromMinutes(1));
        await reminders.RunAsync(CancellationToken.None);
        await reminders.RunAsync(CancellationToken.None);
        var late = await OutboxAsync(app, NotificationEventKinds.SurveyReminder);

        Assert.Empty(early);
        var reminder = Assert.Single(late);
        Assert.Equal(Assert.Single(await OutboxAsync(app, NotificationEventKinds.SurveyInvited)).Link, reminder.Link);
    }

    [Fact]
    public async Task Results_per_agent_group_service_and_period_count_only_the_callers_tenant()
    {
        await using var app = await StartAsync();
        await EnableAsync(app);
        await EnableAsync(app, tenant: "fabrikam");
        await ResolvedTicketAsync(app, agentId: "sam", group: "Network", service: "VPN");
        await ResolvedTicketAsync(app, agentId: "kim", group: "Desktop", service: "Email");
        await ResolvedTicketAsync(app, agentId: "sam", group: "Network", service: "Email");
        await ResolvedTicketAsync(app, agentId: "fred", tenant: "fabrikam");
        var links = (await OutboxAsync(app, NotificationEventKinds.SurveyInvited)).OrderBy(n => n.CreatedAt).ThenBy(n => n.TicketId).Select(n => TokenOf(n.Link!)).ToList();
        var invitations = await OutboxAsync(app, NotificationEventKinds.SurveyInvited);
        foreach (var (notification, rating) in invitations.Take(2).Zip(new[] { "5", "3" }))
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsync("/api/survey-page", Answer(TokenOf(notification.Link!), rating))).StatusCode);
        }

        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var byAgent = await BodyAsync(await agent.GetAsync("/api/surveys/results?groupBy=agent"));
        var byGroup = await BodyAsync(await agent.GetAsync("/api/surveys/results?groupBy=group"));
        var byService = await BodyAsync(await agent.GetAsync("/api/surveys/results?groupBy=service"));
        var byPeriod = await BodyAsync(await agent.GetAsync("/api/surveys/results?groupBy=period&period=month"));
        var outside = await BodyAsync(await agent.GetAsync("/api/surveys/results?from=2027-01-01T00:00:00Z"));
        var invalid = await agent.GetAsync("/api/surveys/results?groupBy=colour&period=year");
        var requester = await app.As("ana").GetAsync("/api/surveys/results");

        Assert.Equal(3, links.Count);
        Assert.Equal(3, byAgent.GetProperty("total").GetProperty("invited").GetInt32());
        Assert.Equal(2, byAgent.GetProperty("total").GetProperty("answered").GetInt32());
        Assert.Equal(4.0, byAgent.GetProperty("total").GetProperty("averageRating").GetDouble());
        Assert.Equal(["kim", "sam"], byAgent.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        Assert.Equal(["Desktop", "Network"], byGroup.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        Assert.Equal(["Email", "VPN"], byService.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("key").GetString()));
        var month = Assert.Single(byPeriod.GetProperty("rows").EnumerateArray());
        Assert.Equal(("2026-03", 3, 2), (month.GetProperty("key").GetString(), month.GetProperty("invited").GetInt32(), month.GetProperty("answered").GetInt32()));
        Assert.Equal([0, 0, 1, 0, 1], month.GetProperty("ratings").EnumerateArray().Select(r => r.GetInt32()));
        Assert.Equal(0, outside.GetProperty("total").GetProperty("invited").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await BodyAsync(invalid)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("groupBy", out _) && errors.TryGetProperty("period", out _));
        Assert.Equal(HttpStatusCode.Forbidden, requester.StatusCode);
    }

    [Fact]
    public async Task The_satisfaction_report_averages_answered_surveys_by_period_and_breakdown_in_the_callers_tenant()
    {
        await using var app = await StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        const string range = "from=2026-03-01&to=2026-03-31";
        var before = await BodyAsync(await agent.GetAsync($"/api/reports/satisfaction?{range}"));

        await EnableAsync(app);
        await EnableAsync(app, tenant: "fabrikam");
        var ratings = new Dictionary<string, string>
        {
            [await ResolvedTicketAsync(app, agentId: "sam", group: "Network")] = "5",
            [await ResolvedTicketAsync(app, agentId: "kim", group: "Desktop")] = "2",
            [await ResolvedTicketAsync(app, agentId: "sam", group: "Network")] = "4",
            [await ResolvedTicketAsync(app, agentId: "fred", group: "Network", tenant: "fabrikam")] = "1", // must not show in contoso's report
        };
        var invitations = (await OutboxAsync(app, NotificationEventKinds.SurveyInvited)).Concat(await OutboxAsync(app, NotificationEventKinds.SurveyInvited, "fabrikam")).ToList();
        Assert.Equal(4, invitations.Count);
        foreach (var notification in invitations)
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.PostAsync("/api/survey-page", Answer(TokenOf(notification.Link!), ratings[notification.TicketId!]))).StatusCode);
        }

        var priority = (await BodyAsync(await agent.GetAsync($"/api/tickets/{ratings.Keys.First()}"))).GetProperty("priority").GetInt32();
        var trend = await BodyAsync(await agent.GetAsync($"/api/reports/satisfaction?{range}&interval=month"));
        var byGroup = await BodyAsync(await agent.GetAsync($"/api/reports/satisfaction?{range}&by=group"));
        var byPriority = await BodyAsync(await agent.GetAsync($"/api/reports/satisfaction?{range}&by=priority"));
        var nextMonth = await BodyAsync(await agent.GetAsync("/api/reports/satisfaction?from=2026-04-01&to=2026-04-30"));

        Assert.Equal(0, before.GetProperty("rows").GetArrayLength());
        Assert.Contains("No survey was answered", before.GetProperty("note").GetString());
        var month = Assert.Single(trend.GetProperty("rows").EnumerateArray());
        Assert.Equal("2026-03-01", month.GetProperty("key").GetString());
        Assert.Equal((3, 3.67), (month.GetProperty("values").GetProperty("answers").GetDouble(), month.GetProperty("values").GetProperty("averageScore").GetDouble()));
        var groups = byGroup.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").GetString()!, r => r.GetProperty("values").GetProperty("averageScore").GetDouble());
        Assert.Equal(new Dictionary<string, double> { ["Desktop"] = 2, ["Network"] = 4.5 }, groups);
        Assert.Equal($"P{priority}", Assert.Single(byPriority.GetProperty("rows").EnumerateArray()).GetProperty("key").GetString());
        Assert.Equal(0, nextMonth.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task Settings_are_for_admins_and_invalid_ones_name_the_field()
    {
        await using var app = await StartAsync();
        var admin = app.As("ada", "contoso", AppRoles.Admin);

        var byAgent = await app.As("sam", "contoso", AppRoles.Agent).PutAsync("/api/manage/surveys/settings", Json("""{"enabled":true}"""));
        var invalid = await admin.PutAsync("/api/manage/surveys/settings", Json("""{"enabled":"yes","ticketTypes":["Outage"],"expiryDays":5,"reminderAfterDays":5}"""));
        var defaults = await BodyAsync(await admin.GetAsync("/api/manage/surveys/settings"));

        Assert.Equal(HttpStatusCode.Forbidden, byAgent.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await BodyAsync(invalid)).GetProperty("errors");
        foreach (var field in new[] { "enabled", "ticketTypes[0]", "reminderAfterDays" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        Assert.False(defaults.GetProperty("enabled").GetBoolean());
    }
}
