using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;
using static Itsm.Functions.Tests.Intake.IntakeFixture;

namespace Itsm.Functions.Tests.Intake;

/// <summary>The webhooks outside callers hit, through the standalone host: verification, fast answers, the queue, and what comes out.</summary>
public class IntakeWebhookTests
{
    [Fact]
    public async Task Graph_subscription_validation_echoes_the_token_as_plain_text()
    {
        await using var app = await StartAsync();

        var response = await app.Client.PostAsync("/api/intake/graph?validationToken=abc%20123", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("abc 123", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_graph_notification_with_a_wrong_clientState_is_refused_and_nothing_is_queued()
    {
        await using var app = await StartAsync();

        var response = await app.Client.PostAsync("/api/intake/graph", Json(GraphNotification("forged-state", "AAMk-1")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, await app.Services.GetRequiredService<EmbeddedQueue>().CountActiveAsync(IntakeFunctions.QueueName));
        Assert.Empty(await app.Services.GetRequiredService<EmbeddedQueue>().GetDeadLettersAsync(IntakeFunctions.QueueName));
    }

    [Fact]
    public async Task A_graph_notification_with_the_right_clientState_is_acknowledged_with_202_and_queued()
    {
        await using var app = await StartAsync();

        var response = await app.Client.PostAsync("/api/intake/graph", Json(GraphNotification(ClientState, "AAMk-1")));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // No intake mailbox is configured for Graph here, so the fetch can never succeed: the work goes to intake-poison.
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        await app.DrainIntakeAsync(async () => (await queue.GetDeadLettersAsync(IntakeFunctions.QueueName)).Count == 1);
        var poisoned = Assert.Single(await queue.GetDeadLettersAsync(IntakeFunctions.QueueName));
        Assert.Contains("AAMk-1", poisoned.Body, StringComparison.Ordinal);
        Assert.Empty(await app.TicketsAsync());
    }

    [Fact]
    public async Task A_teams_message_with_a_bad_signature_is_refused()
    {
        await using var app = await StartAsync();
        var body = TeamsActivity("act-1", "Printer on fire");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/intake/teams/teams-desk") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", TeamsSignature(body + " "));

        var response = await app.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await app.TicketsAsync());
    }

    [Fact]
    public async Task A_signed_teams_message_is_answered_with_the_ticket_link_and_raises_one_ticket_even_when_sent_twice()
    {
        await using var app = await StartAsync();
        var body = TeamsActivity("act-1", "<at>Service desk</at> Printer on fire\nFloor 2");

        var first = await SendTeamsAsync(app, body);
        await SendTeamsAsync(app, body);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var reply = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("message", reply.GetProperty("type").GetString());
        await app.DrainIntakeAsync(async () => (await app.TicketsAsync()).Count == 1);
        var ticket = Assert.Single(await app.TicketsAsync());

        // The link opens a page a browser shows (not a JSON route that answers 401), at the app's address.
        var link = System.Text.RegularExpressions.Regex.Match(reply.GetProperty("text").GetString()!, @"https?://\S+").Value;
        Assert.StartsWith("http://localhost:7071/api/ticket-page?t=", link, StringComparison.Ordinal);
        var page = await app.Client.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
        Assert.Contains($"{ticket.Number}: Printer on fire", html, StringComparison.Ordinal);
        Assert.Contains("Received, not yet taken", html, StringComparison.Ordinal);
        var altered = await app.Client.GetAsync(link[..^3] + (link[^3] == 'A' ? "B" : "A") + link[^2..]);
        Assert.Equal(HttpStatusCode.BadRequest, altered.StatusCode);
        Assert.Equal(("Printer on fire", "teams"), (ticket.Title, ticket.Channel));
        Assert.Equal("aad-ana", ticket.Requester.Id);

        // Known only by an Entra id, the requester gets the number in a Teams activity instead of a mail.
        var ack = Assert.Single(await app.OutboxAsync());
        Assert.Equal((Itsm.Functions.Notifications.NotificationChannel.Teams, "aad-ana"), (ack.Channel, ack.Recipient.Id));
        Assert.StartsWith($"[{ticket.Number}]", ack.Subject, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerts_need_the_endpoint_token()
    {
        await using var app = await StartAsync();

        var noToken = await app.Client.PostAsync("/api/intake/alerts/azure-monitor", Json(Alert("Fired")));
        var wrong = await app.Client.PostAsync("/api/intake/alerts/azure-monitor?token=guess", Json(Alert("Fired")));
        var unknownSource = await app.Client.PostAsync($"/api/intake/alerts/other?token={AlertToken}", Json(Alert("Fired")));

        Assert.All([noToken, wrong, unknownSource], r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Fact]
    public async Task An_alert_in_another_schema_is_refused_with_the_reason()
    {
        await using var app = await StartAsync();

        var response = await app.Client.PostAsync($"/api/intake/alerts/azure-monitor?token={AlertToken}", Json("""{"schemaId":"Microsoft.Insights/activityLogs","data":{}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("schemaId", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_alert_fired_twice_then_resolved_opens_one_incident_notes_the_repeat_and_resolves_it()
    {
        await using var app = await StartAsync();
        async Task PostAsync(string condition, string at)
        {
            var response = await app.Client.PostAsync($"/api/intake/alerts/azure-monitor?token={AlertToken}", Json(Alert(condition, at)));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await PostAsync("Fired", "2026-03-02T07:50:00Z");
        await app.DrainIntakeAsync(async () => (await app.TicketsAsync()).Count == 1);
        await PostAsync("Fired", "2026-03-02T07:55:00Z");
        await app.DrainIntakeAsync(async () => (await app.CommentsAsync((await app.TicketsAsync())[0].Id)).Count == 1);
        await PostAsync("Resolved", "2026-03-02T08:05:00Z");
        await app.DrainIntakeAsync(async () => (await app.TicketsAsync())[0].State == TicketState.Resolved);

        var incident = Assert.Single(await app.TicketsAsync());
        Assert.Equal((TicketType.Incident, "monitor", 1, 1), (incident.Type, incident.Channel, incident.Impact, incident.Urgency));
        Assert.Contains("cpu-high", incident.Title, StringComparison.Ordinal);
        Assert.Equal(TicketState.Resolved, incident.State);
        var notes = await app.CommentsAsync(incident.Id);
        Assert.Equal(2, notes.Count);
        Assert.All(notes, n => Assert.Equal(CommentKind.WorkNote, n.Kind));
    }

    [Fact]
    public async Task A_malformed_or_unroutable_queue_message_goes_to_intake_poison_at_once_and_writes_nothing()
    {
        await using var app = await StartAsync();
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        var unknownSource = """{"channel":"email","externalId":"x","sender":"a@b.c","subject":"s","receivedAt":"2026-03-02T07:00:00Z","source":"nobody@contoso.com"}""";

        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage("{not json", "broker-1"));
        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(unknownSource, "broker-2"));
        await app.DrainIntakeAsync(async () => (await queue.GetDeadLettersAsync(IntakeFunctions.QueueName)).Count == 2);

        // Each is in intake-poison at once (no retries: it can never succeed), exactly as sent, so it can be resubmitted once fixed.
        var poisoned = await queue.GetDeadLettersAsync(IntakeFunctions.QueueName);
        Assert.Equal(new[] { "{not json", unknownSource }.Order(StringComparer.Ordinal), poisoned.Select(p => p.Body).Order(StringComparer.Ordinal));
        Assert.All(poisoned, p => Assert.Equal(0, p.DeliveryCount));
        Assert.Empty(await app.TicketsAsync());
        Assert.Empty(await app.Services.GetRequiredService<IntakeInbox>().ListAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_mail_message_through_the_queue_becomes_a_ticket_with_its_acknowledgement_in_the_outbox()
    {
        await using var app = await StartAsync();
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        var mail = Mail("m-1@contoso.com", "ana@contoso.com", "VPN down", "It drops.");

        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(JsonSerializer.Serialize(mail, Itsm.Functions.Hosting.HttpResults.Json), "broker-1"));
        await app.DrainIntakeAsync(async () => (await app.OutboxAsync()).Count == 1);

        var ticket = Assert.Single(await app.TicketsAsync());
        Assert.StartsWith($"[{ticket.Number}]", Assert.Single(await app.OutboxAsync()).Subject, StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> SendTeamsAsync(StandaloneApp app, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/intake/teams/teams-desk") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", TeamsSignature(body));
        return await app.Client.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string GraphNotification(string clientState, string messageId) =>
        JsonSerializer.Serialize(new { value = new[] { new { subscriptionId = "sub-1", clientState, changeType = "created", resource = $"Users/u-1/Messages/{messageId}", resourceData = new { id = messageId } } } });

    private static string TeamsActivity(string id, string text) =>
        JsonSerializer.Serialize(new { type = "message", id, text, from = new { id = "29:ana", name = "Ana", aadObjectId = "aad-ana" }, conversation = new { id = "19:conv" } });

    internal static string Alert(string condition, string at = "2026-03-02T07:50:00Z") =>
        JsonSerializer.Serialize(new
        {
            schemaId = "azureMonitorCommonAlertSchema",
            data = new
            {
                essentials = new
                {
                    alertId = "/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/a-1",
                    alertRule = "cpu-high",
                    severity = "Sev0",
                    signalType = "Metric",
                    monitorCondition = condition,
                    monitoringService = "Platform",
                    alertTargetIDs = new[] { "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1" },
                    configurationItems = new[] { "vm-1" },
                    firedDateTime = "2026-03-02T07:50:00Z",
                    resolvedDateTime = condition == "Resolved" ? at : null,
                    description = "CPU above 95%",
                },
                alertContext = new { },
            },
        }).Replace("\"firedDateTime\":\"2026-03-02T07:50:00Z\"", $"\"firedDateTime\":\"{at}\"", StringComparison.Ordinal);
}
