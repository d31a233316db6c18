using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Tests.Approvals;

namespace Itsm.Functions.Tests.Changes;

/// <summary>Change management on the real CMDB: related CIs in conflicts, criticality and affected services in the risk, CI owners as approvers.</summary>
public class ChangeCmdbIntegrationTests
{
    private const string Settings = """
        {"policies":[{"id":"owners","name":"CI owners","changeTypes":["Normal"],"levels":[{"name":"Owners","approvers":[{"kind":"CiOwner"}]}]}],
         "groups":{"db-owners":["olga","oscar"],"app-owners":["alice"]}}
        """;

    private static async Task<string> CiAsync(ApprovalHarness h, string json)
    {
        var response = await h.Agent.PostAsync("/api/cis", ApprovalHarness.Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task RelateAsync(ApprovalHarness h, string source, string type, string target)
    {
        var response = await h.Agent.PostAsync($"/api/cis/{source}/relationships", ApprovalHarness.Json($$"""{"type":"{{type}}","targetId":"{{target}}"}"""));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_change_sees_cmdb_related_changes_critical_cis_affected_services_and_asks_the_ci_owners()
    {
        await using var h = await ApprovalHarness.StartAsync(Settings);
        var payroll = await CiAsync(h, """{"class":"businessService","name":"Payroll","criticality":"High"}""");
        var app = await CiAsync(h, """{"class":"application","name":"payroll-app","criticality":"Medium","ownerGroup":"app-owners"}""");
        var db = await CiAsync(h, """{"class":"database","name":"payroll-db","criticality":"Critical","ownerGroup":"db-owners"}""");
        await RelateAsync(h, payroll, "DependsOn", app);
        await RelateAsync(h, app, "DependsOn", db);

        var onDb = await h.SubmitChangeAsync(extra: $$""" "configurationItems":["{{db}}"],""");
        var onApp = await h.SubmitChangeAsync(extra: $$""" "configurationItems":["{{app}}"],""");

        var assessment = await h.Agent.GetFromJsonAsync<JsonElement>($"/api/changes/{onDb}/assessment");
        var conflicts = assessment.GetProperty("conflicts").EnumerateArray().ToArray();
        Assert.Contains(conflicts, c => c.GetProperty("rule").GetString() == "RelatedCi" && c.GetProperty("ci").GetString() == app);
        var factors = assessment.GetProperty("risk").GetProperty("factors").EnumerateArray().Select(f => f.GetString()!).ToArray();
        Assert.Contains("CI criticality 5 (+4)", factors);
        Assert.Contains("1 affected service(s) (+1)", factors);

        var approval = await h.ApprovalAsync(await h.ApprovalIdAsync(onDb));
        var approvers = approval.GetProperty("levels")[0].GetProperty("approvers").EnumerateArray()
            .Select(a => a.GetProperty("userId").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["olga", "oscar"], approvers);

        // Each owner is prompted through the outbox (Teams: they are known by id), with their own signed link.
        var outbox = await h.App.As("root", "contoso", Itsm.Functions.Security.AppRoles.Admin).GetFromJsonAsync<JsonElement>("/api/manage/notifications/outbox?pageSize=100");
        var prompts = outbox.GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("eventKind").GetString() == "approval.requested" && n.GetProperty("ticketId").GetString() == onDb)
            .ToArray();
        Assert.Equal(["olga", "oscar"], prompts.Select(n => n.GetProperty("recipient").GetProperty("id").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(prompts, n => Assert.Contains("/api/approval-page?t=", n.GetProperty("link").GetString(), StringComparison.Ordinal));
        Assert.NotEqual(prompts[0].GetProperty("link").GetString(), prompts[1].GetProperty("link").GetString());
    }
}
