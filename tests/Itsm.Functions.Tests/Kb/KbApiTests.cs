using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Kb;
using Itsm.Functions.Notifications;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Kb;

/// <summary>The knowledge base end to end through the standalone host: lifecycle, roles, search, known errors, feedback, tenants, review reminders.</summary>
public class KbApiTests
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private static async Task<(string Id, string ETag)> CreateAsync(HttpClient agent, string json)
    {
        var response = await agent.PostAsync("/api/kb/articles", Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return ((await BodyAsync(response)).GetProperty("id").GetString()!, response.Headers.ETag!.Tag);
    }

    private static async Task<HttpResponseMessage> ActAsync(HttpClient client, string id, string etag, string action, string? comment = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/kb/articles/{id}/transitions")
        {
            Content = Json(comment is null ? $$"""{"action":"{{action}}"}""" : $$"""{"action":"{{action}}","comment":"{{comment}}"}"""),
        };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return await client.SendAsync(request);
    }

    /// <summary>Writes, submits and publishes an article; returns its id.</summary>
    private static async Task<string> PublishedAsync(StandaloneApp app, string json, string tenant = "contoso")
    {
        var agent = app.As("sam", tenant, AppRoles.Agent);
        var admin = app.As("ada", tenant, AppRoles.Admin);
        var (id, etag) = await CreateAsync(agent, json);
        var submitted = await ActAsync(agent, id, etag, "Submit");
        var published = await ActAsync(admin, id, submitted.Headers.ETag!.Tag, "Publish");
        Assert.True(published.StatusCode == HttpStatusCode.OK, await published.Content.ReadAsStringAsync());
        return id;
    }

    private static async Task<List<string>> SearchAsync(HttpClient client, string q)
    {
        var response = await client.GetAsync($"/api/kb/search?q={Uri.EscapeDataString(q)}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await BodyAsync(response)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("article").GetProperty("id").GetString()!).ToList();
    }

    [Fact]
    public async Task A_draft_goes_through_review_to_search_and_leaves_it_when_retired()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var admin = app.As("ada", "contoso", AppRoles.Admin);
        var requester = app.As("ana");

        var (id, etag) = await CreateAsync(agent, """{"title":"VPN disconnects every hour","summary":"Renew the VPN profile.","body":"Open Company Portal, remove the VPN profile and install it again.","keywords":["anyconnect"]}""");
        var draftForRequester = await requester.GetAsync($"/api/kb/articles/{id}");
        var draftSearch = await SearchAsync(requester, "vpn profile");
        var submitted = await ActAsync(agent, id, etag, "Submit");
        var agentPublishes = await ActAsync(agent, id, submitted.Headers.ETag!.Tag, "Publish");
        var staleEtag = await ActAsync(admin, id, etag, "Publish");
        var published = await ActAsync(admin, id, submitted.Headers.ETag!.Tag, "Publish");
        var found = await SearchAsync(requester, "VPN disconnect");
        var byKeyword = await SearchAsync(requester, "AnyConnect");
        var read = await BodyAsync(await requester.GetAsync($"/api/kb/articles/{id}"));
        var editPublished = new HttpRequestMessage(HttpMethod.Patch, $"/api/kb/articles/{id}") { Content = Json("""{"body":"changed"}""") };
        editPublished.Headers.TryAddWithoutValidation("If-Match", published.Headers.ETag!.Tag);
        var editResponse = await agent.SendAsync(editPublished);
        var retired = await ActAsync(agent, id, published.Headers.ETag!.Tag, "Retire");
        var afterRetire = await SearchAsync(requester, "VPN disconnect");
        var history = await BodyAsync(await agent.GetAsync($"/api/kb/articles/{id}/history"));

        Assert.Equal(HttpStatusCode.NotFound, draftForRequester.StatusCode);
        Assert.Empty(draftSearch);
        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, agentPublishes.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleEtag.StatusCode);
        Assert.Equal([id], found);
        Assert.Equal([id], byKeyword);
        Assert.Equal(("Published", 1), (read.GetProperty("state").GetString(), read.GetProperty("version").GetInt32()));
        Assert.False(read.TryGetProperty("searchText", out _));
        Assert.Equal(HttpStatusCode.BadRequest, editResponse.StatusCode);
        Assert.True((await BodyAsync(editResponse)).GetProperty("errors").TryGetProperty("body", out _));
        Assert.Equal(HttpStatusCode.OK, retired.StatusCode);
        Assert.Empty(afterRetire);
        Assert.Equal(["created", "submit", "publish", "retire"], history.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()));
    }

    [Fact]
    public async Task A_revised_article_keeps_the_text_of_every_published_version()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var admin = app.As("ada", "contoso", AppRoles.Admin);
        var id = await PublishedAsync(app, """{"title":"Reset MFA","body":"Call the service desk."}""");

        var current = await agent.GetAsync($"/api/kb/articles/{id}");
        var revised = await ActAsync(agent, id, current.Headers.ETag!.Tag, "Revise");
        var edit = new HttpRequestMessage(HttpMethod.Patch, $"/api/kb/articles/{id}") { Content = Json("""{"body":"Use the self-service portal."}""") };
        edit.Headers.TryAddWithoutValidation("If-Match", revised.Headers.ETag!.Tag);
        var edited = await agent.SendAsync(edit);
        Assert.True(edited.StatusCode == HttpStatusCode.OK, await edited.Content.ReadAsStringAsync());
        var submitted = await ActAsync(agent, id, edited.Headers.ETag!.Tag, "Submit");
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(admin, id, submitted.Headers.ETag!.Tag, "Publish")).StatusCode);

        var versions = await BodyAsync(await agent.GetAsync($"/api/kb/articles/{id}/versions"));
        var requester = await app.As("ana").GetAsync($"/api/kb/articles/{id}/versions");
        var otherTenant = await app.As("sam", "fabrikam", AppRoles.Agent).GetAsync($"/api/kb/articles/{id}/versions");

        Assert.Equal(
            [(1, "Call the service desk.", "ada"), (2, "Use the self-service portal.", "ada")],
            versions.GetProperty("items").EnumerateArray().Select(v => (v.GetProperty("version").GetInt32(), v.GetProperty("body").GetString(), v.GetProperty("publishedBy").GetString())));
        Assert.Equal(HttpStatusCode.Forbidden, requester.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal([id], await SearchAsync(app.As("ana"), "self-service portal"));
    }

    [Fact]
    public async Task Invalid_articles_name_every_field_and_requesters_cannot_write()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var invalid = await agent.PostAsync("/api/kb/articles", Json("""{"summary":"x","audience":"Martians","reviewAt":"2020-01-01T00:00:00Z","problems":["nope"],"cis":["ghost"],"extra":1}"""));
        var byRequester = await app.As("ana").PostAsync("/api/kb/articles", Json("""{"title":"t","body":"b"}"""));
        var list = await BodyAsync(await agent.GetAsync("/api/kb/articles"));

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var errors = (await BodyAsync(invalid)).GetProperty("errors");
        foreach (var field in new[] { "title", "body", "audience", "reviewAt", "problems[0]", "cis[0]", "extra" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }

        Assert.Equal(HttpStatusCode.Forbidden, byRequester.StatusCode);
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Tenants_and_audiences_are_kept_apart_in_reads_lists_and_search()
    {
        await using var app = await StandaloneApp.StartAsync();
        var everyone = await PublishedAsync(app, """{"title":"Printer jams on tray 2","body":"Remove the paper from tray 2."}""");
        var internalOnly = await PublishedAsync(app, """{"title":"Printer firmware rollback","body":"Agents: roll the printer firmware back.","audience":"Agents"}""");
        await PublishedAsync(app, """{"title":"Printer in Fabrikam","body":"Fabrikam printer notes."}""", tenant: "fabrikam");

        var requesterSearch = await SearchAsync(app.As("ana"), "printer");
        var agentSearch = await SearchAsync(app.As("kim", "contoso", AppRoles.Agent), "printer");
        var otherTenant = await app.As("fred", "fabrikam", AppRoles.Admin).GetAsync($"/api/kb/articles/{everyone}");
        var internalForRequester = await app.As("ana").GetAsync($"/api/kb/articles/{internalOnly}");
        var requesterList = await BodyAsync(await app.As("ana").GetAsync("/api/kb/articles"));

        Assert.Equal([everyone], requesterSearch);
        Assert.Equal(new[] { everyone, internalOnly }.Order(), agentSearch.Order());
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, internalForRequester.StatusCode);
        Assert.Equal([everyone], requesterList.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task A_problems_workaround_becomes_a_known_error_that_its_incidents_show()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var requester = app.As("ana");
        var problem = await BodyAsync(await agent.PostAsync("/api/tickets", Json("""{"type":"Problem","title":"Outlook crashes on start","problem":{"workaround":"Start Outlook with /safe and disable the add-in."}}""")));
        var problemId = problem.GetProperty("id").GetString()!;
        var noWorkaround = (await BodyAsync(await agent.PostAsync("/api/tickets", Json("""{"type":"Problem","title":"Slow wifi"}""")))).GetProperty("id").GetString()!;
        var incident = (await BodyAsync(await requester.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Outlook will not open"}""")))).GetProperty("id").GetString()!;
        var linked = await agent.PostAsync($"/api/tickets/{incident}/actions/link", Json($$"""{"kind":"CausedBy","ticketId":"{{problemId}}"}"""));
        Assert.True(linked.IsSuccessStatusCode, await linked.Content.ReadAsStringAsync());

        var refused = await agent.PostAsync("/api/kb/known-errors", Json($$"""{"problemId":"{{noWorkaround}}"}"""));
        var byRequester = await requester.PostAsync("/api/kb/known-errors", Json($$"""{"problemId":"{{problemId}}"}"""));
        var created = await agent.PostAsync("/api/kb/known-errors", Json($$"""{"problemId":"{{problemId}}"}"""));
        var again = await agent.PostAsync("/api/kb/known-errors", Json($$"""{"problemId":"{{problemId}}"}"""));
        var shown = await BodyAsync(await requester.GetAsync($"/api/tickets/{incident}/articles"));
        var strangerSees = await app.As("bob").GetAsync($"/api/tickets/{incident}/articles");
        var found = await SearchAsync(requester, "outlook safe");

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("workaround", (await BodyAsync(refused)).GetProperty("errors").GetProperty("problemId")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, byRequester.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var article = await BodyAsync(created);
        Assert.Equal(("KnownError", "Published"), (article.GetProperty("kind").GetString(), article.GetProperty("state").GetString()));
        Assert.Equal([problemId], article.GetProperty("problems").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(2, (await BodyAsync(again)).GetProperty("version").GetInt32());
        var item = Assert.Single(shown.GetProperty("items").EnumerateArray());
        Assert.Equal(("ke-" + problemId, "KnownError"), (item.GetProperty("id").GetString(), item.GetProperty("kind").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, strangerSees.StatusCode);
        Assert.Equal(["ke-" + problemId], found);
    }

    [Fact]
    public async Task Suggestions_for_a_ticket_being_raised_rank_the_best_match_first()
    {
        await using var app = await StandaloneApp.StartAsync();
        var vpn = await PublishedAsync(app, """{"title":"VPN disconnects every hour","body":"Renew the VPN profile in Company Portal."}""");
        var printer = await PublishedAsync(app, """{"title":"Printer offline","body":"Restart the print spooler."}""");
        await PublishedAsync(app, """{"title":"Password reset","body":"Use the self-service password portal."}""");

        var response = await app.As("ana").PostAsync("/api/kb/suggestions", Json("""{"title":"My VPN keeps dropping","description":"It disconnects every few minutes; printing still works."}"""));
        var missingTitle = await app.As("ana").PostAsync("/api/kb/suggestions", Json("""{"description":"x"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ids = (await BodyAsync(response)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("article").GetProperty("id").GetString()).ToList();
        Assert.Equal([vpn], ids);
        Assert.DoesNotContain(printer, ids);
        Assert.Equal(HttpStatusCode.BadRequest, missingTitle.StatusCode);
    }

    [Fact]
    public async Task Did_this_help_counts_one_answer_per_person_and_the_latest_wins()
    {
        await using var app = await StandaloneApp.StartAsync();
        var id = await PublishedAsync(app, """{"title":"Teams camera","body":"Allow the camera in Settings."}""");
        var etagBefore = (await app.As("sam", "contoso", AppRoles.Agent).GetAsync($"/api/kb/articles/{id}")).Headers.ETag!.Tag;

        await app.As("ana").PostAsync($"/api/kb/articles/{id}/feedback", Json("""{"helpful":true}"""));
        await app.As("bob").PostAsync($"/api/kb/articles/{id}/feedback", Json("""{"helpful":true}"""));
        await app.As("ana").PostAsync($"/api/kb/articles/{id}/feedback", Json("""{"helpful":false,"comment":"Still black."}"""));
        var invalid = await app.As("ana").PostAsync($"/api/kb/articles/{id}/feedback", Json("""{"helpful":"yes"}"""));
        var read = await app.As("sam", "contoso", AppRoles.Agent).GetAsync($"/api/kb/articles/{id}");
        var feedback = (await BodyAsync(read)).GetProperty("feedback");

        Assert.Equal((1, 1), (feedback.GetProperty("helpful").GetInt32(), feedback.GetProperty("notHelpful").GetInt32()));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(etagBefore, read.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task The_owner_is_reminded_once_when_the_review_date_passes()
    {
        await using var app = await StandaloneApp.StartAsync();
        var id = await PublishedAsync(app, $$"""{"title":"Laptop encryption","body":"BitLocker steps.","owner":"sam@contoso.com","reviewAt":"{{StandaloneApp.Epoch.AddDays(30):O}}"}""");
        var reminders = app.Services.GetRequiredService<KbReviewReminders>();
        var outbox = app.Services.GetRequiredService<NotificationOutbox>();
        async Task<List<OutboxNotification>> DueAsync() =>
            (await outbox.ListAsync("contoso", null, 100, null, CancellationToken.None)).Items.Select(i => i.Document).Where(n => n.EventKind == NotificationEventKinds.KbReviewDue).ToList();

        await reminders.RunAsync(CancellationToken.None);
        var before = await DueAsync();
        app.Clock.Advance(TimeSpan.FromDays(31));
        await reminders.RunAsync(CancellationToken.None);
        await reminders.RunAsync(CancellationToken.None);
        var after = await DueAsync();

        Assert.Empty(before);
        var reminder = Assert.Single(after);
        Assert.Equal("sam@contoso.com", reminder.Recipient.Email);
        Assert.Contains(id, reminder.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_document_store_search_used_on_cosmos_finds_what_fts5_finds()
    {
        await using var app = await StandaloneApp.StartAsync();
        var vpn = await PublishedAsync(app, """{"title":"VPN disconnects every hour","body":"Renew the VPN profile."}""");
        var wifi = await PublishedAsync(app, """{"title":"Wi-Fi slow in building B","body":"Réseau: move to the 5 GHz network."}""");
        await PublishedAsync(app, """{"title":"Internal VPN notes","body":"Gateway logs.","audience":"Agents"}""");
        var fts = app.Services.GetRequiredService<IKbSearchIndex>();
        var portable = new DocumentStoreKbSearchIndex(app.Services.GetRequiredService<KbStore>());
        ArticleAudience[] everyone = [ArticleAudience.Everyone];

        foreach (var (terms, all, expected) in new (string[], bool, string[])[]
        {
            (["vpn", "profile"], true, [vpn]),
            (["reseau"], true, [wifi]),
            (["vpn", "wi"], false, [vpn, wifi]),
            (["nothing"], true, []),
        })
        {
            var a = (await fts.SearchAsync("contoso", terms, all, everyone, 10, CancellationToken.None)).Select(h => h.ArticleId).Order().ToList();
            var b = (await portable.SearchAsync("contoso", terms, all, everyone, 10, CancellationToken.None)).Select(h => h.ArticleId).Order().ToList();
            Assert.Equal(expected.Order().ToList(), a);
            Assert.Equal(a, b);
        }

        Assert.IsType<SqliteKbSearchIndex>(fts);
    }
}
