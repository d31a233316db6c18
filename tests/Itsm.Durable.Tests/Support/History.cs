using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;

namespace Itsm.Durable.Tests.Support;

/// <summary>History events shaped like the ones the Durable extension sends.</summary>
public static class History
{
    /// <summary>2025-01-01T00:00:00Z, the first episode time of the golden example.</summary>
    public static readonly DateTime T0 = DateTimeOffset.FromUnixTimeSeconds(1735689600).UtcDateTime;

    public static HistoryEvent OrchestratorStarted(DateTime at) =>
        new() { EventId = -1, Timestamp = Ts(at), OrchestratorStarted = new OrchestratorStartedEvent() };

    public static HistoryEvent OrchestratorCompleted(DateTime at) =>
        new() { EventId = -1, Timestamp = Ts(at), OrchestratorCompleted = new OrchestratorCompletedEvent() };

    public static HistoryEvent ExecutionStarted(string name, string? inputJson, DateTime at, string instanceId = "abc123", string executionId = "e1") =>
        new()
        {
            EventId = -1,
            Timestamp = Ts(at),
            ExecutionStarted = new ExecutionStartedEvent
            {
                Name = name,
                Version = string.Empty,
                Input = inputJson,
                OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId, ExecutionId = executionId },
            },
        };

    public static HistoryEvent TaskScheduled(int id, string name, string? inputJson = null, DateTime? at = null) =>
        new() { EventId = id, Timestamp = Ts(at ?? T0), TaskScheduled = new TaskScheduledEvent { Name = name, Input = inputJson } };

    public static HistoryEvent TaskCompleted(int id, string? resultJson, DateTime? at = null) =>
        new() { EventId = -1, Timestamp = Ts(at ?? T0), TaskCompleted = new TaskCompletedEvent { TaskScheduledId = id, Result = resultJson } };

    public static HistoryEvent TaskFailed(int id, string errorType, string message, DateTime? at = null) =>
        new()
        {
            EventId = -1,
            Timestamp = Ts(at ?? T0),
            TaskFailed = new TaskFailedEvent
            {
                TaskScheduledId = id,
                FailureDetails = new Protocol.TaskFailureDetails { ErrorType = errorType, ErrorMessage = message },
            },
        };

    public static HistoryEvent TimerCreated(int id, DateTime fireAt) =>
        new() { EventId = id, Timestamp = Ts(T0), TimerCreated = new TimerCreatedEvent { FireAt = Ts(fireAt) } };

    public static HistoryEvent TimerFired(int id, DateTime fireAt) =>
        new() { EventId = -1, Timestamp = Ts(fireAt), TimerFired = new TimerFiredEvent { TimerId = id, FireAt = Ts(fireAt) } };

    public static HistoryEvent EventRaised(string name, string? inputJson, DateTime? at = null) =>
        new() { EventId = -1, Timestamp = Ts(at ?? T0), EventRaised = new EventRaisedEvent { Name = name, Input = inputJson } };

    public static HistoryEvent SubOrchestrationCreated(int id, string name, string instanceId, string? inputJson = null) =>
        new()
        {
            EventId = id,
            Timestamp = Ts(T0),
            SubOrchestrationInstanceCreated = new SubOrchestrationInstanceCreatedEvent { Name = name, InstanceId = instanceId, Input = inputJson },
        };

    public static HistoryEvent SubOrchestrationCompleted(int id, string? resultJson) =>
        new() { EventId = -1, Timestamp = Ts(T0), SubOrchestrationInstanceCompleted = new SubOrchestrationInstanceCompletedEvent { TaskScheduledId = id, Result = resultJson } };

    public static HistoryEvent SubOrchestrationFailed(int id, string errorType, string message) =>
        new()
        {
            EventId = -1,
            Timestamp = Ts(T0),
            SubOrchestrationInstanceFailed = new SubOrchestrationInstanceFailedEvent
            {
                TaskScheduledId = id,
                FailureDetails = new Protocol.TaskFailureDetails { ErrorType = errorType, ErrorMessage = message },
            },
        };

    public static HistoryEvent EventSent(int id, string instanceId, string name, string? inputJson = null) =>
        new() { EventId = id, Timestamp = Ts(T0), EventSent = new EventSentEvent { InstanceId = instanceId, Name = name, Input = inputJson } };

    public static HistoryEvent ExecutionTerminated(string reason) =>
        new() { EventId = -1, Timestamp = Ts(T0), ExecutionTerminated = new ExecutionTerminatedEvent { Input = reason } };

    public static HistoryEvent ExecutionSuspended(string? reason = null) =>
        new() { EventId = -1, Timestamp = Ts(T0), ExecutionSuspended = new ExecutionSuspendedEvent { Input = reason } };

    public static HistoryEvent ExecutionResumed(string? reason = null) =>
        new() { EventId = -1, Timestamp = Ts(T0), ExecutionResumed = new ExecutionResumedEvent { Input = reason } };

    /// <summary>The events DTFx appends to history for the actions of a response (section 4.1 of the notes).</summary>
    public static IEnumerable<HistoryEvent> ForActions(IEnumerable<OrchestratorAction> actions, DateTime at)
    {
        foreach (var action in actions)
        {
            switch (action.OrchestratorActionTypeCase)
            {
                case OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask:
                    yield return TaskScheduled(action.Id, action.ScheduleTask.Name, action.ScheduleTask.Input, at);
                    break;
                case OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer:
                    yield return TimerCreated(action.Id, action.CreateTimer.FireAt.ToDateTime());
                    break;
                case OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration:
                    var sub = action.CreateSubOrchestration;
                    yield return SubOrchestrationCreated(action.Id, sub.Name, sub.InstanceId, sub.Input);
                    break;
                case OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent:
                    yield return EventSent(action.Id, action.SendEvent.Instance.InstanceId, action.SendEvent.Name, action.SendEvent.Data);
                    break;
                case OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration:
                    var complete = action.CompleteOrchestration;
                    yield return new HistoryEvent
                    {
                        EventId = action.Id,
                        Timestamp = Ts(at),
                        ExecutionCompleted = new ExecutionCompletedEvent { OrchestrationStatus = complete.OrchestrationStatus, Result = complete.Result },
                    };
                    break;
            }
        }
    }

    public static Timestamp Ts(DateTime at) => Timestamp.FromDateTime(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
