using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Itsm.Functions.Reports;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Reports;

/// <summary>The reports API end to end through the standalone host: tickets worked through the API, then read as reports, CSV and charts.</summary>
public class ReportApiTests
{
    private const string Range = "from=2026-03-01&to=2026-03-10";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<string> CreateAsync(HttpClient agent, string group, int impact)
    {
        var ticket = await BodyAsync(await agent.PostAsync("/api/tickets", Json($$"""{"type":"Incident","title":"VPN down","impact":{{impact}},"urgency":{{impact}},"assignmentGroup":"{{group}}"}""")));
        return ticket.GetProperty("id").GetString()!;
    }

    private static async Task ActAsync(HttpClient agent, string id, string action, string body = "{}") =>
        await BodyAsync(await agent.PostAsync($"/api/tickets/{id}/actions/{action}", Json(body)));

    private const string Resolve = """{"resolutionCode":"Fixed","resolutionNotes":"New VPN profile."}""";

    /// <summary>Three incidents on Monday 2 March: one resolved after 2 hours, one resolved, reopened and resolved again, one left open.</summary>
    private static async Task<StandaloneApp> WorkedTenantAsync()
    {
        var app = await StandaloneApp.StartAsync();
        var agent = app.As("bob", "contoso", AppRoles.Agent);
        var a = await CreateAsync(agent, "Network", 1);
        var b = await CreateAsync(agent, "Service Desk", 3);
        await CreateAsync(agent, "<b>Desk & Co</b>", 3);
        app.Clock.Advance(TimeSpan.FromMinutes(30));
        await ActAsync(agent, a, "start");
        app.Clock.Advance(TimeSpan.FromMinutes(90));
        await ActAsync(agent, a, "resolve", Resolve);
        await ActAsync(agent, b, "resolve", Resolve);
        app.Clock.Advance(TimeSpan.FromHours(1));
        await ActAsync(agent, b, "reopen");
        app.Clock.Advance(TimeSpan.FromDays(1));
        agent = app.As("bob", "contoso", AppRoles.Agent); // a fresh token: dev tokens last 8 hours
        await ActAsync(agent, b, "resolve", Resolve);
        return app;
    }

    private static JsonElement RowOf(JsonElement report, string key) =>
        report.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == key).GetProperty("values");

    [Fact]
    public async Task An_agent_reads_mttr_reopen_rate_and_backlog_for_a_range_and_by_group()
    {
        await using var app = await WorkedTenantAsync();
        var agent = app.As("bob", "contoso", AppRoles.Agent);

        var mttr = await BodyAsync(await agent.GetAsync($"/api/reports/mttr?{Range}"));
        var monday = RowOf(mttr, "2026-03-02");
        Assert.Equal(1, monday.GetProperty("resolved").GetDouble());
        Assert.Equal(2, monday.GetProperty("mttrHours").GetDouble());
        Assert.Equal(10, mttr.GetProperty("rows").GetArrayLength());
        Assert.Equal("hours", mttr.GetProperty("unit").GetString());
        Assert.Equal(1, RowOf(mttr, "2026-03-03").GetProperty("resolved").GetDouble());

        var reopen = await BodyAsync(await agent.GetAsync($"/api/reports/reopen-rate?{Range}&by=all"));
        Assert.Equal(50, RowOf(reopen, "all").GetProperty("reopenRate").GetDouble());

        var mtta = await BodyAsync(await agent.GetAsync($"/api/reports/mtta?{Range}&by=group"));
        Assert.Equal(30, RowOf(mtta, "Network").GetProperty("mttaMinutes").GetDouble());

        // A range over whole months reads the months' roll-ups (and the days of the months it cuts): same figures.
        foreach (var wide in new[] { "from=2026-02-15&to=2026-04-30", "from=2026-03-01&to=2026-03-31", "from=2026-01-01&to=2026-05-03" })
        {
            Assert.Equal(30, RowOf(await BodyAsync(await agent.GetAsync($"/api/reports/mtta?{wide}&by=group")), "Network").GetProperty("mttaMinutes").GetDouble());
            Assert.Equal(50, RowOf(await BodyAsync(await agent.GetAsync($"/api/reports/reopen-rate?{wide}&by=all")), "all").GetProperty("reopenRate").GetDouble());
            var byPriority = await BodyAsync(await agent.GetAsync($"/api/reports/volume?{wide}&by=priority"));
            Assert.Equal(3, byPriority.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("values").GetProperty("created").GetDouble()));
        }

        var backlog = await BodyAsync(await agent.GetAsync($"/api/reports/backlog?{Range}&by=group"));
        Assert.Equal(1, RowOf(backlog, "<b>Desk & Co</b>").GetProperty("open").GetDouble());
        Assert.Equal(1, RowOf(backlog, "<b>Desk & Co</b>").GetProperty("age1to3d").GetDouble());

        var trend = await BodyAsync(await agent.GetAsync($"/api/reports/backlog?{Range}"));
        Assert.Equal(2, RowOf(trend, "2026-03-02").GetProperty("backlog").GetDouble()); // b reopened is open again at Monday's end
        Assert.Equal(1, RowOf(trend, "2026-03-03").GetProperty("backlog").GetDouble());
        Assert.Equal(0, RowOf(trend, "2026-03-01").GetProperty("backlog").GetDouble());
    }

    [Fact]
    public async Task Every_report_comes_as_csv_by_accept_header_or_format_and_as_an_svg_chart()
    {
        await using var app = await WorkedTenantAsync();
        var agent = app.As("bob", "contoso", AppRoles.Agent);
        var list = await BodyAsync(await agent.GetAsync("/api/reports"));
        var names = list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("name").GetString()!).ToList();
        Assert.Contains("mtta", names);
        Assert.Contains("satisfaction", names);

        foreach (var name in names)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/reports/{name}?{Range}&by=group");
            request.Headers.Accept.ParseAdd("text/csv");
            var csv = await agent.SendAsync(request);
            Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
            var text = await csv.Content.ReadAsStringAsync();
            Assert.StartsWith("group,", text, StringComparison.Ordinal);

            var byFormat = await agent.GetAsync($"/api/reports/{name}?{Range}&format=csv");
            Assert.StartsWith("period", await byFormat.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            foreach (var by in new[] { "", "&by=priority" })
            {
                var chart = await agent.GetAsync($"/api/reports/{name}/chart?{Range}{by}");
                Assert.Equal(HttpStatusCode.OK, chart.StatusCode);
                Assert.Equal("image/svg+xml", chart.Content.Headers.ContentType!.MediaType);
                var svg = XDocument.Parse(await chart.Content.ReadAsStringAsync());
                Assert.Equal("chart-title", svg.Root!.Attribute("aria-labelledby")!.Value);
            }
        }

        var mttrCsv = await (await agent.GetAsync($"/api/reports/mttr?{Range}&by=group&format=csv")).Content.ReadAsStringAsync();
        Assert.Contains("Network,1,2,", mttrCsv, StringComparison.Ordinal);
        var groupChart = await (await agent.GetAsync($"/api/reports/backlog/chart?{Range}&by=group")).Content.ReadAsStringAsync();
        Assert.Contains("&lt;b&gt;Desk &amp; Co&lt;/b&gt;", groupChart, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>", groupChart, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requesters_are_refused_and_another_tenant_sees_none_of_these_tickets()
    {
        await using var app = await WorkedTenantAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await app.As("ana").GetAsync($"/api/reports/mttr?{Range}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As("ana").GetAsync($"/api/reports/mttr/chart?{Range}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.As("bob", "contoso", AppRoles.Agent).PostAsync("/api/manage/reports/rebuild", Json("""{"confirm":true}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.GetAsync($"/api/reports/mttr?{Range}")).StatusCode);

        var other = await BodyAsync(await app.As("eve", "fabrikam", AppRoles.Admin).GetAsync($"/api/reports/volume?{Range}&by=all"));
        Assert.Empty(other.GetProperty("rows").EnumerateArray());
        var rebuilt = await BodyAsync(await app.As("eve", "fabrikam", AppRoles.Admin).PostAsync("/api/manage/reports/rebuild", Json("""{"confirm":true}""")));
        Assert.Equal(0, rebuilt.GetProperty("tickets").GetInt32());
        var contoso = await BodyAsync(await app.As("bob", "contoso", AppRoles.Agent).GetAsync($"/api/reports/volume?{Range}&by=all"));
        Assert.Equal(3, RowOf(contoso, "all").GetProperty("created").GetDouble());
    }

    [Fact]
    public async Task A_bad_range_or_breakdown_is_a_problem_naming_the_field_and_an_unknown_report_is_404()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("bob", "contoso", AppRoles.Agent);

        var bad = await agent.GetAsync("/api/reports/mttr?from=2026-13-01&by=colour&interval=year&format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("from", out _) && errors.TryGetProperty("by", out _) && errors.TryGetProperty("interval", out _) && errors.TryGetProperty("format", out _));
        var reversed = await agent.GetAsync("/api/reports/mttr?from=2026-03-10&to=2026-03-01");
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await agent.GetAsync("/api/reports/mttr?from=2020-01-01&to=2026-03-01")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await agent.GetAsync("/api/reports/nothing")).StatusCode);
        var unconfirmed = await app.As("root", "contoso", AppRoles.Admin).PostAsync("/api/manage/reports/rebuild", Json("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, unconfirmed.StatusCode);
        Assert.True((await unconfirmed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("confirm", out _));
    }

    [Fact]
    public async Task A_rebuild_from_the_tickets_gives_exactly_the_counters_kept_incrementally()
    {
        await using var app = await WorkedTenantAsync();
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var incremental = await SlicesAsync(store);
        Assert.NotEmpty(incremental);

        // Drift the counters on purpose, then rebuild.
        var any = incremental.First();
        await store.DeleteAsync(ReportStore.Reports, new DocumentKey("contoso", any.Key));
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var result = await BodyAsync(await admin.PostAsync("/api/manage/reports/rebuild", Json("""{"confirm":true}""")));

        Assert.Equal(3, result.GetProperty("tickets").GetInt32());
        var rebuilt = await SlicesAsync(store);
        Assert.Equal(incremental, rebuilt);

        // Counting goes on after the rebuild.
        var agent = app.As("bob", "contoso", AppRoles.Agent);
        await CreateAsync(agent, "Network", 2);
        var volume = await BodyAsync(await agent.GetAsync("/api/reports/volume?from=2026-03-01&to=2026-03-10&by=all"));
        Assert.Equal(4, RowOf(volume, "all").GetProperty("created").GetDouble());
    }

    private static async Task<SortedDictionary<string, string>> SlicesAsync(IDocumentStore store)
    {
        var page = await store.QueryAsync<ReportSlice>(ReportStore.Reports, new DocumentQuery("contoso", [new QueryFilter("docType", FilterOperator.Equals, ReportSlice.DocumentType)], null, 1000));
        return new SortedDictionary<string, string>(page.Items.ToDictionary(i => i.Key.Id, i => JsonSerializer.Serialize(i.Document.Values)), StringComparer.Ordinal);
    }
}
