using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Microsoft.AspNetCore.TestHost;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>The tickets API end to end through the standalone host, with dev tokens.</summary>
public class TicketApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<(string Id, string ETag, JsonElement Ticket)> CreateAsync(HttpClient client, string json)
    {
        var response = await client.PostAsync("/api/tickets", Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var ticket = await BodyAsync(response);
        return (ticket.GetProperty("id").GetString()!, response.Headers.ETag!.Tag, ticket);
    }

    [Fact]
    public async Task A_requester_raises_an_incident_and_gets_its_number_location_etag_and_computed_priority()
    {
        await using var app = await StandaloneApp.StartAsync();
        var ana = app.As("ana");

        var response = await ana.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"VPN drops","impact":1,"urgency":2,"description":"Since 8am"}"""));
        var second = await ana.PostAsync("/api/tickets", Json("""{"type":"ServiceRequest","title":"New laptop"}"""));
        var third = await ana.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Printer"}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var ticket = await BodyAsync(response);
        Assert.Equal("INC0001001", ticket.GetProperty("number").GetString());
        Assert.Equal(2, ticket.GetProperty("priority").GetInt32());
        Assert.Equal("New", ticket.GetProperty("state").GetString());
        Assert.Equal("ana", ticket.GetProperty("requester").GetProperty("id").GetString());
        Assert.Equal($"/api/tickets/{ticket.GetProperty("id").GetString()}", response.Headers.Location!.OriginalString);
        Assert.NotNull(response.Headers.ETag);
        Assert.Equal("REQ0001001", (await BodyAsync(second)).GetProperty("number").GetString());
        Assert.Equal("INC0001002", (await BodyAsync(third)).GetProperty("number").GetString());
    }

    [Fact]
    public async Task Numbers_stay_unique_when_many_tickets_are_raised_at_once()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);

        var responses = await Task.WhenAll(Enumerable.Range(0, 25).Select(i => agent.PostAsync("/api/tickets", Json($$"""{"type":"Incident","title":"Outage {{i}}"}"""))));

        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }

        var numbers = await Task.WhenAll(responses.Select(async r => (await BodyAsync(r)).GetProperty("number").GetString()));
        Assert.Equal(Enumerable.Range(1001, 25).Select(n => $"INC000{n}").Order(), numbers.Order());
    }

    [Fact]
    public async Task Fields_a_requester_may_not_set_are_rejected_with_403_and_nothing_is_stored()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.As("ana").PostAsync("/api/tickets", Json("""{"type":"Incident","title":"VPN","assignee":{"id":"bob"},"majorIncident":true}"""));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await BodyAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("assignee", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("majorIncident", out _));
        var list = await BodyAsync(await app.As("agent", "contoso", AppRoles.Agent).GetAsync("/api/tickets"));
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Every_invalid_field_is_listed_in_one_problem_and_unknown_fields_are_rejected()
    {
        await using var app = await StandaloneApp.StartAsync();

        var response = await app.As("agent", "contoso", AppRoles.Agent).PostAsync("/api/tickets",
            Json("""{"type":"Outage","title":"","impact":7,"urgency":"high","tags":"x","colour":"red","change":{"plannedStart":"tomorrow"}}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await BodyAsync(response)).GetProperty("errors");
        foreach (var field in new[] { "type", "title", "impact", "urgency", "tags", "colour" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"'{field}' is not reported");
        }
    }

    [Fact]
    public async Task Setting_priority_is_refused_with_how_it_is_changed_instead()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var (id, etag, _) = await CreateAsync(agent, """{"type":"Incident","title":"Mail down"}""");

        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = Json("""{"priority":1}""") };
        patch.Headers.TryAddWithoutValidation("If-Match", etag);
        var response = await agent.SendAsync(patch);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var reason = (await BodyAsync(response)).GetProperty("errors").GetProperty("priority")[0].GetString()!;
        Assert.Contains("impact and urgency", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("not a known field", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_action_is_told_in_plain_words_what_is_possible_now()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var (id, _, ticket) = await CreateAsync(agent, """{"type":"Incident","title":"Mail down"}""");

        var open = await BodyAsync(await agent.PostAsync($"/api/tickets/{id}/actions/frobnicate", Json("{}")));
        Assert.StartsWith("An incident has no action 'frobnicate'. Possible now: ", open.GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/tickets/{id}/actions/cancel", Json("""{"reason":"Raised by mistake"}"""))).StatusCode);
        var finished = (await BodyAsync(await agent.PostAsync($"/api/tickets/{id}/actions/frobnicate", Json("{}")))).GetProperty("detail").GetString()!;
        Assert.Contains($"No change of state is possible now: {ticket.GetProperty("number").GetString()} is Cancelled and finished.", finished, StringComparison.Ordinal);
        Assert.DoesNotContain(": ;", finished, StringComparison.Ordinal);

        var refused = (await BodyAsync(await agent.PostAsync($"/api/tickets/{id}/actions/start", Json("{}")))).GetProperty("detail").GetString()!;
        Assert.StartsWith("An incident in state Cancelled cannot 'start'. No change of state", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requesters_see_only_their_own_tickets_and_tenants_never_see_each_other()
    {
        await using var app = await StandaloneApp.StartAsync();
        var (id, _, _) = await CreateAsync(app.As("ana"), """{"type":"Incident","title":"VPN"}""");

        Assert.Equal(HttpStatusCode.OK, (await app.As("ana").GetAsync($"/api/tickets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As("bo").GetAsync($"/api/tickets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.As("agent", "contoso", AppRoles.Agent).GetAsync($"/api/tickets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As("agent", "fabrikam", AppRoles.Agent).GetAsync($"/api/tickets/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.As("agent", "fabrikam", AppRoles.Agent).PostAsync($"/api/tickets/{id}/actions/comment", Json("""{"body":"hi"}"""))).StatusCode);
        var foreignList = await BodyAsync(await app.As("agent", "fabrikam", AppRoles.Agent).GetAsync("/api/tickets"));
        Assert.Equal(0, foreignList.GetProperty("items").GetArrayLength());
        var boList = await BodyAsync(await app.As("bo").GetAsync("/api/tickets"));
        Assert.Equal(0, boList.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Calls_without_a_valid_token_get_401_whatever_principal_headers_they_send()
    {
        await using var app = await StandaloneApp.StartAsync();
        var anonymous = app.App.GetTestClient();
        anonymous.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL-ID", "agent");
        anonymous.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL", Convert.ToBase64String(Encoding.UTF8.GetBytes("""{"claims":[{"typ":"roles","val":"Itsm.Admin"}]}""")));

        var response = await anonymous.GetAsync("/api/tickets");
        anonymous.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not.a.token");
        var garbage = await anonymous.GetAsync("/api/tickets");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
    }

    [Fact]
    public async Task Patch_needs_if_match_and_of_two_writers_on_the_same_version_exactly_one_wins()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var (id, etag, _) = await CreateAsync(agent, """{"type":"Incident","title":"VPN"}""");

        var withoutEtag = await agent.PatchAsync($"/api/tickets/{id}", Json("""{"assignmentGroup":"Network"}"""));
        Assert.Equal((HttpStatusCode)428, withoutEtag.StatusCode);

        HttpRequestMessage Patch(string body)
        {
            var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = Json(body) };
            request.Headers.TryAddWithoutValidation("If-Match", etag);
            return request;
        }

        var results = await Task.WhenAll(agent.SendAsync(Patch("""{"assignmentGroup":"Network"}""")), agent.SendAsync(Patch("""{"assignmentGroup":"Service Desk"}""")));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], results.Select(r => r.StatusCode).Order());
        var winner = await BodyAsync(results.Single(r => r.StatusCode == HttpStatusCode.OK));
        var stored = await BodyAsync(await agent.GetAsync($"/api/tickets/{id}"));
        Assert.Equal(winner.GetProperty("assignmentGroup").GetString(), stored.GetProperty("assignmentGroup").GetString());
        var stale = await agent.SendAsync(Patch("""{"category":"Network"}"""));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
    }

    [Fact]
    public async Task An_incident_is_worked_to_closure_and_the_history_records_each_step_with_old_and_new_values()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var (id, _, _) = await CreateAsync(app.As("ana"), """{"type":"Incident","title":"VPN","impact":2,"urgency":2}""");

        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/tickets/{id}/actions/start", null)).StatusCode);
        var missingNotes = await agent.PostAsync($"/api/tickets/{id}/actions/resolve", Json("""{"resolutionCode":"Fixed"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, missingNotes.StatusCode);
        Assert.True((await BodyAsync(missingNotes)).GetProperty("errors").TryGetProperty("resolutionNotes", out _));
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/tickets/{id}/actions/resolve", Json("""{"resolutionCode":"Fixed","resolutionNotes":"New VPN profile."}"""))).StatusCode);
        var closed = await app.As("ana").PostAsync($"/api/tickets/{id}/actions/close", null);
        Assert.Equal(HttpStatusCode.OK, closed.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await agent.PostAsync($"/api/tickets/{id}/actions/reopen", null)).StatusCode);

        // The default SLA policies' clocks add their own internal events (sla.*); the people's steps are these.
        var history = (await BodyAsync(await agent.GetAsync($"/api/tickets/{id}/history"))).GetProperty("items").EnumerateArray()
            .Where(e => !e.GetProperty("action").GetString()!.StartsWith("sla.", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["created", "start", "resolve", "close"], history.Select(e => e.GetProperty("action").GetString()));
        var stateChange = history[1].GetProperty("changes").EnumerateArray().Single(c => c.GetProperty("field").GetString() == "state");
        Assert.Equal(("New", "InProgress"), (stateChange.GetProperty("old").GetString(), stateChange.GetProperty("new").GetString()));
        Assert.Equal("agent", history[1].GetProperty("actor").GetString());
        Assert.Equal("ana", history[3].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task Work_notes_stay_internal_while_comments_reach_the_requester()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var ana = app.As("ana");
        var (id, _, _) = await CreateAsync(ana, """{"type":"Incident","title":"VPN"}""");

        await agent.PostAsync($"/api/tickets/{id}/actions/work-note", Json("""{"body":"Vendor case 4711 opened."}"""));
        await agent.PostAsync($"/api/tickets/{id}/actions/comment", Json("""{"body":"We are on it."}"""));
        var anaNote = await ana.PostAsync($"/api/tickets/{id}/actions/work-note", Json("""{"body":"sneaky"}"""));

        Assert.Equal(HttpStatusCode.Forbidden, anaNote.StatusCode);
        var anaComments = (await BodyAsync(await ana.GetAsync($"/api/tickets/{id}/comments"))).GetProperty("items");
        Assert.Equal(["We are on it."], anaComments.EnumerateArray().Select(c => c.GetProperty("body").GetString()));
        var agentComments = (await BodyAsync(await agent.GetAsync($"/api/tickets/{id}/comments"))).GetProperty("items");
        Assert.Equal(2, agentComments.GetArrayLength());
        var anaHistory = (await BodyAsync(await ana.GetAsync($"/api/tickets/{id}/history"))).GetProperty("items");
        Assert.DoesNotContain(anaHistory.EnumerateArray(), e => e.GetProperty("action").GetString() == "work-note");
    }

    [Fact]
    public async Task The_history_exports_as_csv_with_formula_cells_neutralised()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var (id, _, _) = await CreateAsync(agent, """{"type":"Incident","title":"=HYPERLINK(\"http://evil\")"}""");

        var response = await agent.GetAsync($"/api/tickets/{id}/history?format=csv");

        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var csv = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("at,actor,channel,action,field,old,new\n", csv, StringComparison.Ordinal);
        Assert.Contains(",created,title,,", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",\"=HYPERLINK", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_through_a_filtered_list_returns_every_ticket_once_even_while_new_ones_arrive()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        for (var i = 0; i < 23; i++)
        {
            await CreateAsync(agent, $$"""{"type":"Incident","title":"Outage {{i}}","impact":{{(i % 3) + 1}},"urgency":1}""");
            app.Clock.Advance(TimeSpan.FromSeconds(1));
        }

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var url = "/api/tickets?sort=createdAt&pageSize=5" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token));
            var page = await BodyAsync(await agent.GetAsync(url));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("number").GetString()!));
            token = page.TryGetProperty("continuationToken", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            if (pages++ == 1)
            {
                await CreateAsync(agent, """{"type":"Incident","title":"Arrived while paging","impact":3,"urgency":3}""");
            }
        }
        while (token is not null);

        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(Enumerable.Range(1001, 23).Select(n => $"INC000{n}"), seen.Take(23));

        var p1 = await BodyAsync(await agent.GetAsync("/api/tickets?priority=1&state=New"));
        Assert.Equal(8, p1.GetProperty("items").GetArrayLength());
        var bad = await agent.GetAsync("/api/tickets?priority=9&colour=red&pageSize=1000");
        var errors = (await BodyAsync(bad)).GetProperty("errors");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True(errors.TryGetProperty("priority", out _) && errors.TryGetProperty("colour", out _) && errors.TryGetProperty("pageSize", out _));
    }

    [Fact]
    public async Task Merging_a_duplicate_closes_it_and_makes_its_requester_a_watcher_of_the_survivor()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var (survivor, _, _) = await CreateAsync(app.As("ana"), """{"type":"Incident","title":"Email down"}""");
        var (duplicate, _, _) = await CreateAsync(app.As("bo"), """{"type":"Incident","title":"Cannot send mail"}""");

        var response = await agent.PostAsync($"/api/tickets/{duplicate}/actions/merge", Json($$"""{"into":"{{survivor}}"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var closed = await BodyAsync(response);
        Assert.Equal("Closed", closed.GetProperty("state").GetString());
        Assert.Equal("DuplicateOf", closed.GetProperty("links")[0].GetProperty("kind").GetString());
        var merged = await BodyAsync(await agent.GetAsync($"/api/tickets/{survivor}"));
        Assert.Equal(["bo"], merged.GetProperty("watchers").EnumerateArray().Select(w => w.GetString()));
    }

    [Fact]
    public async Task Only_change_managers_authorise_changes()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("agent", "contoso", AppRoles.Agent);
        var (id, _, _) = await CreateAsync(agent, """
            {"type":"Change","title":"Patch VPN gateway","change":{"changeType":"Normal","plannedStart":"2026-03-05T20:00:00Z","plannedEnd":"2026-03-05T22:00:00Z","implementationPlan":"Patch.","backoutPlan":"Restore snapshot."}}
            """);
        await agent.PostAsync($"/api/tickets/{id}/actions/submit", null);

        var byAgent = await agent.PostAsync($"/api/tickets/{id}/actions/authorize", null);
        var byManager = await app.As("cm", "contoso", AppRoles.ChangeManager).PostAsync($"/api/tickets/{id}/actions/authorize", null);

        Assert.Equal(HttpStatusCode.Forbidden, byAgent.StatusCode);
        Assert.Equal("Scheduled", (await BodyAsync(byManager)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_admin_sets_the_tenants_priority_matrix_and_new_tickets_follow_it_in_that_tenant_only()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "contoso", AppRoles.Admin);
        const string escalating = """{"matrix":[[1,1,2],[1,2,3],[2,3,4]]}""";

        var byAgent = await app.As("agent", "contoso", AppRoles.Agent).PutAsync("/api/manage/priority-matrix", Json(escalating));
        var invalid = await admin.PutAsync("/api/manage/priority-matrix", Json("""{"matrix":[[3,2,1],[2,3,4],[3,4,5]]}"""));
        var accepted = await admin.PutAsync("/api/manage/priority-matrix", Json(escalating));
        var (_, _, contoso) = await CreateAsync(app.As("ana"), """{"type":"Incident","title":"VPN","impact":2,"urgency":2}""");
        var (_, _, fabrikam) = await CreateAsync(app.As("ana", "fabrikam"), """{"type":"Incident","title":"VPN","impact":2,"urgency":2}""");

        Assert.Equal(HttpStatusCode.Forbidden, byAgent.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(2, contoso.GetProperty("priority").GetInt32());
        Assert.Equal(3, fabrikam.GetProperty("priority").GetInt32());
    }
}
