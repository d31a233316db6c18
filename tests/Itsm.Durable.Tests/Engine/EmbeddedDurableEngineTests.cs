using Itsm.Durable.Engine;
using Itsm.Durable.Protocol;

namespace Itsm.Durable.Tests.Engine;

public sealed class EmbeddedDurableEngineTests
{
    [Fact]
    public async Task Activities_called_in_sequence_complete_the_orchestration_with_their_result()
    {
        await using var harness = await EngineHarness.StartAsync();

        var started = await harness.RunAsync("Chain", "inc-1", "printer jam");

        Assert.True(started.Created);
        var status = await harness.StatusAsync("inc-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("\"PRINTER JAM\"", status.OutputJson);
        Assert.Equal("\"printer jam\"", status.InputJson);
        Assert.Equal("Chain", status.Name);
        Assert.Null(status.Failure);
    }

    [Fact]
    public async Task History_of_a_finished_instance_is_laid_out_as_DTFx_commits_it()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Chain", "inc-2", "x");

        var history = await harness.Engine.GetHistoryAsync("inc-2", CancellationToken.None);

        Assert.Equal(
            [
                "OrchestratorStarted", "ExecutionStarted", "TaskScheduled#0", "OrchestratorCompleted",
                "OrchestratorStarted", "TaskCompleted", "TaskScheduled#1", "OrchestratorCompleted",
                "OrchestratorStarted", "TaskCompleted", "ExecutionCompleted#2", "OrchestratorCompleted",
            ],
            history.Select(Describe));
    }

    [Fact]
    public async Task Fan_out_runs_every_activity_and_fans_in_their_results()
    {
        await using var harness = await EngineHarness.StartAsync();

        await harness.RunAsync("FanOut", "fan-1", 10);

        var status = await harness.StatusAsync("fan-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("385", status.OutputJson);
        Assert.Equal(10, harness.Invoker.Calls("Square"));
    }

    [Fact]
    public async Task Approval_raised_through_the_engine_wins_over_the_deadline_timer()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Approval", "chg-1", "change");
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("chg-1")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(1));
        var outcome = await harness.Engine.RaiseEventAsync("chg-1", "Approval", "true", CancellationToken.None);
        await harness.IdleAsync();

        Assert.Equal(RaiseEventOutcome.Accepted, outcome);
        var status = await harness.StatusAsync("chg-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("\"approved\"", status.OutputJson);

        // The deadline still fires later; the message for the finished instance is discarded.
        await harness.AdvanceAsync(TimeSpan.FromHours(24));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await harness.StatusAsync("chg-1")).RuntimeStatus);
    }

    [Fact]
    public async Task Deadline_timer_wins_when_the_clock_passes_it_without_an_approval()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Approval", "chg-2", "change");

        await harness.AdvanceAsync(TimeSpan.FromHours(23));
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("chg-2")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(1));
        var status = await harness.StatusAsync("chg-2");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("\"timed out\"", status.OutputJson);

        var late = await harness.Engine.RaiseEventAsync("chg-2", "Approval", "true", CancellationToken.None);
        Assert.Equal(RaiseEventOutcome.InstanceCompleted, late);
    }

    [Fact]
    public async Task Event_raised_before_the_first_episode_is_delivered_with_it()
    {
        await using var harness = await EngineHarness.StartAsync(start: false);
        await harness.Engine.StartAsync("Approval", "chg-3", "\"change\"", CancellationToken.None);
        Assert.Equal(RaiseEventOutcome.Accepted, await harness.Engine.RaiseEventAsync("chg-3", "Approval", "false", CancellationToken.None));

        await harness.Engine.StartAsync(CancellationToken.None);
        await harness.IdleAsync();

        Assert.Equal("\"rejected\"", (await harness.StatusAsync("chg-3")).OutputJson);
    }

    [Fact]
    public async Task Sub_orchestration_result_is_delivered_to_the_parent()
    {
        await using var harness = await EngineHarness.StartAsync();

        await harness.RunAsync("Parent", "parent-1", "laptop");

        var parent = await harness.StatusAsync("parent-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, parent.RuntimeStatus);
        Assert.Equal("\"parent of LAPTOP\"", parent.OutputJson);
        var child = await harness.StatusAsync("parent-1-child");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, child.RuntimeStatus);
        Assert.Equal("parent-1", child.ParentInstanceId);
    }

    [Fact]
    public async Task Failed_sub_orchestration_fails_the_task_the_parent_awaits()
    {
        await using var harness = await EngineHarness.StartAsync();

        await harness.RunAsync("FailingParent", "parent-2", "disk");

        var parent = await harness.StatusAsync("parent-2");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, parent.RuntimeStatus);
        Assert.Contains("Boom: disk", parent.OutputJson, StringComparison.Ordinal);
        var child = await harness.StatusAsync("parent-2:0000");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, child.RuntimeStatus);
        Assert.True(child.Failure!.IsCausedBy<TaskFailedException>());
    }

    [Fact]
    public async Task Activity_failure_reaches_the_orchestrator_as_a_failed_task()
    {
        await using var harness = await EngineHarness.StartAsync();

        await harness.RunAsync("Failing", "fail-1", "printer");

        var status = await harness.StatusAsync("fail-1");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status.RuntimeStatus);
        Assert.Equal(typeof(TaskFailedException).FullName, status.Failure!.ErrorType);
        Assert.Equal("Boom: printer", status.Failure.InnerFailure!.ErrorMessage);
        Assert.True(status.Failure.IsCausedBy<InvalidOperationException>());
    }

    [Fact]
    public async Task Continue_as_new_starts_fresh_executions_until_the_orchestrator_returns()
    {
        await using var harness = await EngineHarness.StartAsync(start: false);
        await harness.Engine.StartAsync("Counter", "count-1", "0", CancellationToken.None);
        var firstExecution = (await harness.StatusAsync("count-1")).ExecutionId;

        await harness.Engine.StartAsync(CancellationToken.None);
        await harness.IdleAsync();

        var status = await harness.StatusAsync("count-1");
        Assert.Equal(OrchestrationRuntimeStatus.Completed, status.RuntimeStatus);
        Assert.Equal("3", status.OutputJson);
        Assert.Equal("3", status.InputJson);
        Assert.NotEqual(firstExecution, status.ExecutionId);
        Assert.Equal(4, harness.Invoker.Calls("Counter"));
        var history = await harness.Engine.GetHistoryAsync("count-1", CancellationToken.None);
        var started = Assert.Single(history, e => e.ExecutionStarted is not null);
        Assert.Equal("3", started.ExecutionStarted.Input);
        Assert.Equal(status.ExecutionId, started.ExecutionStarted.OrchestrationInstance.ExecutionId);
    }

    [Fact]
    public async Task Terminate_ends_a_waiting_instance_with_the_reason_as_output()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("WaitForGo", "wait-1", "ticket");

        var outcome = await harness.Engine.TerminateAsync("wait-1", "duplicate ticket", CancellationToken.None);
        await harness.IdleAsync();

        Assert.Equal(TerminateOutcome.Accepted, outcome);
        var status = await harness.StatusAsync("wait-1");
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, status.RuntimeStatus);
        Assert.Equal("\"duplicate ticket\"", status.OutputJson);
        Assert.Equal(TerminateOutcome.InstanceCompleted, await harness.Engine.TerminateAsync("wait-1", "again", CancellationToken.None));
        Assert.Equal(RaiseEventOutcome.InstanceCompleted, await harness.Engine.RaiseEventAsync("wait-1", "Go", "\"now\"", CancellationToken.None));
    }

    [Fact]
    public async Task Events_and_terminations_for_unknown_instances_are_not_found()
    {
        await using var harness = await EngineHarness.StartAsync();

        Assert.Equal(RaiseEventOutcome.NotFound, await harness.Engine.RaiseEventAsync("nobody", "Go", null, CancellationToken.None));
        Assert.Equal(TerminateOutcome.NotFound, await harness.Engine.TerminateAsync("nobody", null, CancellationToken.None));
        Assert.Null(await harness.Engine.GetStatusAsync("nobody", includeInputsAndOutputs: true, CancellationToken.None));
    }

    [Fact]
    public async Task Event_to_a_completed_instance_is_refused_as_instance_completed()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Chain", "done-1", "x");

        var outcome = await harness.Engine.RaiseEventAsync("done-1", "Go", "1", CancellationToken.None);

        Assert.Equal(RaiseEventOutcome.InstanceCompleted, outcome);
    }

    [Fact]
    public async Task Event_sent_by_one_orchestration_reaches_another()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("WaitForGo", "receiver", "ticket");

        await harness.RunAsync("Sender", "sender", "receiver");

        Assert.Equal("\"went with a message\"", (await harness.StatusAsync("receiver")).OutputJson);
        var history = await harness.Engine.GetHistoryAsync("sender", CancellationToken.None);
        Assert.Contains(history, e => e.EventSent is { InstanceId: "receiver", Name: "Go" } && e.EventId == 0);
    }

    [Fact]
    public async Task Starting_an_existing_instance_id_again_does_not_start_it_twice()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Chain", "dup-1", "first");

        var again = await harness.RunAsync("Chain", "dup-1", "second");

        Assert.False(again.Created);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, again.RuntimeStatus);
        Assert.Equal("\"FIRST\"", (await harness.StatusAsync("dup-1")).OutputJson);
        Assert.Equal(1, harness.Invoker.Calls("Echo"));
    }

    [Fact]
    public async Task Unknown_orchestrator_fails_the_instance()
    {
        await using var harness = await EngineHarness.StartAsync();

        await harness.RunAsync("NoSuchFlow", "unknown-1", null);

        var status = await harness.StatusAsync("unknown-1");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status.RuntimeStatus);
        Assert.Contains("NoSuchFlow", status.Failure!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invoker_exception_fails_the_instance_and_says_why()
    {
        await using var harness = await EngineHarness.StartAsync();
        harness.Invoker.OrchestratorOverride = (_, _) => throw new HttpRequestException("connection reset by the handler");

        await harness.RunAsync("Chain", "broken-1", "x");

        var status = await harness.StatusAsync("broken-1");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status.RuntimeStatus);
        Assert.Equal(typeof(HttpRequestException).FullName, status.Failure!.ErrorType);
        Assert.Contains("Function 'Chain' failed", status.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("connection reset by the handler", status.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unparseable_orchestrator_response_fails_the_instance()
    {
        await using var harness = await EngineHarness.StartAsync();
        harness.Invoker.OrchestratorOverride = (_, _) => "\"not base64!\"";

        await harness.RunAsync("Chain", "garbled-1", "x");

        var status = await harness.StatusAsync("garbled-1");
        Assert.Equal(OrchestrationRuntimeStatus.Failed, status.RuntimeStatus);
        Assert.Contains("not a base64 OrchestratorResponse", status.Failure!.ErrorMessage, StringComparison.Ordinal);
        var history = await harness.Engine.GetHistoryAsync("garbled-1", CancellationToken.None);
        Assert.Equal(OrchestrationStatus.Failed, Assert.Single(history, e => e.ExecutionCompleted is not null).ExecutionCompleted.OrchestrationStatus);
    }

    [Fact]
    public async Task Purge_removes_finished_instances_only()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("WaitForGo", "running-1", "x");
        await harness.RunAsync("Chain", "finished-1", "x");

        Assert.False(await harness.Engine.PurgeAsync("running-1", CancellationToken.None));
        Assert.True(await harness.Engine.PurgeAsync("finished-1", CancellationToken.None));
        Assert.False(await harness.Engine.PurgeAsync("finished-1", CancellationToken.None));

        Assert.Null(await harness.Engine.GetStatusAsync("finished-1", includeInputsAndOutputs: false, CancellationToken.None));
        Assert.Empty(await harness.Engine.GetHistoryAsync("finished-1", CancellationToken.None));
        Assert.NotNull(await harness.Engine.GetStatusAsync("running-1", includeInputsAndOutputs: false, CancellationToken.None));
    }

    [Fact]
    public async Task Status_shows_the_custom_status_of_the_latest_episode_and_hides_inputs_unless_asked()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("WaitForGo", "custom-1", "ticket");
        harness.Clock.Advance(TimeSpan.FromMinutes(5));

        var waiting = await harness.Engine.GetStatusAsync("custom-1", includeInputsAndOutputs: false, CancellationToken.None);
        Assert.NotNull(waiting);
        Assert.Equal(OrchestrationRuntimeStatus.Running, waiting.RuntimeStatus);
        Assert.Equal("""{"stage":"waiting","input":"ticket"}""", waiting.CustomStatusJson);
        Assert.Null(waiting.InputJson);
        Assert.Equal(EngineHarness.Start, waiting.CreatedAt);

        await harness.Engine.RaiseEventAsync("custom-1", "go", "\"now\"", CancellationToken.None);
        await harness.IdleAsync();

        var done = await harness.StatusAsync("custom-1");
        Assert.Equal("""{"stage":"done"}""", done.CustomStatusJson);
        Assert.Equal("\"went with now\"", done.OutputJson);
        Assert.Equal(EngineHarness.Start.AddMinutes(5), done.LastUpdatedAt);
    }

    [Fact]
    public async Task Timer_earlier_than_the_current_wake_up_wakes_the_dispatcher()
    {
        await using var harness = await EngineHarness.StartAsync();
        await harness.RunAsync("Alarm", "late", 10);
        await harness.RunAsync("Alarm", "early", 1);

        await harness.AdvanceAsync(TimeSpan.FromHours(1));

        Assert.Equal("\"rang after 1 h\"", (await harness.StatusAsync("early")).OutputJson);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("late")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(9));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await harness.StatusAsync("late")).RuntimeStatus);
    }

    [Fact]
    public async Task Instance_ids_follow_the_management_api_rules()
    {
        await using var harness = await EngineHarness.StartAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => harness.Engine.StartAsync("Chain", "a/b", null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => harness.Engine.StartAsync("Chain", "@entity", null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => harness.Engine.StartAsync("Chain", new string('x', 257), null, CancellationToken.None));
    }

    private static string Describe(HistoryEvent historyEvent) =>
        historyEvent.EventId >= 0 ? $"{historyEvent.EventTypeCase}#{historyEvent.EventId}" : historyEvent.EventTypeCase.ToString();
}
