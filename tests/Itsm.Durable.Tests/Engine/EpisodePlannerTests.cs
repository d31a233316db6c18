using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Engine;
using Itsm.Durable.Protocol;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests.Engine;

/// <summary>The DTFx commit rules as a pure function: no database, no invoker.</summary>
public sealed class EpisodePlannerTests
{
    private static readonly DateTimeOffset Now = EngineHarness.Start;

    private static readonly InstanceRow Instance = new("abc123", "ApprovalFlow", "e1", OrchestrationRuntimeStatus.Running, null, null, null);

    [Fact]
    public void Actions_become_history_in_listed_order_with_their_ids_then_orchestrator_completed()
    {
        var work = Work(History.TaskCompleted(0, "\"A-done\""));
        var fireAt = Now.AddHours(24);
        var response = new OrchestratorResponse
        {
            Actions =
            {
                new OrchestratorAction { Id = 1, ScheduleTask = new ScheduleTaskAction { Name = "B", Input = "1" } },
                new OrchestratorAction { Id = 2, CreateTimer = new CreateTimerAction { FireAt = Timestamp.FromDateTimeOffset(fireAt) } },
                new OrchestratorAction { Id = 3, SendEvent = new SendEventAction { Instance = new OrchestrationInstance { InstanceId = "other" }, Name = "Go", Data = "true" } },
            },
            CustomStatus = "\"waiting\"",
        };

        var commit = EpisodePlanner.Plan(work, EpisodePlanner.NewEvents(work, Now), response, null, Now, () => "e2");

        Assert.Equal(
            ["OrchestratorStarted", "TaskCompleted", "TaskScheduled#1", "TimerCreated#2", "EventSent#3", "OrchestratorCompleted"],
            commit.AppendHistory.Select(e => e.EventId >= 0 ? $"{e.EventTypeCase}#{e.EventId}" : e.EventTypeCase.ToString()));
        Assert.Equal(new NewActivity(1, "B", "1"), Assert.Single(commit.Activities));
        var timer = Assert.Single(commit.Messages, m => m.Event.TimerFired is not null);
        Assert.Equal(("abc123", "e1", fireAt, 2), (timer.InstanceId, timer.ExecutionId, timer.VisibleAt, timer.Event.TimerFired.TimerId));
        var sent = Assert.Single(commit.Messages, m => m.Event.EventRaised is not null);
        Assert.Equal(("other", (string?)null, "Go", "true"), (sent.InstanceId, sent.ExecutionId, sent.Event.EventRaised.Name, sent.Event.EventRaised.Input));
        Assert.Equal(OrchestrationRuntimeStatus.Running, commit.Status);
        Assert.Equal("\"waiting\"", commit.CustomStatus);
    }

    [Fact]
    public void Continue_as_new_plans_a_fresh_execution_with_the_new_input_and_carried_over_events()
    {
        var work = Work(History.EventRaised("Vote", "1"));
        var response = new OrchestratorResponse
        {
            Actions =
            {
                new OrchestratorAction
                {
                    Id = 0,
                    CompleteOrchestration = new CompleteOrchestrationAction
                    {
                        OrchestrationStatus = OrchestrationStatus.ContinuedAsNew,
                        Result = "{\"round\":2}",
                        CarryoverEvents = { History.EventRaised("Vote", "2") },
                    },
                },
            },
        };

        var commit = EpisodePlanner.Plan(work, EpisodePlanner.NewEvents(work, Now), response, null, Now, () => "e2");

        Assert.True(commit.ResetHistory);
        Assert.Equal(("e2", "{\"round\":2}", OrchestrationRuntimeStatus.ContinuedAsNew), (commit.NewExecutionId, commit.NewInput, commit.Status));
        Assert.Collection(
            commit.Messages,
            started =>
            {
                Assert.Equal(OutgoingMessage.ExecutionStartedPriority, started.Priority);
                Assert.Equal("{\"round\":2}", started.Event.ExecutionStarted.Input);
                Assert.Equal("e2", started.Event.ExecutionStarted.OrchestrationInstance.ExecutionId);
            },
            carried =>
            {
                Assert.Equal(OutgoingMessage.CarryoverPriority, carried.Priority);
                Assert.Equal(("Vote", "2"), (carried.Event.EventRaised.Name, carried.Event.EventRaised.Input));
            });
    }

    [Fact]
    public void Completion_of_a_sub_orchestration_is_sent_to_the_parent_execution_with_the_task_id()
    {
        var child = Instance with { InstanceId = "abc123:0004", ParentInstanceId = "abc123", ParentExecutionId = "p1", ParentTaskId = 4 };
        var work = new EpisodeWork(child, [], [1], [History.TaskCompleted(0, "\"x\"")]);
        var response = new OrchestratorResponse
        {
            Actions = { new OrchestratorAction { Id = 1, CompleteOrchestration = new CompleteOrchestrationAction { OrchestrationStatus = OrchestrationStatus.Completed, Result = "\"ok\"" } } },
        };

        var commit = EpisodePlanner.Plan(work, EpisodePlanner.NewEvents(work, Now), response, null, Now, () => "unused");

        var notice = Assert.Single(commit.Messages);
        Assert.Equal(("abc123", "p1"), (notice.InstanceId, notice.ExecutionId));
        Assert.Equal(4, notice.Event.SubOrchestrationInstanceCompleted.TaskScheduledId);
        Assert.Equal("\"ok\"", notice.Event.SubOrchestrationInstanceCompleted.Result);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, commit.Status);
    }

    [Fact]
    public void Unsupported_action_fails_the_instance_as_the_extension_does()
    {
        var work = Work(History.TaskCompleted(0, null));
        var response = new OrchestratorResponse
        {
            Actions = { new OrchestratorAction { Id = 1, TerminateOrchestration = new TerminateOrchestrationAction { InstanceId = "x" } } },
        };

        var commit = EpisodePlanner.Plan(work, EpisodePlanner.NewEvents(work, Now), response, null, Now, () => "unused");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, commit.Status);
        Assert.Equal(typeof(NotSupportedException).FullName, commit.Failure!.ErrorType);
        Assert.Empty(commit.Activities);
        Assert.Equal(OrchestrationStatus.Failed, Assert.Single(commit.AppendHistory, e => e.ExecutionCompleted is not null).ExecutionCompleted.OrchestrationStatus);
    }

    private static EpisodeWork Work(HistoryEvent message) => new(
        Instance,
        [
            History.OrchestratorStarted(History.T0),
            History.ExecutionStarted("ApprovalFlow", "\"order-42\"", History.T0),
            History.TaskScheduled(0, "A"),
            History.OrchestratorCompleted(History.T0),
        ],
        [1],
        [message]);
}
