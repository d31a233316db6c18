using Itsm.Durable.Engine;

namespace Itsm.Durable.Tests.Engine;

/// <summary>The engine stopped or killed mid-flight, and a new engine on the same database file.</summary>
public sealed class EngineRestartTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Activity_interrupted_by_a_killed_engine_runs_again_after_its_lock_expires_and_the_orchestration_completes_once()
    {
        await using var harness = await EngineHarness.StartAsync();
        harness.Gate.Closed = true;
        await harness.Engine.StartAsync("SlowChain", "slow-1", "\"backup\"", CancellationToken.None);
        await harness.Gate.Entered.WaitAsync(Patience);

        harness.Gate.Closed = false;
        await harness.RestartAsync();
        await harness.IdleAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("slow-1")).RuntimeStatus);
        Assert.Equal(1, harness.Invoker.Calls("Slow"));

        await harness.AdvanceAsync(harness.Options.ActivityLockDuration + TimeSpan.FromSeconds(1));

        var status = await harness.StatusAsync("slow-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("\"slow backup\"", status.OutputJson);
        Assert.Equal(2, harness.Invoker.Calls("Slow"));
        var history = await harness.Engine.GetHistoryAsync("slow-1", CancellationToken.None);
        Assert.Single(history, e => e.TaskCompleted is not null);
        Assert.Single(history, e => e.ExecutionCompleted is not null);
        Assert.Equal(2, harness.Invoker.Calls("SlowChain"));
    }

    [Fact]
    public async Task Graceful_stop_lets_a_running_activity_finish_and_the_next_engine_continues_from_its_result()
    {
        await using var harness = await EngineHarness.StartAsync();
        harness.Gate.Closed = true;
        await harness.Engine.StartAsync("SlowChain", "slow-2", "\"report\"", CancellationToken.None);
        await harness.Gate.Entered.WaitAsync(Patience);

        var stopping = harness.Engine.StopAsync(CancellationToken.None);
        Assert.False(stopping.IsCompleted);
        harness.Gate.Open();
        await stopping.WaitAsync(Patience);

        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("slow-2")).RuntimeStatus);
        await harness.RestartAsync();
        await harness.IdleAsync();

        Assert.Equal("\"slow report\"", (await harness.StatusAsync("slow-2")).OutputJson);
        Assert.Equal(1, harness.Invoker.Calls("Slow"));
    }

    [Fact]
    public async Task Timer_that_fell_due_while_no_engine_ran_fires_when_a_new_engine_starts()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Alarm", "alarm-1", 2);
        await harness.Engine.DisposeAsync();

        harness.Clock.Advance(TimeSpan.FromHours(3));
        await harness.RestartAsync();
        await harness.IdleAsync();

        Assert.Equal("\"rang after 2 h\"", (await harness.StatusAsync("alarm-1")).OutputJson);
    }

    [Fact]
    public async Task New_engine_rebuilds_its_timer_schedule_from_the_database()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Alarm", "alarm-2", 2);

        await harness.RestartAsync();
        await harness.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("alarm-2")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await harness.StatusAsync("alarm-2")).RuntimeStatus);
    }

    [Fact]
    public async Task Activity_abandoned_more_often_than_allowed_fails_instead_of_running_again()
    {
        await using var harness = await EngineHarness.StartAsync(options => options with { ActivityMaxAttempts = 1 });
        harness.Gate.Closed = true;
        await harness.Engine.StartAsync("SlowChain", "slow-3", "\"x\"", CancellationToken.None);
        await harness.Gate.Entered.WaitAsync(Patience);

        harness.Gate.Closed = false;
        await harness.RestartAsync();
        await harness.AdvanceAsync(harness.Options.ActivityLockDuration + TimeSpan.FromSeconds(1));

        var status = await harness.StatusAsync("slow-3");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status.RuntimeStatus);
        Assert.Contains("was started 1 times without finishing", status.Failure!.InnerFailure!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(1, harness.Invoker.Calls("Slow"));
    }

    [Fact]
    public async Task Running_activity_keeps_its_lock_while_the_clock_moves_past_the_lock_duration()
    {
        await using var harness = await EngineHarness.StartAsync();
        harness.Gate.Closed = true;
        await harness.Engine.StartAsync("SlowChain", "slow-4", "\"x\"", CancellationToken.None);
        await harness.Gate.Entered.WaitAsync(Patience);

        for (var i = 0; i < 4; i++)
        {
            harness.Clock.Advance(harness.Options.ActivityLockDuration / 2);
        }

        harness.Gate.Open();
        await harness.IdleAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await harness.StatusAsync("slow-4")).RuntimeStatus);
        Assert.Equal(1, harness.Invoker.Calls("Slow"));
    }
}
