using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Intake;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Notifications;

/// <summary>The outbox through the real app: rules, templates, the admin API, and sending through the real Graph SDK to a fake Graph.</summary>
public class NotificationOutboxTests
{
    private static readonly Dictionary<string, string?> GraphSettings = new()
    {
        ["Itsm:Graph:SenderMailbox"] = "notify@contoso.com",
        ["Itsm:Graph:IntakeMailboxes:0"] = IntakeFixture.Mailbox,
        ["Itsm:Graph:NotificationUrl"] = "https://itsm.contoso.com/api/intake/graph",
        ["Itsm:Graph:TeamsAppId"] = "teams-app-1",
    };

    private static async Task<(StandaloneApp App, FakeGraph Graph)> StartWithGraphAsync()
    {
        var graph = await FakeGraph.StartAsync();
        var app = await IntakeFixture.StartAsync(GraphSettings, services => services.AddSingleton(graph.CreateClient()));
        return (app, graph);
    }

    private static NotificationOutbox Outbox(StandaloneApp app) => app.Services.GetRequiredService<NotificationOutbox>();

    private static NotificationEvent Approval(string eventId) =>
        new(NotificationEventKinds.ApprovalRequested, "contoso", eventId)
        {
            TicketNumber = "CHG0001001",
            Title = "Patch <b>SQL</b> & restart",
            Link = "https://itsm.contoso.com/approvals/a-1",
            Recipients = [new NotificationRecipient("aad-bob", "bob@contoso.com", "Bob")],
            Channels = [NotificationChannel.Mail, NotificationChannel.Teams],
        };

    [Fact]
    public async Task Without_graph_settings_notifications_stay_pending_and_admins_see_them_in_the_outbox()
    {
        await using var app = await IntakeFixture.StartAsync();
        var agent = app.As("agent-7", "contoso", AppRoles.Agent);
        var created = await agent.PostAsJsonAsync("/api/tickets", new { type = "Incident", title = "Mouse broken", requester = new { id = "ana", email = "ana@contoso.com" } });
        created.EnsureSuccessStatusCode();

        Assert.Equal(0, await Outbox(app).DispatchDueAsync(CancellationToken.None));
        var admin = app.As("admin-1", "contoso", AppRoles.Admin);
        var page = await (await admin.GetAsync("/api/manage/notifications/outbox?state=Pending")).Content.ReadFromJsonAsync<JsonElement>();
        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(NotificationEventKinds.TicketCreated, item.GetProperty("eventKind").GetString());
        Assert.Equal("Pending", item.GetProperty("state").GetString());
        Assert.Equal("ana", item.GetProperty("recipient").GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_outbox_api_is_for_admins_of_the_tenant_only()
    {
        await using var app = await IntakeFixture.StartAsync();
        await app.As("ana", "contoso").PostAsJsonAsync("/api/tickets", new { type = "Incident", title = "Mouse broken" });

        var agent = await app.As("agent-7", "contoso", AppRoles.Agent).GetAsync("/api/manage/notifications/outbox");
        var otherAdmin = await (await app.As("admin-9", "fabrikam", AppRoles.Admin).GetAsync("/api/manage/notifications/outbox")).Content.ReadFromJsonAsync<JsonElement>();
        var badState = await app.As("admin-1", "contoso", AppRoles.Admin).GetAsync("/api/manage/notifications/outbox?state=Lost");
        var anonymous = await app.Client.GetAsync("/api/manage/notifications/outbox");

        Assert.Equal(HttpStatusCode.Forbidden, agent.StatusCode);
        Assert.Empty(otherAdmin.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Contains("\"state\"", await badState.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Publishing_an_event_again_stores_nothing_new()
    {
        await using var app = await IntakeFixture.StartAsync();

        var first = await Outbox(app).PublishAsync(Approval("approval:a-1"), CancellationToken.None);
        var again = await Outbox(app).PublishAsync(Approval("approval:a-1"), CancellationToken.None);

        Assert.Equal(2, first.Count);
        Assert.Empty(again);
        Assert.Equal(2, (await app.OutboxAsync()).Count);
    }

    [Fact]
    public async Task Explicit_recipients_get_mail_and_a_teams_activity_through_graph_once()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;
        await Outbox(app).PublishAsync(Approval("approval:a-1"), CancellationToken.None);

        var sent = await Outbox(app).DispatchDueAsync(CancellationToken.None);
        var again = await Outbox(app).DispatchDueAsync(CancellationToken.None);

        Assert.Equal((2, 0), (sent, again));
        var mail = Assert.Single(graph.Mail);
        Assert.Equal("[CHG0001001] Approval requested: Patch <b>SQL</b> & restart", mail["subject"]!.GetValue<string>());
        Assert.Equal("bob@contoso.com", mail["toRecipients"]![0]!["emailAddress"]!["address"]!.GetValue<string>());
        var html = mail["body"]!["content"]!.GetValue<string>();
        Assert.Contains("https://itsm.contoso.com/approvals/a-1", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>SQL", html, StringComparison.Ordinal);
        Assert.Equal(GraphNotificationSender.NotificationHeader, mail["internetMessageHeaders"]![0]!["name"]!.GetValue<string>());
        var activity = Assert.Single(graph.Sent("/users/aad-bob/teamwork/sendActivityNotification"));
        Assert.Equal("https://itsm.contoso.com/approvals/a-1", activity["topic"]!["webUrl"]!.GetValue<string>());
        Assert.All(await app.OutboxAsync(), n => Assert.Equal(OutboxState.Sent, n.State));
    }

    [Fact]
    public async Task A_throttled_send_waits_for_Retry_After_and_then_goes_out_once()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;
        await Outbox(app).PublishAsync(Approval("approval:a-1") with { Channels = [NotificationChannel.Mail] }, CancellationToken.None);
        graph.ThrottleNext(7);

        Assert.Equal(0, await Outbox(app).DispatchDueAsync(CancellationToken.None));
        var waiting = Assert.Single(await app.OutboxAsync());
        Assert.Equal((OutboxState.Pending, StandaloneApp.Epoch.AddSeconds(7)), (waiting.State, waiting.NextAttemptAt));
        Assert.Contains("429", waiting.LastError, StringComparison.Ordinal);

        app.Clock.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(0, await Outbox(app).DispatchDueAsync(CancellationToken.None));
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await Outbox(app).DispatchDueAsync(CancellationToken.None));

        Assert.Single(graph.Mail);
        Assert.Equal(2, graph.Drafts.Count); // the throttled attempt's draft stays in Drafts (see GraphNotificationSender)
        Assert.Equal(OutboxState.Sent, Assert.Single(await app.OutboxAsync()).State);
    }

    [Fact]
    public async Task Tenant_rules_and_localised_templates_decide_who_is_told_and_how()
    {
        await using var app = await IntakeFixture.StartAsync();
        var admin = app.As("admin-1", "contoso", AppRoles.Admin);
        var put = await admin.PutAsJsonAsync("/api/manage/notifications/settings", new
        {
            rules = new[] { new { @event = "ticket.created", audiences = new[] { "requester", "watchers" }, channels = new[] { "Mail" } } },
            templates = new[] { new { @event = "ticket.created", culture = "de", subject = "[{{ticket.number}}] Erfasst: {{ticket.title}}", text = "Hallo {{recipient.name}}", html = "<p>Hallo {{recipient.name}}</p>" } },
            defaultCulture = "de",
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        await app.As("agent-7", "contoso", AppRoles.Agent).PostAsJsonAsync("/api/tickets", new
        {
            type = "Incident", title = "Drucker", requester = new { id = "ana", email = "ana@contoso.com", name = "Ana <Admin>" }, watchers = new[] { "carl@contoso.com" },
        });

        var stored = await app.OutboxAsync();
        Assert.Equal(["ana", "carl@contoso.com"], stored.Select(n => n.Recipient.Id).Order(StringComparer.Ordinal));
        var toAna = stored.Single(n => n.Recipient.Id == "ana");
        Assert.StartsWith("[INC", toAna.Subject, StringComparison.Ordinal);
        Assert.EndsWith("] Erfasst: Drucker", toAna.Subject, StringComparison.Ordinal);
        Assert.Equal("<p>Hallo Ana &lt;Admin&gt;</p>", toAna.Html);
    }

    [Fact]
    public async Task Invalid_rules_are_refused_field_by_field_and_nothing_changes()
    {
        await using var app = await IntakeFixture.StartAsync();
        var admin = app.As("admin-1", "contoso", AppRoles.Admin);

        var put = await admin.PutAsJsonAsync("/api/manage/notifications/settings", new
        {
            rules = new[] { new { @event = "ticket.exploded", audiences = new[] { "everyone" }, channels = Array.Empty<string>() } },
            templates = Array.Empty<object>(),
        });
        var requester = await app.As("ana", "contoso").GetAsync("/api/manage/notifications/settings");

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        var problem = await put.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("rules[0].event", out _));
        Assert.True(errors.TryGetProperty("rules[0].audiences", out _));
        Assert.True(errors.TryGetProperty("rules[0].channels", out _));
        var current = await (await admin.GetAsync("/api/manage/notifications/settings")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(NotificationRules.DefaultRules.Count, current.GetProperty("rules").GetArrayLength());
        Assert.Equal(HttpStatusCode.Forbidden, requester.StatusCode);
    }

    [Fact]
    public async Task Assigning_a_ticket_tells_the_assignee_but_not_the_agent_who_assigned_themselves()
    {
        await using var app = await IntakeFixture.StartAsync();
        var agent = app.As("agent-7", "contoso", AppRoles.Agent);
        var created = await agent.PostAsJsonAsync("/api/tickets", new { type = "Incident", title = "Disk full", requester = new { id = "ana", email = "ana@contoso.com" } });
        var ticket = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = ticket.GetProperty("id").GetString();

        async Task AssignAsync(string assignee)
        {
            var current = await agent.GetAsync($"/api/tickets/{id}");
            using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = new StringContent(JsonSerializer.Serialize(new { assignee = new { id = assignee, email = assignee + "@contoso.com" } }), Encoding.UTF8, "application/json") };
            patch.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.Tag);
            (await agent.SendAsync(patch)).EnsureSuccessStatusCode();
        }

        await AssignAsync("agent-7");
        await AssignAsync("agent-8");

        var assigned = (await app.OutboxAsync()).Where(n => n.EventKind == NotificationEventKinds.TicketAssigned).ToList();
        Assert.Equal([("agent-8", NotificationChannel.Mail), ("agent-8", NotificationChannel.Teams)], assigned.Select(n => (n.Recipient.Id, n.Channel)).OrderBy(x => x.Channel));
    }

    [Fact]
    public async Task A_public_comment_tells_the_requester_and_a_resolution_tells_them_too()
    {
        await using var app = await IntakeFixture.StartAsync();
        var outcome = await app.ProcessAsync(IntakeFixture.Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));
        var agent = app.As("agent-7", "contoso", AppRoles.Agent);

        (await agent.PostAsJsonAsync($"/api/tickets/{outcome.TicketId}/actions/comment", new { body = "Restart the client, please." })).EnsureSuccessStatusCode();
        (await agent.PostAsJsonAsync($"/api/tickets/{outcome.TicketId}/actions/work-note", new { body = "Internal only" })).EnsureSuccessStatusCode();

        var toAna = (await app.OutboxAsync()).Where(n => n.Recipient.Id == "ana@contoso.com").Select(n => n.EventKind).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([NotificationEventKinds.TicketCommented, NotificationEventKinds.TicketCreated], toAna);
        var comment = (await app.OutboxAsync()).Single(n => n.EventKind == NotificationEventKinds.TicketCommented);
        Assert.Contains("Restart the client, please.", comment.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_graph_mail_notification_is_fetched_through_the_sdk_threaded_into_a_ticket_and_acknowledged_by_mail()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;
        graph.Messages["AAMk-1"] = JsonNode.Parse("""
            {"id":"AAMk-1","subject":"Laptop won't boot","body":{"contentType":"html","content":"<p>Black screen</p><script>x()</script>"},
             "from":{"emailAddress":{"address":"ana@contoso.com","name":"Ana"}},"receivedDateTime":"2026-03-02T07:58:00Z",
             "internetMessageId":"<orig-1@contoso.com>","conversationId":"conv-1",
             "internetMessageHeaders":[{"name":"Auto-Submitted","value":"no"}]}
            """)!.AsObject();
        graph.Messages["AAMk-2"] = JsonNode.Parse("""
            {"id":"AAMk-2","subject":"RE: Laptop won't boot","body":{"contentType":"text","content":"It beeps three times.\n\nFrom: Service desk\nsent"},
             "from":{"emailAddress":{"address":"ana@contoso.com"}},"receivedDateTime":"2026-03-02T07:59:00Z",
             "internetMessageId":"<reply-1@contoso.com>","conversationId":"conv-2",
             "internetMessageHeaders":[{"name":"In-Reply-To","value":"<orig-1@contoso.com>"}]}
            """)!.AsObject();

        foreach (var id in new[] { "AAMk-1", "AAMk-2", "AAMk-1" })
        {
            var body = JsonSerializer.Serialize(new { value = new[] { new { clientState = IntakeFixture.ClientState, resourceData = new { id } } } });
            var response = await app.Client.PostAsync("/api/intake/graph", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await app.DrainIntakeAsync();
        }

        var ticket = Assert.Single(await app.TicketsAsync());
        Assert.Equal(("Laptop won't boot", "Black screen", "ana@contoso.com"), (ticket.Title, ticket.Description, ticket.Requester.Id));
        Assert.Equal("It beeps three times.", Assert.Single(await app.CommentsAsync(ticket.Id)).Body);

        await Outbox(app).DispatchDueAsync(CancellationToken.None);
        var ack = Assert.Single(graph.Mail);
        Assert.StartsWith($"[{ticket.Number}]", ack["subject"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ana@contoso.com", ack["toRecipients"]![0]!["emailAddress"]!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_reply_to_our_acknowledgement_without_the_tag_threads_by_the_id_of_the_mail_we_sent()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;
        var created = await app.ProcessAsync(IntakeFixture.Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops."));
        await Outbox(app).DispatchDueAsync(CancellationToken.None);
        var sentId = Assert.Single(graph.Mail)["internetMessageId"]!.GetValue<string>();

        var reply = await app.ProcessAsync(IntakeFixture.Mail("m-2@contoso.com", "ana@contoso.com", "Re: your request", "Thanks, it works now.") with { InReplyTo = sentId });

        Assert.Equal((IntakeOutcomeKind.Commented, created.TicketId), (reply.Kind, reply.TicketId));
        Assert.Single(await app.TicketsAsync());
    }

    [Fact]
    public async Task The_subscription_timer_subscribes_the_intake_mailbox_when_the_app_starts()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;

        var subscription = await graph.SubscriptionCreated.WaitAsync(IntakeFixture.Patience);

        Assert.Equal(IntakeFixture.ClientState, subscription["clientState"]!.GetValue<string>());
        Assert.Equal("created", subscription["changeType"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_mail_subscription_is_created_at_start_and_renewed_when_it_nears_expiry()
    {
        var (app, graph) = await StartWithGraphAsync();
        await using var _ = app;
        await using var __ = graph;
        var mailbox = app.Services.GetRequiredService<GraphMailbox>();

        var (id, expires) = await mailbox.EnsureSubscriptionAsync(IntakeFixture.Mailbox, IntakeFixture.ClientState, null, CancellationToken.None);
        var created = graph.Subscriptions[id];
        Assert.Equal(IntakeFixture.ClientState, created["clientState"]!.GetValue<string>());
        Assert.Equal("https://itsm.contoso.com/api/intake/graph", created["notificationUrl"]!.GetValue<string>());
        Assert.Equal($"users/{IntakeFixture.Mailbox}/mailFolders('inbox')/messages", created["resource"]!.GetValue<string>());

        var early = await mailbox.EnsureSubscriptionAsync(IntakeFixture.Mailbox, IntakeFixture.ClientState, id, CancellationToken.None);
        Assert.Equal((id, expires), early);
        Assert.DoesNotContain(graph.Requests, r => r.Path.EndsWith(":patch", StringComparison.Ordinal));

        app.Clock.Advance(GraphMailbox.Lifetime - GraphMailbox.RenewBefore + TimeSpan.FromMinutes(1));
        var renewed = await mailbox.EnsureSubscriptionAsync(IntakeFixture.Mailbox, IntakeFixture.ClientState, id, CancellationToken.None);
        Assert.Equal(id, renewed.Id);

        // Renewed once it came within RenewBefore of its expiry: by this call, or first by the subscription timer at an
        // instant the fake clock passed through while advancing (it stops at every timer due on the way).
        Assert.InRange(renewed.ExpiresAt, expires + GraphMailbox.Lifetime - GraphMailbox.RenewBefore, app.Clock.GetUtcNow() + GraphMailbox.Lifetime);
        Assert.Contains(graph.Requests, r => r.Path.EndsWith(":patch", StringComparison.Ordinal));
    }
}
