using DurableTask.Core;
using DurableTask.Core.Exceptions;
using Itsm.DurableTask.Sqlite.Testing;
using Itsm.DurableTask.Sqlite.Tests.Support;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.DurableTask.Sqlite.Tests;

/// <summary>
/// The scenarios every orchestration service must run the same way, under a real <see cref="TaskHubWorker"/> with
/// Microsoft's shims, driven through <see cref="DurableTaskCoreClient"/>. One subclass per provider.
/// </summary>
public abstract class OrchestrationServiceConformance : IAsyncLifetime
{
    private WorkerHost? host;

    protected DurableTaskCoreClient Client => host?.Client ?? throw new InvalidOperationException("Not started.");

    protected abstract IOrchestrationService CreateService();

    protected virtual ValueTask DisposeServiceAsync() => ValueTask.CompletedTask;

    public async Task InitializeAsync() =>
        host = await WorkerHost.StartAsync(CreateService(), Orchestrations.Orchestrators, Orchestrations.Activities);

    public async Task DisposeAsync()
    {
        if (host is not null)
        {
            await host.DisposeAsync();
        }

        await DisposeServiceAsync();
    }

    private static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    private async Task<OrchestrationMetadata> RunAsync(string orchestrator, object? input, string? instanceId = null)
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(orchestrator, input, new StartOrchestrationOptions(instanceId), Deadline());
        return await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());
    }

    private async Task<OrchestrationMetadata> WaitForAsync(string instanceId, Func<OrchestrationMetadata, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var metadata = await Client.GetInstanceAsync(instanceId, getInputsAndOutputs: true);
            if (metadata is not null && condition(metadata))
            {
                return metadata;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Instance {instanceId} did not reach the expected state; last: {metadata?.RuntimeStatus}, {metadata?.SerializedCustomStatus}");
            await Task.Delay(10);
        }
    }

    private static string Messages(TaskFailureDetails? failure) =>
        failure is null ? "" : $"{failure.ErrorType}: {failure.ErrorMessage} | {Messages(failure.InnerFailure)}";

    [Fact]
    public async Task Activity_chain_passes_each_result_to_the_next_activity()
    {
        var result = await RunAsync(nameof(ChainOrchestrator), 10);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(10, result.ReadInputAs<int>());
        Assert.Equal(13, result.ReadOutputAs<int>());
        Assert.Equal(nameof(ChainOrchestrator), result.Name);
    }

    [Fact]
    public async Task Retry_policy_runs_a_failing_activity_again_until_it_succeeds()
    {
        var key = Guid.NewGuid().ToString("N");

        var result = await RunAsync(nameof(RetryOrchestrator), key);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(3, result.ReadOutputAs<int>());
        Assert.Equal(3, FlakyActivity.Attempts[key]);
    }

    [Fact]
    public async Task Caught_activity_failure_exposes_its_details_to_the_orchestrator()
    {
        var result = await RunAsync(nameof(CaughtFailureOrchestrator), "CI-42");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("caught System.InvalidOperationException: the CMDB refused CI-42", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Uncaught_activity_failure_fails_the_orchestration_with_details_for_the_client()
    {
        var result = await RunAsync(nameof(UncaughtFailureOrchestrator), "CI-7");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.NotNull(result.FailureDetails);
        Assert.Contains("the CMDB refused CI-7", Messages(result.FailureDetails), StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException", Messages(result.FailureDetails), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Durable_timer_fires_after_its_delay()
    {
        var result = await RunAsync(nameof(TimerOrchestrator), 200);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("waited True", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Event_that_arrives_before_the_timeout_wins_the_race()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApprovalOrchestrator), new ApprovalInput(60_000, PreludeActivity: false), Deadline());
        await WaitForAsync(id, m => m.SerializedCustomStatus is not null);

        await Client.RaiseEventAsync(id, "Approval", "alice");
        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal("approved by alice", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Timeout_wins_the_race_when_no_event_arrives()
    {
        var result = await RunAsync(nameof(ApprovalOrchestrator), new ApprovalInput(200, PreludeActivity: false));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("timed out", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Event_raised_before_the_orchestrator_waits_for_it_is_kept_until_it_does()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(ApprovalOrchestrator), new ApprovalInput(60_000, PreludeActivity: true), Deadline());
        await Client.RaiseEventAsync(id, "Approval", "bob");

        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal("approved by bob", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Sub_orchestrations_return_their_results_to_the_parent()
    {
        var result = await RunAsync(nameof(ParentOrchestrator), 1);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(7, result.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Fan_out_of_a_hundred_activities_fans_in_every_result()
    {
        var result = await RunAsync(nameof(FanOutOrchestrator), 100);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(338_350L, result.ReadOutputAs<long>());
    }

    [Fact]
    public async Task Continue_as_new_carries_over_events_it_has_not_handled()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(CounterOrchestrator), new CounterState(0, 0), Deadline());
        foreach (var add in new[] { 1, 2, 3, 0 })
        {
            await Client.RaiseEventAsync(id, "Add", add);
        }

        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(new CounterState(6, 4), result.ReadOutputAs<CounterState>());
    }

    [Fact]
    public async Task Custom_status_is_visible_while_running_and_after_completion()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "INC-1", Deadline());
        var waiting = await WaitForAsync(id, m => m.SerializedCustomStatus is not null);
        Assert.Equal(new GateStatus("waiting", "INC-1"), waiting.ReadCustomStatusAs<GateStatus>());
        Assert.Equal(OrchestrationRuntimeStatus.Running, waiting.RuntimeStatus);

        await Client.RaiseEventAsync(id, "Go", "approval");
        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal(new GateStatus("done", "approval"), result.ReadCustomStatusAs<GateStatus>());
        Assert.Equal("INC-1 went with approval", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Terminate_ends_a_waiting_orchestration_with_the_given_output()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "CHG-1", Deadline());
        await WaitForAsync(id, m => m.SerializedCustomStatus is not null);

        await Client.TerminateInstanceAsync(id, "withdrawn by requester");
        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, result.RuntimeStatus);
        Assert.Equal("withdrawn by requester", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Event_raised_while_suspended_is_processed_after_resume()
    {
        var id = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "REQ-9", Deadline());
        await WaitForAsync(id, m => m.SerializedCustomStatus is not null);

        await Client.SuspendInstanceAsync(id, "change freeze");
        await WaitForAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Suspended);
        await Client.RaiseEventAsync(id, "Go", "after the freeze");
        var stillSuspended = await Client.GetInstanceAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, stillSuspended!.RuntimeStatus);

        await Client.ResumeInstanceAsync(id, "freeze over");
        var result = await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("REQ-9 went with after the freeze", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Duplicate_instance_id_is_refused_for_a_dedupe_status_and_replaces_otherwise()
    {
        var id = "dup-" + Guid.NewGuid().ToString("N");
        Assert.Equal(2, (await RunAsync(nameof(ChainOrchestrator), -1, id)).ReadOutputAs<int>());

        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => Client.ScheduleNewOrchestrationInstanceAsync(
            nameof(ChainOrchestrator), 5, new StartOrchestrationOptions(id) { DedupeStatuses = ["Completed", "Running", "Pending"] }));
        var replaced = await RunAsync(nameof(ChainOrchestrator), 100, id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, replaced.RuntimeStatus);
        Assert.Equal(103, replaced.ReadOutputAs<int>());

        var running = "dup-running-" + Guid.NewGuid().ToString("N");
        await Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "first", new StartOrchestrationOptions(running));
        await WaitForAsync(running, m => m.SerializedCustomStatus is not null);
        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => Client.ScheduleNewOrchestrationInstanceAsync(
            nameof(GateOrchestrator), "second", new StartOrchestrationOptions(running) { DedupeStatuses = ["Running", "Pending"] }));
        Assert.Equal("first", (await Client.GetInstanceAsync(running, getInputsAndOutputs: true))!.ReadInputAs<string>());
    }

    [Fact]
    public async Task Purge_removes_one_finished_instance()
    {
        var result = await RunAsync(nameof(ChainOrchestrator), 1);

        var purged = await Client.PurgeInstanceAsync(result.InstanceId);

        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await Client.GetInstanceAsync(result.InstanceId));
    }

    [Fact]
    public async Task Purge_by_filter_removes_matching_finished_instances_only()
    {
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var finished = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            finished.Add((await RunAsync(nameof(ChainOrchestrator), i)).InstanceId);
        }

        var waiting = await Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "keep", Deadline());
        await WaitForAsync(waiting, m => m.SerializedCustomStatus is not null);

        var purged = await Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, null, [OrchestrationRuntimeStatus.Completed]));

        Assert.Equal(3, purged.PurgedInstanceCount);
        foreach (var id in finished)
        {
            Assert.Null(await Client.GetInstanceAsync(id));
        }

        Assert.Equal(OrchestrationRuntimeStatus.Running, (await Client.GetInstanceAsync(waiting))!.RuntimeStatus);
    }

    [Fact]
    public async Task Query_pages_through_instances_by_prefix_and_status()
    {
        var prefix = "q-" + Guid.NewGuid().ToString("N")[..8] + "-";
        for (var i = 0; i < 5; i++)
        {
            await RunAsync(nameof(ChainOrchestrator), i, prefix + i);
        }

        await RunAsync(nameof(ChainOrchestrator), 0, "other-" + Guid.NewGuid().ToString("N"));

        var found = new List<OrchestrationMetadata>();
        await foreach (var page in Client.GetAllInstancesAsync(new OrchestrationQuery
        {
            InstanceIdPrefix = prefix,
            Statuses = [OrchestrationRuntimeStatus.Completed],
            PageSize = 2,
            FetchInputsAndOutputs = true,
        }).AsPages())
        {
            Assert.True(page.Values.Count <= 2);
            found.AddRange(page.Values);
        }

        Assert.Equal(Enumerable.Range(0, 5).Select(i => prefix + i), found.Select(m => m.InstanceId).Order(StringComparer.Ordinal));
        Assert.All(found, m => Assert.Equal(m.ReadInputAs<int>() + 3, m.ReadOutputAs<int>()));
    }

    [Fact]
    public async Task A_thousand_concurrent_instances_all_complete()
    {
        var ids = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            Client.ScheduleNewOrchestrationInstanceAsync(nameof(ChainOrchestrator), i, new StartOrchestrationOptions($"many-{i:D4}"))));

        var results = await Task.WhenAll(ids.Select(id => Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline(90))));

        Assert.All(results, r => Assert.Equal(OrchestrationRuntimeStatus.Completed, r.RuntimeStatus));
        Assert.Equal(Enumerable.Range(3, 1000), results.Select(r => r.ReadOutputAs<int>()));
    }
}
