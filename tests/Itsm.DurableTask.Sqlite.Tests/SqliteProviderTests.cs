using DurableTask.Core;
using DurableTask.Core.History;
using Itsm.DurableTask.Sqlite.Testing;
using Itsm.DurableTask.Sqlite.Tests.Support;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Time.Testing;

namespace Itsm.DurableTask.Sqlite.Tests;

/// <summary>What only the SQLite provider promises: its clock, its durability, its locks.</summary>
public sealed class SqliteProviderTests : IDisposable
{
    private readonly TempDirectory directory = new();

    private string DatabasePath => directory.File("durable.db");

    public void Dispose() => directory.Dispose();

    private static CancellationToken Deadline(int seconds = 30) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    private SqliteOrchestrationService NewService(TimeProvider? time = null, TimeSpan? lockDuration = null) => new(new SqliteOrchestrationServiceSettings(DatabasePath)
    {
        TimeProvider = time ?? TimeProvider.System,
        WorkItemLockDuration = lockDuration ?? TimeSpan.FromMinutes(1),
    });

    private static TaskMessage StartMessage(string instanceId, string name = nameof(ChainOrchestrator), string input = "1")
    {
        var instance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = Guid.NewGuid().ToString("N") };
        return new TaskMessage
        {
            OrchestrationInstance = instance,
            Event = new ExecutionStartedEvent(-1, input) { Name = name, Version = "", OrchestrationInstance = instance },
        };
    }

    [Fact]
    public async Task Timer_fires_exactly_when_the_fake_clock_reaches_its_due_time()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = NewService(clock);
        await using var host = await WorkerHost.StartAsync(service, Orchestrations.Orchestrators, Orchestrations.Activities);
        var due = clock.GetUtcNow().UtcDateTime.AddHours(4);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AlarmOrchestrator), due, Deadline());

        await service.WaitForIdleAsync(Deadline());
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);

        clock.Advance(due - clock.GetUtcNow().UtcDateTime - TimeSpan.FromMilliseconds(1));
        await service.WaitForIdleAsync(Deadline());
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        await service.WaitForIdleAsync(Deadline());
        var done = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done!.RuntimeStatus);
        Assert.Equal("rang", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Timers_due_at_different_times_fire_one_by_one_as_the_fake_clock_advances()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = NewService(clock);
        await using var host = await WorkerHost.StartAsync(service, Orchestrations.Orchestrators, Orchestrations.Activities);
        var start = clock.GetUtcNow().UtcDateTime;
        var ids = new List<string>();
        foreach (var hours in new[] { 1, 2, 3 })
        {
            ids.Add(await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(AlarmOrchestrator), start.AddHours(hours), Deadline()));
        }

        for (var fired = 1; fired <= 3; fired++)
        {
            clock.Advance(TimeSpan.FromHours(1));
            await service.WaitForIdleAsync(Deadline());
            var statuses = await Task.WhenAll(ids.Select(async id => (await host.Client.GetInstanceAsync(id))!.RuntimeStatus));
            Assert.Equal(fired, statuses.Count(s => s == OrchestrationRuntimeStatus.Completed));
        }
    }

    [Fact]
    public async Task Orchestration_survives_closing_and_reopening_the_database()
    {
        string id;
        await using (var service = NewService())
        {
            await using var host = await WorkerHost.StartAsync(service, Orchestrations.Orchestrators, Orchestrations.Activities);
            id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(GateOrchestrator), "INC-77", Deadline());
            await service.WaitForIdleAsync(Deadline());
            Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);
        }

        await using (var reopened = NewService())
        {
            await using var host = await WorkerHost.StartAsync(reopened, Orchestrations.Orchestrators, Orchestrations.Activities);
            await host.Client.RaiseEventAsync(id, "Go", "the reopened store", Deadline());
            var result = await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Deadline());
            Assert.Equal("INC-77 went with the reopened store", result.ReadOutputAs<string>());
            var history = await reopened.GetHistoryEventsAsync(id);
            Assert.Single(history.OfType<ExecutionCompletedEvent>());
        }

        await using var third = NewService();
        var state = await third.GetOrchestrationStateAsync(id, executionId: null);
        Assert.Equal(OrchestrationStatus.Completed, state!.OrchestrationStatus);
    }

    [Fact]
    public async Task Expired_lock_of_a_hung_worker_is_taken_over_and_its_late_checkpoint_refused()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = NewService(clock, TimeSpan.FromMinutes(1));
        await service.CreateTaskOrchestrationAsync(StartMessage("hung-1"));

        var hung = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline());
        Assert.NotNull(hung);
        Assert.Null(await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromMilliseconds(50), Deadline()));

        clock.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromMilliseconds(1));
        Assert.Null(await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromMilliseconds(50), Deadline()));

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var takeover = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline());
        Assert.NotNull(takeover);
        Assert.Equal("hung-1", takeover.InstanceId);
        Assert.IsType<ExecutionStartedEvent>(Assert.Single(takeover.NewMessages).Event);

        await Assert.ThrowsAsync<InvalidOperationException>(() => service.RenewTaskOrchestrationWorkItemLockAsync(hung));
        await Assert.ThrowsAsync<InvalidOperationException>(() => service.CompleteTaskOrchestrationWorkItemAsync(
            hung, hung.OrchestrationRuntimeState, [], [], [], null, null));
    }

    [Fact]
    public async Task Expired_activity_lock_is_taken_over_and_the_stale_result_dropped()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = NewService(clock, TimeSpan.FromMinutes(1));
        var start = StartMessage("act-1");
        await service.CreateTaskOrchestrationAsync(start);
        var episode = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline());
        var scheduled = new TaskMessage
        {
            OrchestrationInstance = start.OrchestrationInstance,
            Event = new TaskScheduledEvent(0) { Name = nameof(AddOneActivity), Input = "1" },
        };
        await service.CompleteTaskOrchestrationWorkItemAsync(episode!, episode!.OrchestrationRuntimeState, [scheduled], [], [], null, null);
        await service.ReleaseTaskOrchestrationWorkItemAsync(episode);

        var first = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(5), Deadline());
        Assert.NotNull(first);
        Assert.Null(await service.LockNextTaskActivityWorkItem(TimeSpan.FromMilliseconds(50), Deadline()));
        clock.Advance(TimeSpan.FromMinutes(1));
        var second = await service.LockNextTaskActivityWorkItem(TimeSpan.FromSeconds(5), Deadline());
        Assert.NotNull(second);
        Assert.Equal(2, second.DeliveryAttempt);

        var response = new TaskMessage
        {
            OrchestrationInstance = first.TaskMessage.OrchestrationInstance,
            Event = new TaskCompletedEvent(-1, first.TaskMessage.Event.EventId, "2"),
        };
        await service.CompleteTaskActivityWorkItemAsync(first, response);
        Assert.Null(await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromMilliseconds(50), Deadline()));

        await service.CompleteTaskActivityWorkItemAsync(second, response);
        var next = await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline());
        Assert.IsType<TaskCompletedEvent>(Assert.Single(next!.NewMessages).Event);
    }

    [Fact]
    public async Task Locks_left_by_a_dead_owner_are_cleared_when_the_next_owner_opens_the_database()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using (var crashed = NewService(clock))
        {
            await crashed.CreateTaskOrchestrationAsync(StartMessage("orphan-1"));
            Assert.NotNull(await crashed.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline()));
        }

        await using var next = NewService(clock);
        var item = await next.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromSeconds(5), Deadline());

        Assert.Equal("orphan-1", item?.InstanceId);
    }

    [Fact]
    public async Task A_second_service_on_the_same_database_is_refused_while_the_first_is_open()
    {
        await using var first = NewService();

        var refused = Assert.Throws<InvalidOperationException>(() => NewService());

        Assert.Contains("in use", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_for_unknown_or_finished_instances_are_dropped()
    {
        await using var service = NewService();
        await using var host = await WorkerHost.StartAsync(service, Orchestrations.Orchestrators, Orchestrations.Activities);
        var done = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ChainOrchestrator), 1, Deadline());
        await host.Client.WaitForInstanceCompletionAsync(done, Deadline());

        await host.Client.RaiseEventAsync("nobody", "Go", "x", Deadline());
        await host.Client.RaiseEventAsync(done, "Go", "x", Deadline());
        await service.WaitForIdleAsync(Deadline());

        Assert.Null(await host.Client.GetInstanceAsync("nobody"));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(done))!.RuntimeStatus);
        Assert.Null(await service.LockNextTaskOrchestrationWorkItemAsync(TimeSpan.FromMilliseconds(20), Deadline()));
    }

    [Fact]
    public async Task Scheduled_start_waits_for_its_time_even_when_an_event_arrives_first()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = NewService(clock);
        await using var host = await WorkerHost.StartAsync(service, Orchestrations.Orchestrators, Orchestrations.Activities);
        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(
            nameof(GateOrchestrator), "CHG-5", new Microsoft.DurableTask.StartOrchestrationOptions { StartAt = clock.GetUtcNow().AddMinutes(30) }, Deadline());
        await host.Client.RaiseEventAsync(id, "Go", "the window", Deadline());

        await service.WaitForIdleAsync(Deadline());
        Assert.Equal(OrchestrationRuntimeStatus.Pending, (await host.Client.GetInstanceAsync(id))!.RuntimeStatus);

        clock.Advance(TimeSpan.FromMinutes(30));
        await service.WaitForIdleAsync(Deadline());
        var result = await host.Client.GetInstanceAsync(id, getInputsAndOutputs: true);
        Assert.Equal("CHG-5 went with the window", result!.ReadOutputAs<string>());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(10);
        }
    }
}
