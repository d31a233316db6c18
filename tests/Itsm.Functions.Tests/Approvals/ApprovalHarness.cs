using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Approvals;

/// <summary>The standalone app with a tenant's approval settings, and the steps of an approval as users take them.</summary>
public sealed class ApprovalHarness(StandaloneApp app) : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public StandaloneApp App { get; } = app;

    public HttpClient Agent => App.As("sam", "contoso", AppRoles.Agent);

    public static async Task<ApprovalHarness> StartAsync(string settingsJson, Action<IServiceCollection>? services = null, IDictionary<string, string?>? settings = null, bool kestrel = false)
    {
        var harness = new ApprovalHarness(await StandaloneApp.StartAsync(services: services, settings: settings, kestrel: kestrel));
        var response = await harness.App.As("root", "contoso", AppRoles.Admin).PutAsync("/api/manage/approvals/settings", Json(settingsJson));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return harness;
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public HttpClient User(string id) => App.As(id, "contoso", AppRoles.Approver);

    public async Task IdleAsync() =>
        await App.WaitForDurableIdleAsync(Patience);

    public async Task AdvanceAsync(TimeSpan by)
    {
        App.Clock.Advance(by);
        await IdleAsync();
    }

    /// <summary>Raises a change, answers the risk questionnaire when given, submits it (it enters Authorize) and waits for the approval to open.</summary>
    public async Task<string> SubmitChangeAsync(string changeType = "Normal", string extra = "", string? risk = null, int startHours = 48, int hours = 2)
    {
        var start = App.Clock.GetUtcNow().AddHours(startHours);
        var body = $$"""
            {"type":"Change","title":"Patch VPN gateway","description":"Apply the vendor's security fix.",{{extra}}
             "change":{"changeType":"{{changeType}}","plannedStart":"{{start:O}}","plannedEnd":"{{start.AddHours(hours):O}}","implementationPlan":"Patch.","backoutPlan":"Restore snapshot."} }
            """;
        var created = await Agent.PostAsync("/api/tickets", Json(body));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        if (risk is not null)
        {
            var answered = await Agent.PutAsync($"/api/changes/{id}/risk", Json(risk));
            Assert.True(answered.IsSuccessStatusCode, await answered.Content.ReadAsStringAsync());
        }

        var submitted = await Agent.PostAsync($"/api/tickets/{id}/actions/submit", Json("{}"));
        Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync());
        await IdleAsync();
        return id;
    }

    public async Task<string> ApprovalIdAsync(string ticketId)
    {
        var assessment = await Agent.GetFromJsonAsync<JsonElement>($"/api/changes/{ticketId}/assessment");
        return assessment.GetProperty("approvals").EnumerateArray().Last().GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> ApprovalAsync(string approvalId) =>
        await Agent.GetFromJsonAsync<JsonElement>($"/api/approvals/{approvalId}");

    public async Task<string> StateAsync(string approvalId) => (await ApprovalAsync(approvalId)).GetProperty("state").GetString()!;

    public async Task<string> TicketStateAsync(string ticketId) =>
        (await Agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{ticketId}")).GetProperty("state").GetString()!;

    public async Task<HttpResponseMessage> DecideAsync(string user, string approvalId, string verdict, string? comment = null)
    {
        var body = comment is null ? $$"""{"verdict":"{{verdict}}"}""" : $$"""{"verdict":"{{verdict}}","comment":"{{comment}}"}""";
        var response = await User(user).PostAsync($"/api/approvals/{approvalId}/decisions", Json(body));
        await IdleAsync();
        return response;
    }

    public async Task<JsonElement[]> PromptsAsync(string approvalId) =>
        (await ApprovalAsync(approvalId)).GetProperty("prompts").EnumerateArray().ToArray();

    public ValueTask DisposeAsync() => App.DisposeAsync();
}
