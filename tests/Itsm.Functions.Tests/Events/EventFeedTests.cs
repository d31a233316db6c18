using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Approvals;
using Itsm.Functions.Changes;
using Itsm.Functions.Events;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Events;

/// <summary>The event feed end to end through the standalone host: what changes appear, in order, per tenant, resumable, purged.</summary>
public class EventFeedTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<(string Id, string ETag)> CreateTicketAsync(HttpClient client, string type = "Incident", string title = "Printer on fire")
    {
        var response = await client.PostAsync("/api/tickets", Json($$"""{"type":"{{type}}","title":"{{title}}"}"""));
        var body = await BodyAsync(response);
        return (body.GetProperty("id").GetString()!, response.Headers.ETag!.Tag);
    }

    private static async Task<JsonElement[]> FeedAsync(HttpClient client, string query = "") =>
        [.. (await BodyAsync(await client.GetAsync("/api/events" + query))).GetProperty("items").EnumerateArray()];

    [Fact]
    public async Task Ticket_and_ci_changes_appear_in_the_tenants_feed_in_order_with_dense_positions()
    {
        await using var app = await StandaloneApp.StartAsync();
        var sam = app.As("sam", "contoso", AppRoles.Agent);

        var (ticketId, etag) = await CreateTicketAsync(sam);
        using var patch = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{ticketId}") { Content = Json("""{"impact":1}""") };
        patch.Headers.TryAddWithoutValidation("If-Match", etag);
        await BodyAsync(await sam.SendAsync(patch));
        var ci = await BodyAsync(await sam.PostAsync("/api/cis", Json("""{"class":"server","name":"web-01"}""")));
        var (changeId, _) = await CreateTicketAsync(sam, "Change", "Patch web-01");

        var events = await FeedAsync(sam);

        Assert.Equal([1L, 2L, 3L, 4L], events.Select(e => e.GetProperty("position").GetInt64()));
        Assert.Equal(["ticket.created", "ticket.updated", "ci.created", "change.created"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(ticketId, events[1].GetProperty("subject").GetProperty("id").GetString());
        Assert.Equal(2, events[1].GetProperty("subject").GetProperty("revision").GetInt32());
        Assert.Equal(1, events[1].GetProperty("data").GetProperty("impact").GetInt32());
        Assert.Equal(ticketId, events[1].GetProperty("sessionKey").GetString());
        Assert.Equal(ci.GetProperty("id").GetString(), events[2].GetProperty("subject").GetProperty("id").GetString());
        Assert.Equal(changeId, events[3].GetProperty("sessionKey").GetString());
        Assert.Equal(4, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task A_reader_pages_through_the_feed_and_resumes_from_its_cursor_without_missing_or_repeating_an_event()
    {
        await using var app = await StandaloneApp.StartAsync();
        var sam = app.As("sam", "contoso", AppRoles.Agent);
        for (var i = 0; i < 5; i++)
        {
            await CreateTicketAsync(sam, title: $"Ticket {i}");
        }

        var first = await BodyAsync(await sam.GetAsync("/api/events?limit=2"));
        var second = await BodyAsync(await sam.GetAsync($"/api/events?limit=2&after={first.GetProperty("next").GetString()}"));
        var rest = await BodyAsync(await sam.GetAsync($"/api/events?limit=2&after={second.GetProperty("next").GetString()}"));
        await CreateTicketAsync(sam, title: "Later");
        var later = await BodyAsync(await sam.GetAsync($"/api/events?after={rest.GetProperty("next").GetString()}"));
        var nothingNew = await BodyAsync(await sam.GetAsync($"/api/events?after={later.GetProperty("next").GetString()}"));

        Assert.Equal("2", first.GetProperty("next").GetString());
        Assert.True(first.GetProperty("hasMore").GetBoolean());
        Assert.True(second.GetProperty("hasMore").GetBoolean());
        Assert.False(rest.GetProperty("hasMore").GetBoolean());
        Assert.Equal(
            ["Ticket 0", "Ticket 1", "Ticket 2", "Ticket 3", "Ticket 4", "Later"],
            new[] { first, second, rest, later }.SelectMany(p => p.GetProperty("items").EnumerateArray()).Select(e => e.GetProperty("data").GetProperty("title").GetString()));
        Assert.Empty(nothingNew.GetProperty("items").EnumerateArray());
        Assert.Equal("6", nothingNew.GetProperty("next").GetString());
        Assert.False(nothingNew.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Tenants_see_only_their_own_events_requesters_none_and_bad_cursors_are_named()
    {
        await using var app = await StandaloneApp.StartAsync();
        await CreateTicketAsync(app.As("sam", "contoso", AppRoles.Agent));
        var fabrikam = app.As("fay", "fabrikam", AppRoles.Admin);

        var requester = await app.As("ana", "contoso").GetAsync("/api/events");
        var badAfter = await app.As("sam", "contoso", AppRoles.Agent).GetAsync("/api/events?after=-3&limit=9999&type=ticket.deleted");
        var problem = await badAfter.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Empty(await FeedAsync(fabrikam));
        Assert.Equal(HttpStatusCode.Forbidden, requester.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badAfter.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("after", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("limit", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("type", out _));
    }

    [Fact]
    public async Task The_feed_filters_by_event_type()
    {
        await using var app = await StandaloneApp.StartAsync();
        var sam = app.As("sam", "contoso", AppRoles.Agent);
        await CreateTicketAsync(sam);
        await CreateTicketAsync(sam, "Change", "Reboot");

        var changes = await FeedAsync(sam, "?type=change.created,change.updated");

        Assert.Equal(["change.created"], changes.Select(e => e.GetProperty("type").GetString()));
        Assert.Equal(2, changes[0].GetProperty("position").GetInt64());
    }

    [Fact]
    public async Task Approval_records_written_and_decided_appear_as_approval_events_keyed_by_their_change()
    {
        await using var app = await StandaloneApp.StartAsync();
        var sam = app.As("sam", "contoso", AppRoles.Agent);
        var (changeId, _) = await CreateTicketAsync(sam, "Change", "Swap the core switch");
        var approvals = app.Services.GetRequiredService<ApprovalStore>();
        var record = new ApprovalRecord
        {
            Id = "appr-1",
            TenantId = "contoso",
            SubjectId = changeId,
            SubjectNumber = "CHG0001001",
            Title = "Swap the core switch",
            Risk = ChangeRisk.Unassessed,
            PolicyId = "p",
            PolicyName = "Policy",
            State = ApprovalState.Pending,
            Levels = [],
            CreatedAt = app.Clock.GetUtcNow(),
        };

        var created = await approvals.CreateAsync(record, CancellationToken.None);
        await approvals.ReplaceAsync(record with { State = ApprovalState.Approved, CompletedAt = app.Clock.GetUtcNow() }, created.ETag, CancellationToken.None);
        var stale = await Assert.ThrowsAsync<Itsm.Functions.Storage.PreconditionFailedException>(() => approvals.ReplaceAsync(record with { State = ApprovalState.Rejected }, created.ETag, CancellationToken.None));

        var events = (await FeedAsync(sam, "?type=approval.created,approval.updated"));
        Assert.NotNull(stale);
        Assert.Equal(["approval.created", "approval.updated"], events.Select(e => e.GetProperty("type").GetString()));
        Assert.All(events, e => Assert.Equal(changeId, e.GetProperty("sessionKey").GetString()));
        Assert.Equal("Approved", events[1].GetProperty("data").GetProperty("state").GetString());
    }

    [Fact]
    public async Task Events_older_than_the_retention_are_purged_positions_never_repeat_and_an_old_cursor_is_told_it_missed_some()
    {
        await using var app = await StandaloneApp.StartAsync(settings: new Dictionary<string, string?> { ["Itsm:Events:Retention"] = "2.00:00:00" });
        var sam = app.As("sam", "contoso", AppRoles.Agent);
        await BodyAsync(await sam.PostAsync("/api/cis", Json("""{"class":"server","name":"old-1"}""")));
        await BodyAsync(await sam.PostAsync("/api/cis", Json("""{"class":"server","name":"old-2"}""")));
        app.Clock.Advance(TimeSpan.FromDays(3));
        var functions = ActivatorUtilities.CreateInstance<EventFunctions>(app.Services);

        await functions.EventsPurge(null!, CancellationToken.None);
        var sam2 = app.As("sam", "contoso", AppRoles.Agent);
        await BodyAsync(await sam2.PostAsync("/api/cis", Json("""{"class":"server","name":"new"}""")));
        var page = await BodyAsync(await sam2.GetAsync("/api/events?after=0"));

        var only = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(3, only.GetProperty("position").GetInt64());
        Assert.Equal("new", only.GetProperty("data").GetProperty("name").GetString());
        Assert.Equal("3", page.GetProperty("oldest").GetString());
        Assert.True(page.GetProperty("truncated").GetBoolean());
    }
}
