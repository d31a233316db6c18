using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;
using Itsm.Durable.Replay;

namespace Itsm.Durable.Engine;

/// <summary>An instance as the dispatcher needs it.</summary>
internal sealed record InstanceRow(
    string InstanceId,
    string Name,
    string ExecutionId,
    OrchestrationRuntimeStatus Status,
    string? ParentInstanceId,
    string? ParentExecutionId,
    int? ParentTaskId);

/// <summary>What one episode starts from: the committed history of the current execution and the ready messages.</summary>
internal sealed record EpisodeWork(
    InstanceRow Instance,
    IReadOnlyList<HistoryEvent> PastEvents,
    IReadOnlyList<long> MessageIds,
    IReadOnlyList<HistoryEvent> Messages);

/// <summary>A message for an instance's next episode (a new event), visible from <see cref="VisibleAt"/>.</summary>
internal sealed record OutgoingMessage(string InstanceId, string? ExecutionId, int Priority, DateTimeOffset VisibleAt, HistoryEvent Event)
{
    /// <summary>ExecutionStarted goes first in an episode, carried-over events next, everything else in arrival order.</summary>
    public const int ExecutionStartedPriority = 0;
    public const int CarryoverPriority = 1;
    public const int NormalPriority = 2;
}

internal sealed record NewActivity(int TaskId, string Name, string? InputJson);

internal sealed record NewChild(string InstanceId, string Name, string? InputJson, int TaskId, HistoryEvent ExecutionStarted);

/// <summary>Everything one episode changes, written by the store in one transaction.</summary>
internal sealed class EpisodeCommit
{
    public required InstanceRow Instance { get; init; }

    public required IReadOnlyList<long> ConsumedMessageIds { get; init; }

    public List<HistoryEvent> AppendHistory { get; } = [];

    /// <summary>Continue-as-new: the history of the finished execution is dropped.</summary>
    public bool ResetHistory { get; set; }

    public List<NewActivity> Activities { get; } = [];

    public List<NewChild> Children { get; } = [];

    public List<OutgoingMessage> Messages { get; } = [];

    public OrchestrationRuntimeStatus Status { get; set; } = OrchestrationRuntimeStatus.Running;

    public string? Output { get; set; }

    public TaskFailureDetails? Failure { get; set; }

    public string? CustomStatus { get; set; }

    /// <summary>Continue-as-new: the new execution and its input.</summary>
    public string? NewExecutionId { get; set; }

    public string? NewInput { get; set; }
}

/// <summary>
/// The DTFx rules, as a pure function: given an episode and the orchestrator's answer, what is
/// appended to history and what is sent where. Events for actions are appended in the listed
/// order with <c>eventId</c> = action id, then <c>OrchestratorCompleted</c>.
/// </summary>
internal static class EpisodePlanner
{
    public const string TerminatedErrorType = "DurableTask.Core.Exceptions.OrchestrationTerminatedException";

    /// <summary>Builds the new events of an episode: OrchestratorStarted(now), then the ready messages.</summary>
    public static List<HistoryEvent> NewEvents(EpisodeWork work, DateTimeOffset now)
    {
        var events = new List<HistoryEvent>(work.Messages.Count + 1)
        {
            new() { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), OrchestratorStarted = new OrchestratorStartedEvent() },
        };
        events.AddRange(work.Messages);
        return events;
    }

    /// <summary>Reads the invoker's answer; a transport failure or an unusable answer fails the instance (as the extension does).</summary>
    public static EpisodeCommit Plan(
        EpisodeWork work,
        IReadOnlyList<HistoryEvent> newEvents,
        OrchestratorResponse? response,
        TaskFailureDetails? invocationFailure,
        DateTimeOffset now,
        Func<string> newExecutionId)
    {
        var commit = new EpisodeCommit { Instance = work.Instance, ConsumedMessageIds = work.MessageIds };
        commit.AppendHistory.AddRange(newEvents);
        var name = work.Instance.Name;

        var failure = invocationFailure ?? (response is null ? Unusable(name, "the response was empty.") : Validate(name, response));
        if (failure is not null || response is null)
        {
            failure ??= Unusable(name, "the response was empty.");
            Complete(commit, work, -1, OrchestrationStatus.Failed, failure.ErrorMessage, failure, now);
            commit.AppendHistory.Add(OrchestratorCompleted(now));
            return commit;
        }

        commit.CustomStatus = response.CustomStatus;
        foreach (var action in response.Actions)
        {
            if (ApplyAction(commit, work, action, now, newExecutionId))
            {
                break;
            }
        }

        commit.AppendHistory.Add(OrchestratorCompleted(now));
        return commit;
    }

    /// <summary>Applies one action; true when it completed the execution (later actions are ignored).</summary>
    private static bool ApplyAction(EpisodeCommit commit, EpisodeWork work, OrchestratorAction action, DateTimeOffset now, Func<string> newExecutionId)
    {
        var self = work.Instance;
        var timestamp = Timestamp.FromDateTimeOffset(now);
        switch (action.OrchestratorActionTypeCase)
        {
            case OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask:
                var task = action.ScheduleTask;
                commit.AppendHistory.Add(new HistoryEvent
                {
                    EventId = action.Id,
                    Timestamp = timestamp,
                    TaskScheduled = new TaskScheduledEvent { Name = task.Name, Version = task.Version, Input = task.Input },
                });
                commit.Activities.Add(new NewActivity(action.Id, task.Name, task.Input));
                return false;

            case OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer:
                var fireAt = action.CreateTimer.FireAt;
                commit.AppendHistory.Add(new HistoryEvent { EventId = action.Id, Timestamp = timestamp, TimerCreated = new TimerCreatedEvent { FireAt = fireAt } });
                commit.Messages.Add(new OutgoingMessage(
                    self.InstanceId,
                    self.ExecutionId,
                    OutgoingMessage.NormalPriority,
                    fireAt.ToDateTimeOffset(),
                    new HistoryEvent { EventId = -1, Timestamp = fireAt, TimerFired = new TimerFiredEvent { FireAt = fireAt, TimerId = action.Id } }));
                return false;

            case OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration:
                var sub = action.CreateSubOrchestration;
                commit.AppendHistory.Add(new HistoryEvent
                {
                    EventId = action.Id,
                    Timestamp = timestamp,
                    SubOrchestrationInstanceCreated = new SubOrchestrationInstanceCreatedEvent
                    {
                        InstanceId = sub.InstanceId,
                        Name = sub.Name,
                        Version = sub.Version,
                        Input = sub.Input,
                    },
                });
                commit.Children.Add(new NewChild(
                    sub.InstanceId,
                    sub.Name,
                    sub.Input,
                    action.Id,
                    ExecutionStarted(sub.Name, sub.Input, sub.InstanceId, newExecutionId(), now, new ParentInstanceInfo
                    {
                        TaskScheduledId = action.Id,
                        Name = self.Name,
                        Version = string.Empty,
                        OrchestrationInstance = new OrchestrationInstance { InstanceId = self.InstanceId, ExecutionId = self.ExecutionId },
                    })));
                return false;

            case OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent:
                var send = action.SendEvent;
                commit.AppendHistory.Add(new HistoryEvent
                {
                    EventId = action.Id,
                    Timestamp = timestamp,
                    EventSent = new EventSentEvent { InstanceId = send.Instance.InstanceId, Name = send.Name, Input = send.Data },
                });
                commit.Messages.Add(new OutgoingMessage(
                    send.Instance.InstanceId,
                    null,
                    OutgoingMessage.NormalPriority,
                    now,
                    new HistoryEvent { EventId = -1, Timestamp = timestamp, EventRaised = new EventRaisedEvent { Name = send.Name, Input = send.Data } }));
                return false;

            case OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration:
                var complete = action.CompleteOrchestration;
                var failure = complete.FailureDetails is null ? null : FailureDetailsMapping.FromWire(complete.FailureDetails);
                if (complete.OrchestrationStatus == OrchestrationStatus.ContinuedAsNew)
                {
                    ContinueAsNew(commit, work, complete, now, newExecutionId());
                }
                else
                {
                    Complete(commit, work, action.Id, complete.OrchestrationStatus, complete.Result, failure, now);
                }

                return true;

            default:
                return false;
        }
    }

    private static void Complete(
        EpisodeCommit commit,
        EpisodeWork work,
        int actionId,
        OrchestrationStatus status,
        string? result,
        TaskFailureDetails? failure,
        DateTimeOffset now)
    {
        var timestamp = Timestamp.FromDateTimeOffset(now);
        if (status == OrchestrationStatus.Failed)
        {
            failure ??= new TaskFailureDetails("(unknown)", result ?? "The orchestration failed without details.");
        }
        else
        {
            failure = null;
        }

        commit.AppendHistory.Add(new HistoryEvent
        {
            EventId = actionId,
            Timestamp = timestamp,
            ExecutionCompleted = new ExecutionCompletedEvent { OrchestrationStatus = status, Result = result, FailureDetails = failure?.ToWire() },
        });
        commit.Status = (OrchestrationRuntimeStatus)(int)status;
        commit.Output = result;
        commit.Failure = failure;

        var self = work.Instance;
        if (self.ParentInstanceId is null || self.ParentTaskId is not { } taskId)
        {
            return;
        }

        var notification = new HistoryEvent { EventId = -1, Timestamp = timestamp };
        if (status == OrchestrationStatus.Completed)
        {
            notification.SubOrchestrationInstanceCompleted = new SubOrchestrationInstanceCompletedEvent { TaskScheduledId = taskId, Result = result };
        }
        else
        {
            var details = failure ?? new TaskFailureDetails(TerminatedErrorType, $"The sub-orchestration '{self.InstanceId}' was terminated: {result}");
            notification.SubOrchestrationInstanceFailed = new SubOrchestrationInstanceFailedEvent { TaskScheduledId = taskId, FailureDetails = details.ToWire() };
        }

        commit.Messages.Add(new OutgoingMessage(self.ParentInstanceId, self.ParentExecutionId, OutgoingMessage.NormalPriority, now, notification));
    }

    private static void ContinueAsNew(EpisodeCommit commit, EpisodeWork work, CompleteOrchestrationAction complete, DateTimeOffset now, string executionId)
    {
        var self = work.Instance;
        var started = work.PastEvents.Concat(commit.AppendHistory).FirstOrDefault(e => e.ExecutionStarted is not null)?.ExecutionStarted;
        var version = complete.NewVersion ?? started?.Version ?? string.Empty;
        var executionStarted = ExecutionStarted(self.Name, complete.Result, self.InstanceId, executionId, now, started?.ParentInstance);
        executionStarted.ExecutionStarted.Version = version;

        commit.ResetHistory = true;
        commit.Status = OrchestrationRuntimeStatus.ContinuedAsNew;
        commit.NewExecutionId = executionId;
        commit.NewInput = complete.Result;
        commit.Messages.Add(new OutgoingMessage(self.InstanceId, executionId, OutgoingMessage.ExecutionStartedPriority, now, executionStarted));
        foreach (var carried in complete.CarryoverEvents.Where(e => e.EventRaised is not null))
        {
            commit.Messages.Add(new OutgoingMessage(
                self.InstanceId,
                executionId,
                OutgoingMessage.CarryoverPriority,
                now,
                new HistoryEvent
                {
                    EventId = -1,
                    Timestamp = carried.Timestamp ?? Timestamp.FromDateTimeOffset(now),
                    EventRaised = new EventRaisedEvent { Name = carried.EventRaised.Name, Input = carried.EventRaised.Input },
                }));
        }
    }

    public static HistoryEvent ExecutionStarted(string name, string? input, string instanceId, string executionId, DateTimeOffset at, ParentInstanceInfo? parent = null) => new()
    {
        EventId = -1,
        Timestamp = Timestamp.FromDateTimeOffset(at),
        ExecutionStarted = new ExecutionStartedEvent
        {
            Name = name,
            Version = string.Empty,
            Input = input,
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = executionId },
            ParentInstance = parent,
        },
    };

    /// <summary>The failure recorded when the orchestrator invocation itself failed (the host's "Function 'X' failed").</summary>
    public static TaskFailureDetails InvocationFailed(string orchestratorName, Exception exception) => new(
        exception.GetType().FullName ?? exception.GetType().Name,
        $"Function '{orchestratorName}' failed with an unhandled exception: {exception.Message}",
        exception.StackTrace,
        TaskFailureDetails.FromException(exception),
        IsNonRetriable: true);

    /// <summary>Decodes the base64 answer, or says why it cannot be used.</summary>
    public static OrchestratorResponse? Decode(string orchestratorName, string? base64, out TaskFailureDetails? failure)
    {
        failure = null;
        if (string.IsNullOrEmpty(base64))
        {
            failure = Unusable(orchestratorName, "the function returned no OrchestratorResponse.");
            return null;
        }

        try
        {
            return OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(base64));
        }
        catch (Exception exception) when (exception is FormatException or Google.Protobuf.InvalidProtocolBufferException)
        {
            failure = Unusable(orchestratorName, $"the response is not a base64 OrchestratorResponse ({exception.Message}).");
            return null;
        }
    }

    private static TaskFailureDetails? Validate(string orchestratorName, OrchestratorResponse response)
    {
        if (response.RequiresHistory)
        {
            return Unusable(orchestratorName, "the response asks for the history, but the full history was sent.");
        }

        foreach (var action in response.Actions)
        {
            var problem = action.OrchestratorActionTypeCase switch
            {
                OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask when string.IsNullOrEmpty(action.ScheduleTask.Name) =>
                    "a scheduleTask action has no name",
                OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer when action.CreateTimer.FireAt is null =>
                    "a createTimer action has no fireAt",
                OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration when
                    string.IsNullOrEmpty(action.CreateSubOrchestration.InstanceId) || string.IsNullOrEmpty(action.CreateSubOrchestration.Name) =>
                    "a createSubOrchestration action has no instance id or name",
                OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent when string.IsNullOrEmpty(action.SendEvent.Instance?.InstanceId) =>
                    "a sendEvent action has no target instance",
                OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration when action.CompleteOrchestration.OrchestrationStatus is not
                    (OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.ContinuedAsNew) =>
                    $"a completeOrchestration action has status {action.CompleteOrchestration.OrchestrationStatus}",
                OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask or
                OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer or
                OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration or
                OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent or
                OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration => null,
                _ => $"the action type {action.OrchestratorActionTypeCase} is not supported",
            };
            if (problem is not null)
            {
                return new TaskFailureDetails(
                    typeof(NotSupportedException).FullName!,
                    $"Function '{orchestratorName}' failed with an unhandled exception: {problem} (action #{action.Id}).",
                    IsNonRetriable: true);
            }
        }

        return null;
    }

    private static TaskFailureDetails Unusable(string orchestratorName, string why) => new(
        typeof(InvalidOperationException).FullName!,
        $"Function '{orchestratorName}' failed with an unhandled exception: {why}",
        IsNonRetriable: true);

    private static HistoryEvent OrchestratorCompleted(DateTimeOffset now) =>
        new() { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), OrchestratorCompleted = new OrchestratorCompletedEvent() };
}
