using System.Diagnostics;
using System.Net;
using Itsm.Functions.HostTests.Support;
using Itsm.Functions.Security;
using Xunit.Abstractions;

namespace Itsm.Functions.HostTests.Scenarios;

/// <summary>
/// kill -9 of the whole process group (for the Functions host: host and worker) while SLA clocks and an approval wait,
/// kept down until the clocks' warnings are due, then a restart on the same storage: every clock fires each threshold
/// once (the warnings late, the breaches on time), the approval completes with its one decision, nothing is lost or
/// doubled. A target of its own, since it kills the app.
/// </summary>
public abstract class KillScenario(AppTarget target, ITestOutputHelper output) : ScenarioBase(target, output)
{
    private const string Tenant = "kill";
    private const int Clocks = 3;

    [Scenario]
    public Task After_a_kill_9_and_a_restart_every_clock_fires_once_and_the_waiting_approval_completes() => RunAsync(async () =>
    {
        await SetUpSlaAsync(Tenant, """{"name":"Fast","calendarId":"24x7","resolutionMinutes":{"3":40},"warnings":[25]}""");
        await SetUpApprovalsAsync(Tenant, """{"name":"Service owner","approvers":[{"kind":"User","id":"bob"}],"rule":"Any"}""");

        var tickets = new List<(string Id, DateTimeOffset CreatedAt)>();
        for (var i = 0; i < Clocks; i++)
        {
            tickets.Add(await RaiseIncidentAsync(Tenant, $"Storage array {i} degraded"));
        }

        var (change, approval) = await SubmitChangeAsync(Tenant, "Replace storage controller");
        Assert.Equal("Pending", (await ApprovalAsync(Tenant, approval)).GetProperty("state").GetString());

        var down = Stopwatch.StartNew();
        await Target.KillAsync();

        // Down while every warning falls due: they fire late, once, after the restart.
        var lastWarning = tickets.Max(t => t.CreatedAt).AddSeconds(10);
        await Poll.UntilAsync(() => Task.FromResult(DateTimeOffset.UtcNow > lastWarning.AddSeconds(1)), Patience, "the warnings to fall due while the app is down");
        await Target.RestartAsync();
        Measure("kill -9 to answering again (kept down until the warnings were due)", down.Elapsed);
        Measure("start to first answer after kill -9", Target.StartTimes[^1]);

        var answered = Stopwatch.StartNew();
        await SendJsonAsync(Target.As("bob", Tenant, AppRoles.Approver), HttpMethod.Post, $"/api/approvals/{approval}/decisions", """{"verdict":"Approve"}""", HttpStatusCode.OK);
        await Poll.UntilAsync(async () => await TicketStateAsync(Tenant, change) == "Scheduled", Patience, $"change {change} to be scheduled after the restart");
        Measure("approval answer to change scheduled after kill -9", answered.Elapsed);
        var record = await ApprovalAsync(Tenant, approval);
        Assert.Equal("Approved", record.GetProperty("state").GetString());
        Assert.Single(record.GetProperty("decisions").EnumerateArray());
        Assert.Single(Events(await HistoryAsync(Tenant, change), "approval.approved"));

        foreach (var (id, createdAt) in tickets)
        {
            var history = await Poll.UntilAsync(() => HistoryAsync(Tenant, id), h => Events(h, "sla.breach").Length > 0, Patience, $"ticket {id} to breach after the restart");
            Assert.Single(Events(history, "sla.started"));
            var warning = Assert.Single(Events(history, "sla.warning"));
            var breach = Assert.Single(Events(history, "sla.breach"));
            Assert.Equal(createdAt.AddSeconds(10), Detail(warning, "reachedAt").GetDateTimeOffset());
            Assert.Equal(createdAt.AddSeconds(40), Detail(breach, "breachedAt").GetDateTimeOffset());
            Measure("sla warning lateness across kill -9 (due while down)", At(warning) - createdAt.AddSeconds(10));
            Measure("sla breach lateness across kill -9 (due after the restart began)", At(breach) - createdAt.AddSeconds(40));
            Assert.True(At(warning) > lastWarning, "a warning fired while the app was down");

            // Not "on time": under the Functions host the messages the killed worker held come back only when their
            // visibility timeout ends (a minute here, five by default), so a clock may fire that much later.
            Assert.True(At(breach) >= createdAt.AddSeconds(40), "a breach fired before it was due");
        }

        // Still once each after the last ticket breached (a duplicate would come from a replayed timer or activity).
        foreach (var (id, _) in tickets)
        {
            var history = await HistoryAsync(Tenant, id);
            Assert.Single(Events(history, "sla.warning"));
            Assert.Single(Events(history, "sla.breach"));
        }
    });
}
