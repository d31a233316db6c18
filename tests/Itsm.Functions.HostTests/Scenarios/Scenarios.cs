using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml;
using Itsm.Functions.HostTests.Support;
using Itsm.Functions.Security;
using Xunit.Abstractions;

namespace Itsm.Functions.HostTests.Scenarios;

/// <summary>
/// The user flows, written once and run against each target (see <see cref="Targets"/>): every assertion is about what
/// a user or another system sees through the public API, the queues and the mail that went out. Policies are written
/// in minutes, which last one second here (<c>Itsm:Policies:MinuteLength</c>); each scenario has a tenant of its own.
/// </summary>
public abstract class Scenarios(AppTarget target, ITestOutputHelper output) : ScenarioBase(target, output)
{
    [Scenario]
    public Task Health_and_the_OpenAPI_document_answer_anonymously_and_missing_or_forged_tokens_are_refused() => RunAsync(async () =>
    {
        using var anonymous = Target.Anonymous;
        var health = await GetJsonAsync(anonymous, "/api/health");
        Assert.Equal(("Healthy", Target.Mode, "sqlite", true), (health.GetProperty("status").GetString(), health.GetProperty("mode").GetString(), health.GetProperty("database").GetProperty("provider").GetString(), health.GetProperty("database").GetProperty("reachable").GetBoolean()));

        using var openApi = await anonymous.GetAsync("/api/openapi.json");
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        Assert.Equal("application/json", openApi.Content.Headers.ContentType?.MediaType);
        var document = JsonDocument.Parse(await openApi.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Contains("/tickets", paths);
        Assert.Contains("/manage/sla/policies/{id}", paths);

        // Every documented route answers under this host (the Functions host refuses routes under admin/ and runtime/).
        Assert.DoesNotContain(paths, p => p.StartsWith("/admin", StringComparison.Ordinal) || p.StartsWith("/runtime", StringComparison.Ordinal));

        var forged = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(Path.Combine(Target.Directory, "another-installation", "itsm.db")), "mallory", [AppRoles.Admin], "contoso");
        foreach (var (header, why) in new[] { ((string?)null, "no token"), ("Bearer " + forged, "signed by another key"), ("Bearer not-a-token", "malformed"), ("Basic cm9vdDpyb290", "not a bearer token") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tickets");
            if (header is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", header);
            }

            using var refused = await anonymous.SendAsync(request);
            Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{why}: {(int)refused.StatusCode}");
            Assert.Contains("Bearer", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        using var agent = Agent("health");
        Assert.Equal(JsonValueKind.Array, (await GetJsonAsync(agent, "/api/tickets")).GetProperty("items").ValueKind);
        using var requester = Target.As("ana", "health");
        using var forbidden = await requester.GetAsync("/api/tickets/any/sla");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    });

    [Scenario]
    public Task Routes_answer_alike_a_literal_segment_wins_and_unknown_routes_and_methods_get_problem_details() => RunAsync(async () =>
    {
        const string tenant = "routes";
        await SendJsonAsync(Admin(tenant), HttpMethod.Put, "/api/manage/changes/templates/assessment", """{"name":"Assessment server patch","implementationPlan":"Patch.","backoutPlan":"Roll back."}""", HttpStatusCode.Created);

        // Also a match for changes/{id}/assessment (of a change "templates"): the template route is the more specific.
        var template = await GetJsonAsync(Agent(tenant), "/api/changes/templates/assessment");
        Assert.Equal(("assessment", "Assessment server patch"), (template.GetProperty("id").GetString(), template.GetProperty("name").GetString()));

        using var agent = Agent(tenant);
        foreach (var (method, path, status, allow) in new[]
        {
            ("GET", "/api/no-such-route", HttpStatusCode.NotFound, ""),
            ("GET", "/api/tickets/one/two/three", HttpStatusCode.NotFound, ""),
            ("DELETE", "/api/tickets", HttpStatusCode.MethodNotAllowed, "GET, POST"),
            ("PUT", "/api/health", HttpStatusCode.MethodNotAllowed, "GET"),
        })
        {
            using var response = await agent.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        }
    });

    [Scenario]
    public Task An_sla_clock_fires_its_warning_and_breach_at_their_times_and_the_breach_escalates() => RunAsync(async () =>
    {
        const string tenant = "sla";
        await SetUpSlaAsync(tenant, """
            {"name":"Fast","calendarId":"24x7","resolutionMinutes":{"2":20,"3":20},"warnings":[50],
             "onBreach":{"notify":[],"reassignToGroup":"major-incident-desk","raisePriority":true}}
            """);
        var (id, createdAt) = await RaiseIncidentAsync(tenant, "Core switch down");
        var clock = (await GetJsonAsync(Agent(tenant), $"/api/tickets/{id}/sla")).GetProperty("clocks")[0];
        Assert.Equal(("resolution", "Running", "PT20S"), (clock.GetProperty("key").GetString(), clock.GetProperty("state").GetString(), clock.GetProperty("target").GetString()));

        var history = await Poll.UntilAsync(() => HistoryAsync(tenant, id), h => Events(h, "sla.escalated").Length > 0, Patience, $"ticket {id} to breach and escalate");

        var warning = Assert.Single(Events(history, "sla.warning"));
        var breach = Assert.Single(Events(history, "sla.breach"));
        Assert.Equal(createdAt.AddSeconds(10), Detail(warning, "reachedAt").GetDateTimeOffset());
        Assert.Equal(createdAt.AddSeconds(20), Detail(breach, "breachedAt").GetDateTimeOffset());
        var warningLate = At(warning) - createdAt.AddSeconds(10);
        var breachLate = At(breach) - createdAt.AddSeconds(20);
        Measure("sla warning lateness", warningLate);
        Measure("sla breach lateness", breachLate);
        Assert.InRange(warningLate, TimeSpan.Zero, Lateness);
        Assert.InRange(breachLate, TimeSpan.Zero, Lateness);

        var ticket = await GetJsonAsync(Agent(tenant), $"/api/tickets/{id}");
        Assert.Equal((2, "major-incident-desk"), (ticket.GetProperty("priority").GetInt32(), ticket.GetProperty("assignmentGroup").GetString()));
        var breached = (await GetJsonAsync(Agent(tenant), $"/api/tickets/{id}/sla")).GetProperty("clocks")[0];
        Assert.Equal((true, createdAt.AddSeconds(20)), (breached.GetProperty("breached").GetBoolean(), breached.GetProperty("breachedAt").GetDateTimeOffset()));
    });

    [Scenario]
    public Task Putting_a_ticket_on_hold_pauses_its_clock_and_the_warning_moves_by_the_time_on_hold() => RunAsync(async () =>
    {
        const string tenant = "hold";
        await SetUpSlaAsync(tenant, """{"name":"Fast","calendarId":"24x7","resolutionMinutes":{"3":20},"warnings":[50],"pauseStates":["OnHold"]}""");
        var (id, createdAt) = await RaiseIncidentAsync(tenant, "Laptop will not boot");
        var agent = Agent(tenant);
        await SendJsonAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/hold", """{"holdReason":"AwaitingCaller"}""");

        // Past the instant the warning was due without the hold: nothing fires while the clock is paused.
        var unpausedWarning = createdAt.AddSeconds(10);
        var paused = await Poll.UntilAsync(
            async () =>
            {
                var sla = await GetJsonAsync(agent, $"/api/tickets/{id}/sla");
                var clock = sla.GetProperty("clocks")[0];
                Assert.Equal("Paused", clock.GetProperty("state").GetString());
                Assert.Equal(0, clock.GetProperty("firedThresholds").GetArrayLength());
                return sla;
            },
            sla => sla.GetProperty("at").GetDateTimeOffset() > unpausedWarning.AddSeconds(3),
            Patience,
            "the paused clock to pass the instant its warning was due");
        Assert.Empty(Events(await HistoryAsync(tenant, id), "sla.warning"));
        Note($"paused clock at {paused.GetProperty("at").GetDateTimeOffset():O}: {paused.GetProperty("clocks")[0]}");

        await SendJsonAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/resume", "{}");
        var history = await Poll.UntilAsync(() => HistoryAsync(tenant, id), h => Events(h, "sla.warning").Length > 0, Patience, $"the warning of ticket {id} after it resumed");
        var onHold = At(Assert.Single(Events(history, "sla.resumed"))) - At(Assert.Single(Events(history, "sla.paused")));
        var warning = Assert.Single(Events(history, "sla.warning"));
        var reachedAt = Detail(warning, "reachedAt").GetDateTimeOffset();
        Assert.Equal(unpausedWarning + onHold, reachedAt);
        Measure("sla warning lateness after a hold", At(warning) - reachedAt);
        Assert.InRange(At(warning) - reachedAt, TimeSpan.Zero, Lateness);

        // Resolved before its (moved) due instant: the clock stops as met and never breaches.
        await SendJsonAsync(agent, HttpMethod.Post, $"/api/tickets/{id}/actions/resolve", """{"resolutionCode":"Fixed","resolutionNotes":"Replaced the SSD."}""");
        var stopped = (await GetJsonAsync(agent, $"/api/tickets/{id}/sla")).GetProperty("clocks")[0];
        Assert.Equal("Met", stopped.GetProperty("state").GetString());
        Assert.Equal(onHold, XmlConvert.ToTimeSpan(stopped.GetProperty("pausedWall").GetString()!));
    });

    [Scenario]
    public Task A_normal_change_is_approved_once_through_the_signed_link_of_its_prompt_and_is_scheduled() => RunAsync(async () =>
    {
        const string tenant = "changes";
        await SetUpApprovalsAsync(tenant, """{"name":"Service owner","approvers":[{"kind":"User","id":"bob"}],"rule":"Any"}""");
        var (change, approval) = await SubmitChangeAsync(tenant, "Patch VPN gateway");
        Assert.Equal("Authorize", await TicketStateAsync(tenant, change));

        var prompt = Assert.Single((await ApprovalAsync(tenant, approval)).GetProperty("prompts").EnumerateArray());
        Assert.Equal("bob", prompt.GetProperty("recipient").GetString());
        var link = prompt.GetProperty("link").GetString()!;
        Assert.StartsWith(new Uri(Target.BaseAddress, "/api/approval-page?t=").ToString(), link, StringComparison.Ordinal);

        // Opening the link (as a mail scanner would) shows the change and decides nothing.
        using var anonymous = Target.Anonymous;
        using var page = await anonymous.GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Patch VPN gateway", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var token = Uri.UnescapeDataString(new Uri(link).Query["?t=".Length..]);
        var bob = Target.Token("bob", tenant, AppRoles.Approver);
        var answering = Stopwatch.StartNew();
        var (status, html) = await PostDecisionAsync(anonymous, token, "approve", bob);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status} {html}");
        Assert.Contains("is recorded", html, StringComparison.Ordinal);

        await Poll.UntilAsync(async () => await TicketStateAsync(tenant, change) == "Scheduled", Patience, $"change {change} to be scheduled");
        Measure("approval answer to change scheduled", answering.Elapsed);
        var record = await ApprovalAsync(tenant, approval);
        Assert.Equal("Approved", record.GetProperty("state").GetString());
        var decision = Assert.Single(record.GetProperty("decisions").EnumerateArray());
        Assert.Equal(("bob", "page"), (decision.GetProperty("answeredBy").GetString(), decision.GetProperty("channel").GetString()));

        var (replayStatus, replayHtml) = await PostDecisionAsync(anonymous, token, "reject", bob);
        Assert.Equal(HttpStatusCode.Conflict, replayStatus);
        Assert.Contains("was already approved; your answer changes nothing", replayHtml, StringComparison.Ordinal);
        Assert.Single((await ApprovalAsync(tenant, approval)).GetProperty("decisions").EnumerateArray());
        Assert.Single(Events(await HistoryAsync(tenant, change), "approval.approved"));
    });

    [Scenario]
    public Task A_quorum_approval_whose_deadline_passes_first_is_rejected_by_its_timeout_and_a_late_answer_is_refused() => RunAsync(async () =>
    {
        const string tenant = "quorum";
        await SetUpApprovalsAsync(tenant, """
            {"name":"CAB","approvers":[{"kind":"User","id":"alice"},{"kind":"User","id":"bob"},{"kind":"User","id":"carol"}],
             "rule":"Quorum","quorumCount":2,"rejectOnFirstRejection":false,"timeoutMinutes":8,"onTimeout":"AutoReject"}
            """);
        var (change, approval) = await SubmitChangeAsync(tenant, "Rotate database certificates");
        Assert.Equal(3, (await ApprovalAsync(tenant, approval)).GetProperty("prompts").GetArrayLength());

        await SendJsonAsync(Target.As("alice", tenant, AppRoles.Approver), HttpMethod.Post, $"/api/approvals/{approval}/decisions", """{"verdict":"Approve"}""");
        Assert.Equal("Pending", (await ApprovalAsync(tenant, approval)).GetProperty("state").GetString());

        var record = await Poll.UntilAsync(() => ApprovalAsync(tenant, approval), a => a.GetProperty("state").GetString() != "Pending", Patience, $"approval {approval} to time out");
        Assert.Equal("Rejected", record.GetProperty("state").GetString());
        Assert.Contains("No decision within 8 minutes", record.GetProperty("outcomeReason").GetString(), StringComparison.Ordinal);
        var deadline = record.GetProperty("levels")[0].GetProperty("deadline").GetDateTimeOffset();
        var late = record.GetProperty("completedAt").GetDateTimeOffset() - deadline;
        Measure("approval timeout lateness", late);
        Assert.InRange(late, TimeSpan.Zero, Lateness);
        await Poll.UntilAsync(async () => await TicketStateAsync(tenant, change) == "Cancelled", Patience, $"change {change} to be cancelled");

        using var lateAnswer = await Target.As("bob", tenant, AppRoles.Approver).PostAsync($"/api/approvals/{approval}/decisions", Json("""{"verdict":"Approve"}"""));
        Assert.Equal(HttpStatusCode.Conflict, lateAnswer.StatusCode);
        Assert.Single((await ApprovalAsync(tenant, approval)).GetProperty("decisions").EnumerateArray());
    });

    [Scenario]
    public Task An_intake_message_becomes_one_ticket_again_none_and_a_malformed_one_ends_in_intake_poison() => RunAsync(async () =>
    {
        const string tenant = AppTarget.IntakeTenant;
        var word = "zq" + Guid.NewGuid().ToString("N")[..10];
        var message = JsonSerializer.Serialize(new
        {
            channel = "email",
            externalId = $"<{word}@mail.contoso.com>",
            sender = "ana@contoso.com",
            senderName = "Ana Silva",
            subject = $"Printer {word} jams on every job",
            body = "The paper jam light stays on after clearing the tray.",
            receivedAt = DateTimeOffset.UtcNow,
            source = AppTarget.IntakeSource,
            internetMessageId = $"<{word}@mail.contoso.com>",
        });
        var agent = Agent(tenant);
        async Task<JsonElement[]> TicketsAsync() => (await GetJsonAsync(agent, $"/api/tickets?q={word}")).GetProperty("items").EnumerateArray().ToArray();

        var sent = Stopwatch.StartNew();
        await Target.SendIntakeAsync(message);
        var ticket = Assert.Single(await Poll.UntilAsync(TicketsAsync, t => t.Length > 0, Patience, "the intake message to become a ticket"));
        Measure("intake message to ticket", sent.Elapsed);
        Assert.Equal(($"Printer {word} jams on every job", "ana@contoso.com"), (ticket.GetProperty("title").GetString(), ticket.GetProperty("requester").GetProperty("email").GetString()));
        var id = ticket.GetProperty("id").GetString()!;
        var historyBefore = (await HistoryAsync(tenant, id)).Length;
        await Poll.UntilAsync(async () => await Target.IntakeBacklogAsync() == 0, Patience, "the intake queue to be empty");

        // The same message again (a redelivery, or the sender's retry): handled, and nothing new.
        await Target.SendIntakeAsync(message);
        await Poll.UntilAsync(async () => await Target.IntakeBacklogAsync() == 0, Patience, "the repeated message to be handled");
        Assert.Single(await TicketsAsync());
        Assert.Equal(historyBefore, (await HistoryAsync(tenant, id)).Length);

        var total = (await GetJsonAsync(agent, "/api/tickets?pageSize=100")).GetProperty("items").GetArrayLength();
        var malformed = $"{{\"channel\":\"email\",\"subject\":\"{word} without sender or id\"";
        await Target.SendIntakeAsync(malformed);
        var poisoned = await Poll.UntilAsync(Target.PoisonedIntakeAsync, p => p.Contains(malformed), Patience, "the malformed message to reach intake-poison");
        Assert.Single(poisoned, p => p == malformed);
        await Poll.UntilAsync(async () => await Target.IntakeBacklogAsync() == 0, Patience, "the intake queue to be empty");
        Assert.Equal(total, (await GetJsonAsync(agent, "/api/tickets?pageSize=100")).GetProperty("items").GetArrayLength());
    });

    [Scenario]
    public Task The_outbox_timer_sends_a_pending_notification_through_graph() => RunAsync(async () =>
    {
        const string tenant = "outbox";
        var email = $"ana.{Guid.NewGuid():N}@contoso.com";
        await SendJsonAsync(Agent(tenant), HttpMethod.Post, "/api/tickets", $$"""{"type":"Incident","title":"Mouse broken","requester":{"id":"ana","email":"{{email}}","name":"Ana"} }""", HttpStatusCode.Created);
        var raised = Stopwatch.StartNew();

        // Stored first (the ticket write), sent by the NotificationOutboxDispatch timer (every 30 s) through Graph.
        var admin = Admin(tenant);
        var notification = await Poll.UntilAsync(
            async () => (await GetJsonAsync(admin, "/api/manage/notifications/outbox")).GetProperty("items").EnumerateArray()
                .FirstOrDefault(n => n.GetProperty("recipient").GetProperty("email").GetString() == email),
            n => n.ValueKind == JsonValueKind.Object && n.GetProperty("state").GetString() is "Sent" or "Failed",
            Patience,
            $"the notification to {email} to be sent");
        Measure("notification stored to sent (timer every 30 s)", raised.Elapsed);
        Assert.True(notification.GetProperty("state").GetString() == "Sent", notification.ToString());
        Assert.Equal(("ticket.created", 1), (notification.GetProperty("eventKind").GetString(), notification.GetProperty("attempts").GetInt32()));
        Assert.Contains(email, Target.Graph.MailSentTo);
    });

    [Scenario]
    public Task A_cmdb_csv_import_runs_as_an_orchestration_reporting_progress_and_the_rows_it_rejected() => RunAsync(async () =>
    {
        const string tenant = "cmdb";
        var csv = new StringBuilder("externalKey,class,name,status,criticality,attr.cpuCores\n");
        for (var i = 1; i <= 1202; i++)
        {
            // File row i + 1 (the header is row 1); two rows are wrong.
            csv.Append(i switch
            {
                300 => "srv-300,toaster,t-300,Operational,High,4\n",
                900 => "srv-900,server,web-900,Operational,High,eight\n",
                _ => string.Create(CultureInfo.InvariantCulture, $"srv-{i},server,web-{i},Operational,High,{i % 64 + 1}\n"),
            });
        }

        var agent = Agent(tenant);
        using var started = await agent.PostAsync("/api/cmdb/imports?kind=cis", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString();

        // The 202 answer is the job's status at the start: the first observation of its progress.
        var first = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement;
        var seen = new List<(string Status, int Processed, int Percent)> { (first.GetProperty("status").GetString()!, first.GetProperty("processedRows").GetInt32(), first.GetProperty("percent").GetInt32()) };
        var done = await Poll.UntilAsync(
            async () =>
            {
                var status = await GetJsonAsync(agent, location);
                seen.Add((status.GetProperty("status").GetString()!, status.GetProperty("processedRows").GetInt32(), status.GetProperty("percent").GetInt32()));
                return status;
            },
            s => s.GetProperty("status").GetString() != "Running",
            Patience,
            "the import to finish");
        Note("progress seen: " + string.Join(" ", seen.Distinct().Select(s => $"{s.Status}:{s.Processed}/{s.Percent}%")));

        Assert.Equal(("Completed", 1202, 1202, 100), (done.GetProperty("status").GetString(), done.GetProperty("totalRows").GetInt32(), done.GetProperty("processedRows").GetInt32(), done.GetProperty("percent").GetInt32()));
        Assert.Equal((1200, 2), (done.GetProperty("created").GetInt32(), done.GetProperty("rejected").GetInt32()));
        Assert.Equal([(301, "class"), (901, "attr.cpuCores")], done.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())));

        // Progress only moves forward, from the job running with none of its rows applied.
        Assert.Equal(seen.Select(s => s.Processed).Order(), seen.Select(s => s.Processed));
        Assert.Contains(seen, s => s.Status == "Running" && s.Percent < 100);

        using var export = await agent.GetAsync("/api/cmdb/export/cis");
        var exported = await export.Content.ReadAsStringAsync();
        Assert.Contains("srv-1202,server,web-1202", exported, StringComparison.Ordinal);
        Assert.DoesNotContain("srv-300,", exported, StringComparison.Ordinal);
    });

    [Scenario]
    public Task A_requester_orders_from_the_catalogue_finds_a_published_article_and_rates_the_fulfilled_request_once() => RunAsync(async () =>
    {
        const string tenant = "catalogue";
        var admin = Admin(tenant);
        var agent = Agent(tenant);
        using var ana = Target.As("ana", tenant);
        await SendJsonAsync(admin, HttpMethod.Put, "/api/manage/surveys/settings", """{"enabled":true}""");
        await SendJsonAsync(admin, HttpMethod.Put, "/api/catalog/categories/hardware", """{"name":"Hardware","order":1}""");
        await SendJsonAsync(admin, HttpMethod.Put, "/api/catalog/items/laptop", """
            {"name":"Laptop","category":"hardware","deliveryTargetMinutes":960,
             "variables":[{"name":"model","label":"Model","type":"Choice","required":true,"choices":[{"value":"std","label":"Standard"},{"value":"pro","label":"Developer"}]}],
             "fulfilment":[{"key":"image","name":"Image the laptop","assignmentGroup":"desk","stage":1}]}
            """, HttpStatusCode.Created);

        // An order that fails names the variable and raises nothing; a valid one raises the service request.
        using var refused = await ana.PostAsync("/api/catalog/items/laptop/orders", Json("""{"variables":{"model":"gold"}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("variables.model", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var request = await SendJsonAsync(ana, HttpMethod.Post, "/api/catalog/items/laptop/orders", """{"variables":{"model":"pro"}}""", HttpStatusCode.Created);
        var id = request.GetProperty("id").GetString()!;
        Assert.Equal(("ServiceRequest", "laptop", 1), (request.GetProperty("type").GetString(), request.GetProperty("catalog").GetProperty("itemId").GetString(), request.GetProperty("catalog").GetProperty("version").GetInt32()));

        // The knowledge base: an agent's draft is invisible until an admin publishes it, then the requester finds it.
        var draft = await SendJsonAsync(agent, HttpMethod.Post, "/api/kb/articles", """{"title":"Laptop imaging takes a day","body":"A developer laptop is imaged overnight and handed over the next morning."}""", HttpStatusCode.Created);
        var article = draft.GetProperty("id").GetString()!;
        Assert.Equal(0, (await GetJsonAsync(ana, "/api/kb/search?q=imaging")).GetProperty("items").GetArrayLength());
        await TransitionAsync(agent, article, "Submit");
        await TransitionAsync(admin, article, "Publish");
        var found = Assert.Single((await GetJsonAsync(ana, "/api/kb/search?q=laptop%20imaging")).GetProperty("items").EnumerateArray());
        Assert.Equal(article, found.GetProperty("article").GetProperty("id").GetString());

        // Fulfilment: closing the request's only task resolves it, and its requester is invited to rate it.
        var task = Assert.Single((await GetJsonAsync(agent, "/api/catalog/tasks?assignmentGroup=desk")).GetProperty("items").EnumerateArray());
        Assert.Equal(id, task.GetProperty("requestId").GetString());
        await SendJsonAsync(agent, HttpMethod.Post, $"/api/catalog/requests/{id}/tasks/image/close", """{"notes":"Imaged and handed over."}""");
        Assert.Equal("Resolved", await TicketStateAsync(tenant, id));
        var invitation = await Poll.UntilAsync(
            async () => (await GetJsonAsync(admin, "/api/manage/notifications/outbox?pageSize=200")).GetProperty("items").EnumerateArray()
                .FirstOrDefault(n => n.GetProperty("eventKind").GetString() == "survey.invited" && n.GetProperty("ticketId").GetString() == id),
            n => n.ValueKind == JsonValueKind.Object,
            Patience,
            $"the survey invitation for {id}");
        var link = invitation.GetProperty("link").GetString()!;
        Assert.StartsWith(new Uri(Target.BaseAddress, "/api/survey-page?t=").ToString(), link, StringComparison.Ordinal);
        var token = Uri.UnescapeDataString(new Uri(link).Query["?t=".Length..]);
        using var anonymous = Target.Anonymous;
        foreach (var (rating, expected) in new[] { ("5", HttpStatusCode.OK), ("1", HttpStatusCode.Conflict) })
        {
            using var answer = await anonymous.PostAsync("/api/survey-page", new FormUrlEncodedContent(new Dictionary<string, string> { ["t"] = token, ["rating"] = rating, ["comment"] = "Quick." }));
            Assert.True(answer.StatusCode == expected, $"rating {rating}: {(int)answer.StatusCode}");
        }

        var survey = await GetJsonAsync(agent, $"/api/tickets/{id}/survey");
        Assert.Equal(("Answered", 5), (survey.GetProperty("state").GetString(), survey.GetProperty("rating").GetInt32()));
    });

    private static async Task TransitionAsync(HttpClient client, string article, string action)
    {
        using var current = await client.GetAsync($"/api/kb/articles/{article}");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/kb/articles/{article}/transitions") { Content = Json($$"""{"action":"{{action}}"}""") };
        request.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag?.ToString());
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{action} {article}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<(HttpStatusCode Status, string Html)> PostDecisionAsync(HttpClient client, string token, string decision, string signIn)
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["t"] = token, ["decision"] = decision, ["comment"] = "From my phone", ["access_token"] = signIn });
        using var response = await client.PostAsync("/api/approval-page", form);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
