using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Approvals;

namespace Itsm.Functions.Tests.Changes;

/// <summary>
/// The standard change catalogue through the API: admins keep pre-approved templates (versioned), agents raise
/// standard changes only from active templates, and such a change is scheduled without an approval, on record as
/// pre-approved by the template version it came from.
/// </summary>
public class StandardChangeTemplateTests
{
    private const string CertRenewal = """
        {"name":"TLS certificate renewal","description":"Renew an expiring certificate on a load balancer.",
         "implementationPlan":"Upload the new certificate and switch the listener.","backoutPlan":"Switch the listener back to the old certificate.",
         "durationMinutes":30,"category":"Certificates","assignmentGroup":"network-team","configurationItems":["lb-01"]}
        """;

    private static HttpClient Admin(ApprovalHarness h) => h.App.As("root", "contoso", AppRoles.Admin);

    private static async Task<ApprovalHarness> StartAsync()
    {
        var h = await ApprovalHarness.StartAsync("""{"policies":[{"id":"cab","name":"CAB","levels":[{"name":"CAB","approvers":[{"kind":"User","id":"carol"}]}]}]}""");
        Assert.Equal(HttpStatusCode.Created, (await Admin(h).PutAsync("/api/manage/changes/templates/cert-renewal", ApprovalHarness.Json(CertRenewal))).StatusCode);
        return h;
    }

    private static async Task<HttpResponseMessage> RaiseAsync(ApprovalHarness h, string template = "cert-renewal", string? body = null) =>
        await h.Agent.PostAsync($"/api/changes/templates/{template}/changes", ApprovalHarness.Json(body ?? $$"""{"plannedStart":"{{h.App.Clock.GetUtcNow().AddDays(2):O}}"}"""));

    [Fact]
    public async Task A_change_raised_from_a_template_takes_its_plans_and_duration_and_is_scheduled_as_pre_approved()
    {
        await using var h = await StartAsync();
        var start = h.App.Clock.GetUtcNow().AddDays(2);

        var raised = await RaiseAsync(h, body: $$"""{"plannedStart":"{{start:O}}","title":"Renew the shop certificate"}""");

        Assert.Equal(HttpStatusCode.Created, raised.StatusCode);
        var change = await raised.Content.ReadFromJsonAsync<JsonElement>();
        var record = change.GetProperty("change");
        Assert.Equal(("Standard", "Upload the new certificate and switch the listener.", "Switch the listener back to the old certificate."),
            (record.GetProperty("changeType").GetString(), record.GetProperty("implementationPlan").GetString(), record.GetProperty("backoutPlan").GetString()));
        Assert.Equal(start.AddMinutes(30), record.GetProperty("plannedEnd").GetDateTimeOffset());
        Assert.Equal(("cert-renewal", 1), (record.GetProperty("template").GetProperty("id").GetString(), record.GetProperty("template").GetProperty("version").GetInt32()));
        Assert.Equal(("Renew the shop certificate", "network-team", "lb-01"), (change.GetProperty("title").GetString(), change.GetProperty("assignmentGroup").GetString(), change.GetProperty("configurationItems")[0].GetString()));

        var id = change.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await h.Agent.PostAsync($"/api/tickets/{id}/actions/submit", ApprovalHarness.Json("{}"))).StatusCode);
        await h.IdleAsync();
        Assert.Equal("Scheduled", await h.TicketStateAsync(id));
        var approval = await h.ApprovalAsync(await h.ApprovalIdAsync(id));
        Assert.Equal(("Approved", "standard-template:cert-renewal:v1"), (approval.GetProperty("state").GetString(), approval.GetProperty("policyId").GetString()));
        Assert.Empty(approval.GetProperty("prompts").EnumerateArray());
    }

    [Fact]
    public async Task Saving_a_changed_template_makes_a_new_version_and_changes_raised_from_the_old_one_keep_it()
    {
        await using var h = await StartAsync();
        var before = await (await RaiseAsync(h)).Content.ReadFromJsonAsync<JsonElement>();

        var same = await Admin(h).PutAsync("/api/manage/changes/templates/cert-renewal", ApprovalHarness.Json(CertRenewal));
        Assert.Equal((HttpStatusCode.OK, 1), (same.StatusCode, (await same.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32()));
        var changed = await Admin(h).PutAsync("/api/manage/changes/templates/cert-renewal", ApprovalHarness.Json(CertRenewal.Replace("durationMinutes\":30", "durationMinutes\":45", StringComparison.Ordinal)));
        Assert.Equal((HttpStatusCode.OK, 2), (changed.StatusCode, (await changed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32()));

        var after = await (await RaiseAsync(h)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, after.GetProperty("change").GetProperty("template").GetProperty("version").GetInt32());
        var old = await h.Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{before.GetProperty("id").GetString()}");
        Assert.Equal(1, old.GetProperty("change").GetProperty("template").GetProperty("version").GetInt32());
        Assert.Equal(30, (await h.Agent.GetFromJsonAsync<JsonElement>("/api/changes/templates/cert-renewal?version=1")).GetProperty("durationMinutes").GetInt32());
        Assert.Equal(45, (await h.Agent.GetFromJsonAsync<JsonElement>("/api/changes/templates/cert-renewal")).GetProperty("durationMinutes").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await h.Agent.GetAsync("/api/changes/templates/cert-renewal?version=3")).StatusCode);
    }

    [Fact]
    public async Task A_retired_or_unknown_template_raises_nothing_and_agents_no_longer_see_a_retired_one()
    {
        await using var h = await StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await Admin(h).PutAsync("/api/manage/changes/templates/cert-renewal", ApprovalHarness.Json(CertRenewal.Replace("\"durationMinutes\"", "\"active\":false,\"durationMinutes\"", StringComparison.Ordinal)))).StatusCode);

        var retired = await RaiseAsync(h);
        Assert.Equal(HttpStatusCode.Conflict, retired.StatusCode);
        Assert.Contains("no longer active", await retired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await RaiseAsync(h, template: "no-such-template")).StatusCode);
        Assert.Empty((await h.Agent.GetFromJsonAsync<JsonElement>("/api/changes/templates")).GetProperty("items").EnumerateArray());
        Assert.Single((await Admin(h).GetFromJsonAsync<JsonElement>("/api/changes/templates")).GetProperty("items").EnumerateArray());
        Assert.Empty((await h.Agent.GetFromJsonAsync<JsonElement>("/api/tickets?type=Change")).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task A_standard_change_cannot_be_made_through_the_tickets_API_nor_its_plans_edited()
    {
        await using var h = await StartAsync();
        var direct = await h.Agent.PostAsync("/api/tickets", ApprovalHarness.Json("""{"type":"Change","title":"Sneaky","change":{"changeType":"Standard","implementationPlan":"x","backoutPlan":"y"}}"""));
        Assert.Equal(HttpStatusCode.BadRequest, direct.StatusCode);
        Assert.Contains("/api/changes/templates/", (await direct.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("change.changeType")[0].GetString(), StringComparison.Ordinal);

        var normal = (await (await h.Agent.PostAsync("/api/tickets", ApprovalHarness.Json("""{"type":"Change","title":"Normal"}"""))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var promote = await PatchAsync(h, normal, """{"change":{"changeType":"Standard"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, promote.StatusCode);

        var standard = (await (await RaiseAsync(h)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var edit = await PatchAsync(h, standard, """{"change":{"implementationPlan":"Do something else."}}""");
        Assert.Equal(HttpStatusCode.BadRequest, edit.StatusCode);
        Assert.Contains("TLS certificate renewal", await edit.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Made a normal change, it may be edited, and it no longer claims the template.
        var demoted = await PatchAsync(h, standard, """{"change":{"changeType":"Normal","implementationPlan":"Do something else."}}""");
        Assert.Equal(HttpStatusCode.OK, demoted.StatusCode);
        var now = (await demoted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("change");
        Assert.Equal("Normal", now.GetProperty("changeType").GetString());
        Assert.False(now.TryGetProperty("template", out var template) && template.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public async Task Only_admins_keep_the_catalogue_bad_templates_name_their_fields_and_tenants_do_not_share_it()
    {
        await using var h = await StartAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Agent.PutAsync("/api/manage/changes/templates/other", ApprovalHarness.Json(CertRenewal))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.App.As("rita", "contoso").PutAsync("/api/manage/changes/templates/other", ApprovalHarness.Json(CertRenewal))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.App.As("rita", "contoso").GetAsync("/api/changes/templates")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.App.As("rita", "contoso").PostAsync("/api/changes/templates/cert-renewal/changes", ApprovalHarness.Json("{}"))).StatusCode);

        var bad = await Admin(h).PutAsync("/api/manage/changes/templates/bad", ApprovalHarness.Json("""{"name":" ","implementationPlan":"x","backoutPlan":"","durationMinutes":0}"""));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["backoutPlan", "durationMinutes", "name"], errors.EnumerateObject().Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin(h).PutAsync("/api/manage/changes/templates/Bad%20Id", ApprovalHarness.Json(CertRenewal))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Admin(h).PutAsync("/api/manage/changes/templates/x", ApprovalHarness.Json("""{"name":"x","implementationPlan":"x","backoutPlan":"x","colour":"red"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RaiseAsync(h, body: """{"title":"no start"}""")).StatusCode);
        Assert.Single((await Admin(h).GetFromJsonAsync<JsonElement>("/api/changes/templates")).GetProperty("items").EnumerateArray());

        var fabrikam = h.App.As("fay", "fabrikam", AppRoles.Agent);
        Assert.Empty((await fabrikam.GetFromJsonAsync<JsonElement>("/api/changes/templates")).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await fabrikam.PostAsync("/api/changes/templates/cert-renewal/changes", ApprovalHarness.Json($$"""{"plannedStart":"{{h.App.Clock.GetUtcNow().AddDays(2):O}}"}"""))).StatusCode);
    }

    private static async Task<HttpResponseMessage> PatchAsync(ApprovalHarness h, string id, string body)
    {
        var current = await h.Agent.GetAsync($"/api/tickets/{id}");
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/api/tickets/{id}") { Content = ApprovalHarness.Json(body) };
        request.Headers.IfMatch.Add(current.Headers.ETag!);
        return await h.Agent.SendAsync(request);
    }
}
