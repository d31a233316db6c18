using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Tests.Support;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Tests.Durable;

/// <summary>
/// Orchestrations end to end through the standalone host: HTTP functions with a <c>[DurableClient]</c> start them
/// and raise events; DurableTask.Core runs them over the SQLite provider, timers on the app's (fake) clock.
/// </summary>
public class StandaloneOrchestrationTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly Type[] Declare = [typeof(SampleDurableFunctions)];

    private static Task IdleAsync(StandaloneApp app) => app.WaitForDurableIdleAsync(Patience);

    private static async Task<JsonElement> StatusAsync(StandaloneApp app, string id) =>
        await app.Client.GetFromJsonAsync<JsonElement>($"/api/sample-approvals/{id}");

    [Fact]
    public async Task An_approval_raised_over_http_completes_the_orchestration_before_its_timer()
    {
        await using var app = await StandaloneApp.StartAsync(Declare);

        var start = await app.Client.PostAsync("/api/sample-approvals/chg-1", JsonContent.Create("order-42"));
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        await IdleAsync(app);
        Assert.Equal("Running", (await StatusAsync(app, "chg-1")).GetProperty("runtimeStatus").GetString());

        var decision = await app.Client.PostAsync("/api/sample-approvals/chg-1/decision", new StringContent("true"));
        Assert.Equal(HttpStatusCode.Accepted, decision.StatusCode);
        await IdleAsync(app);

        var status = await StatusAsync(app, "chg-1");
        Assert.Equal("Completed", status.GetProperty("runtimeStatus").GetString());
        Assert.Equal(new ApprovalOutcome("A-done", true, null), status.GetProperty("output").Deserialize<ApprovalOutcome>(Web));
    }

    [Fact]
    public async Task Without_a_decision_the_24_hour_timer_wins_and_a_late_decision_gets_410()
    {
        await using var app = await StandaloneApp.StartAsync(Declare);
        await app.Client.PostAsync("/api/sample-approvals/chg-2", JsonContent.Create("order-43"));
        await IdleAsync(app);
        Assert.Equal("Running", (await StatusAsync(app, "chg-2")).GetProperty("runtimeStatus").GetString());

        app.Clock.Advance(TimeSpan.FromHours(23) + TimeSpan.FromMinutes(59));
        await IdleAsync(app);
        Assert.Equal("Running", (await StatusAsync(app, "chg-2")).GetProperty("runtimeStatus").GetString());
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await IdleAsync(app);

        var status = await StatusAsync(app, "chg-2");
        Assert.Equal("Completed", status.GetProperty("runtimeStatus").GetString());
        Assert.Equal(new ApprovalOutcome("A-done", false, true), status.GetProperty("output").Deserialize<ApprovalOutcome>(Web));
        var late = await app.Client.PostAsync("/api/sample-approvals/chg-2/decision", new StringContent("true"));
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
    }

    [Fact]
    public async Task Starting_the_same_instance_id_twice_runs_it_once()
    {
        await using var app = await StandaloneApp.StartAsync(Declare);

        var first = await app.Client.PostAsync("/api/sample-approvals/chg-3", JsonContent.Create("order-44"));
        var second = await app.Client.PostAsync("/api/sample-approvals/chg-3", JsonContent.Create("something else"));
        await IdleAsync(app);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var status = await app.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync("chg-3", getInputsAndOutputs: true);
        Assert.Equal("order-44", status!.ReadInputAs<string>());
    }

    [Fact]
    public async Task A_waiting_orchestration_survives_a_restart_and_its_timer_fires_afterwards()
    {
        var directory = TempDirectory.Create();
        var clock = new FakeTimeProvider(StandaloneApp.Epoch);
        await using (var first = await StandaloneApp.StartAsync(Declare, directory: directory, clock: clock))
        {
            await first.Client.PostAsync("/api/sample-approvals/chg-4", JsonContent.Create("order-45"));
            await IdleAsync(first);
        }

        clock.Advance(TimeSpan.FromHours(25));
        await using var second = await StandaloneApp.StartAsync(Declare, directory: directory, clock: clock);
        await IdleAsync(second);

        var status = await StatusAsync(second, "chg-4");
        Assert.Equal("Completed", status.GetProperty("runtimeStatus").GetString());
        Assert.Equal(true, status.GetProperty("output").Deserialize<ApprovalOutcome>(Web)!.TimedOut);
    }
}
