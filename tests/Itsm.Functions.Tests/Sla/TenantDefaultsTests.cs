using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Sla;

/// <summary>A new tenant starts with SLA calendars and policies and a CAB policy, visible and replaceable through the manage API.</summary>
public class TenantDefaultsTests
{
    [Fact]
    public async Task A_new_tenant_sees_the_default_calendars_policies_and_cab_policy()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "fabrikam", AppRoles.Admin);

        var calendars = await admin.GetFromJsonAsync<JsonElement>("/api/manage/sla/calendars");
        Assert.Equal(["around-the-clock", "business-hours"], calendars.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("id").GetString()));
        var office = await admin.GetFromJsonAsync<JsonElement>("/api/manage/sla/calendars/business-hours");
        Assert.Equal(["08:00-17:00"], office.GetProperty("weeklyHours").GetProperty("monday").EnumerateArray().Select(h => h.GetString()));
        var policies = (await admin.GetFromJsonAsync<JsonElement>("/api/manage/sla/policies")).GetProperty("items").EnumerateArray().ToArray();
        Assert.Equal(["critical-incidents", "business-hours-service"], policies.Select(p => p.GetProperty("id").GetString()));
        Assert.All(policies, p => Assert.True(p.GetProperty("responseMinutes").EnumerateObject().Any() && p.GetProperty("resolutionMinutes").EnumerateObject().Any()));

        var approvals = await admin.GetFromJsonAsync<JsonElement>("/api/manage/approvals/settings");
        var cab = Assert.Single(approvals.GetProperty("policies").EnumerateArray());
        Assert.Equal(("cab", "Normal"), (cab.GetProperty("id").GetString(), cab.GetProperty("changeTypes")[0].GetString()));
        Assert.Equal(0, approvals.GetProperty("groups").GetProperty("cab").GetArrayLength());
    }

    [Fact]
    public async Task A_new_ticket_runs_on_the_default_policies_and_an_admin_replaces_them_as_new_versions()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "fabrikam", AppRoles.Agent);
        var admin = app.As("root", "fabrikam", AppRoles.Admin);

        var urgent = await CreateAsync(agent, """{"type":"Incident","title":"Core switch down","impact":1,"urgency":2}""");
        var clocks = (await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{urgent}/sla")).GetProperty("clocks").EnumerateArray().ToArray();
        var resolution = Assert.Single(clocks, c => c.GetProperty("key").GetString() == "resolution");
        Assert.Equal(("critical-incidents", "around-the-clock", "PT8H"), (resolution.GetProperty("policy").GetProperty("id").GetString(), resolution.GetProperty("calendar").GetProperty("id").GetString(), resolution.GetProperty("target").GetString()));

        var replaced = await admin.PutAsync("/api/manage/sla/calendars/business-hours", Json("""{"name":"Berlin office","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-17:00"],"tuesday":["08:00-17:00"]}}"""));
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal(2, (await replaced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
        var policy = await admin.PutAsync("/api/manage/sla/policies/business-hours-service", Json("""{"name":"Everything, office hours","calendarId":"business-hours","order":110,"resolutionMinutes":{"3":960}}"""));
        Assert.Equal(HttpStatusCode.OK, policy.StatusCode);
        Assert.Equal(2, (await policy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());

        // The defaults not replaced stay; the ticket's clock keeps version 1 of its calendar.
        var policies = (await admin.GetFromJsonAsync<JsonElement>("/api/manage/sla/policies")).GetProperty("items").EnumerateArray().Select(p => p.GetProperty("id").GetString());
        Assert.Equal(["critical-incidents", "business-hours-service"], policies);
        var later = await CreateAsync(agent, """{"type":"ServiceRequest","title":"New laptop","impact":2,"urgency":2}""");
        var clock = (await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{later}/sla")).GetProperty("clocks").EnumerateArray().Single(c => c.GetProperty("key").GetString() == "resolution");
        Assert.Equal(("business-hours-service", 2, "PT16H"), (clock.GetProperty("policy").GetProperty("id").GetString(), clock.GetProperty("calendar").GetProperty("version").GetInt32(), clock.GetProperty("target").GetString()));
    }

    [Fact]
    public async Task The_default_cab_approves_normal_changes_once_its_group_has_members()
    {
        await using var app = await StandaloneApp.StartAsync();
        var harness = new ApprovalHarness(app);
        var admin = app.As("root", "contoso", AppRoles.Admin);

        // An empty board cannot meet: the change is authorised by hand, as without a policy.
        var first = await harness.SubmitChangeAsync();
        Assert.Equal("Authorize", await harness.TicketStateAsync(first));
        Assert.Empty((await harness.Agent.GetFromJsonAsync<JsonElement>($"/api/changes/{first}/assessment")).GetProperty("approvals").EnumerateArray());

        // The admin adds members to the default settings and stores them.
        var settings = (await admin.GetFromJsonAsync<JsonElement>("/api/manage/approvals/settings")).GetRawText().Replace("\"cab\":[]", "\"cab\":[\"carol\"]", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/api/manage/approvals/settings", Json(settings))).StatusCode);

        var second = await harness.SubmitChangeAsync();
        var approval = await harness.ApprovalIdAsync(second);
        Assert.Equal("carol", Assert.Single(await harness.PromptsAsync(approval)).GetProperty("recipient").GetString());
        Assert.Equal(HttpStatusCode.OK, (await harness.DecideAsync("carol", approval, "Approve")).StatusCode);
        await harness.IdleAsync();
        Assert.Equal("Scheduled", await harness.TicketStateAsync(second));
    }

    private static async Task<string> CreateAsync(HttpClient client, string json)
    {
        var created = await client.PostAsync("/api/tickets", Json(json));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
