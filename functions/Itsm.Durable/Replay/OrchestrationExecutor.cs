using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;
using PublicFailure = Itsm.Durable.TaskFailureDetails;

namespace Itsm.Durable.Replay;

/// <summary>
/// Replays one orchestrator episode: <c>OrchestratorRequest</c> in, <c>OrchestratorResponse</c> out.
/// State is rebuilt from scratch every episode (no cache): past events, then new events, each one
/// followed by running the orchestrator's continuations to quiescence on this thread.
/// </summary>
internal sealed class OrchestrationExecutor
{
    private readonly OrchestratorRequest request;
    private readonly DurableFunctionRegistry registry;
    private readonly IServiceProvider services;
    private readonly ReplayScheduler scheduler = new();
    private readonly SortedDictionary<int, OrchestratorAction> pendingActions = [];
    private readonly Dictionary<int, Action<HistoryEvent>> openTasks = [];
    private readonly List<EventRaisedEvent> bufferedEvents = [];
    private readonly Dictionary<string, LinkedList<IEventWaiter>> waiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> eventsWhileSuspended = [];
    private readonly ReplayOrchestrationContext context;

    private int sequence;
    private int guidCounter;
    private bool suspended;
    private bool stopped;
    private bool dropPendingActions;
    private Task<object?>? orchestratorTask;
    private OrchestratorAction? completion;
    private (string? InputJson, bool PreserveEvents)? continueAsNew;
    private string? customStatusJson;
    private int threadId;

    public OrchestrationExecutor(OrchestratorRequest request, DurableFunctionRegistry registry, IServiceProvider services)
    {
        this.request = request;
        this.registry = registry;
        this.services = services;
        InstanceId = request.InstanceId;
        context = new ReplayOrchestrationContext(this);
    }

    public string InstanceId { get; private set; }

    public string Name { get; private set; } = string.Empty;

    public DateTime CurrentUtc { get; private set; } = DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Utc);

    public bool IsReplaying { get; private set; } = true;

    public IServiceProvider Services => services;

    public OrchestratorResponse Execute()
    {
        threadId = Environment.CurrentManagedThreadId;
        if (NeedsFullHistory())
        {
            return new OrchestratorResponse { InstanceId = InstanceId, RequiresHistory = true };
        }

        for (var index = 0; index < request.PastEvents.Count; index++)
        {
            if (stopped)
            {
                VerifyHistoryAfterCompletion(request.PastEvents.Skip(index));
                break;
            }

            Process(request.PastEvents[index]);
        }

        IsReplaying = false;
        foreach (var historyEvent in request.NewEvents)
        {
            if (stopped)
            {
                break;
            }

            Process(historyEvent);
        }

        if (!stopped && orchestratorTask is null && !suspended)
        {
            Fail(new PublicFailure(
                typeof(InvalidOperationException).FullName!,
                "The orchestration history has no ExecutionStarted event, so the orchestrator cannot start.",
                IsNonRetriable: true));
        }

        if (!stopped && !suspended && orchestratorTask is { IsCompleted: false }
            && openTasks.Count == 0 && waiters.Values.All(queue => queue.Count == 0))
        {
            // Nothing durable can ever resume the code: it awaits something else (Task.Delay, I/O,
            // a hand-made TaskCompletionSource). Without this the instance would hang forever.
            Fail(new PublicFailure(
                typeof(InvalidOperationException).FullName!,
                "The orchestrator is waiting for something that is not a durable task (for example Task.Delay, I/O or Task.Run). "
                + "Orchestrators may only await tasks from the TaskOrchestrationContext.",
                IsNonRetriable: true));
        }

        stopped = true;
        return BuildResponse();
    }

    // ----------------------------------------------------------------- event processing

    private void Process(HistoryEvent historyEvent)
    {
        var type = historyEvent.EventTypeCase;
        if (suspended && IsMessage(type))
        {
            eventsWhileSuspended.Add(historyEvent);
            return;
        }

        switch (type)
        {
            case HistoryEvent.EventTypeOneofCase.OrchestratorStarted:
                if (historyEvent.Timestamp is not null)
                {
                    CurrentUtc = historyEvent.Timestamp.ToDateTime();
                }

                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionStarted:
                StartOrchestrator(historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskScheduled:
                MatchAction(historyEvent.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask, historyEvent.TaskScheduled.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.TimerCreated:
                MatchAction(historyEvent.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer, null);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated:
                MatchAction(historyEvent.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration, historyEvent.SubOrchestrationInstanceCreated.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.EventSent:
                MatchAction(historyEvent.EventId, OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent, historyEvent.EventSent.Name);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskCompleted:
                CompleteOpenTask(historyEvent.TaskCompleted.TaskScheduledId, historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.TaskFailed:
                CompleteOpenTask(historyEvent.TaskFailed.TaskScheduledId, historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted:
                CompleteOpenTask(historyEvent.SubOrchestrationInstanceCompleted.TaskScheduledId, historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed:
                CompleteOpenTask(historyEvent.SubOrchestrationInstanceFailed.TaskScheduledId, historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.TimerFired:
                CompleteOpenTask(historyEvent.TimerFired.TimerId, historyEvent);
                break;
            case HistoryEvent.EventTypeOneofCase.EventRaised:
                RaiseEvent(historyEvent.EventRaised);
                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionTerminated:
                Terminate(historyEvent.ExecutionTerminated.Input);
                return;
            case HistoryEvent.EventTypeOneofCase.ExecutionSuspended:
                suspended = true;
                break;
            case HistoryEvent.EventTypeOneofCase.ExecutionResumed:
                Resume();
                return;
            default:
                // orchestratorCompleted, executionCompleted, continueAsNew, genericEvent,
                // historyState, entity events, rewind: nothing to replay.
                break;
        }

        RunToQuiescence();
    }

    /// <summary>Events that deliver something to the orchestrator; held back while suspended.</summary>
    private static bool IsMessage(HistoryEvent.EventTypeOneofCase type) => type is
        HistoryEvent.EventTypeOneofCase.ExecutionStarted or
        HistoryEvent.EventTypeOneofCase.TaskCompleted or
        HistoryEvent.EventTypeOneofCase.TaskFailed or
        HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted or
        HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed or
        HistoryEvent.EventTypeOneofCase.TimerFired or
        HistoryEvent.EventTypeOneofCase.EventRaised;

    private bool NeedsFullHistory()
    {
        // Extended sessions: IncludeState=false means the host left out the past events because it
        // expects a cached state we never keep. A brand-new execution (ExecutionStarted among the
        // new events) is complete anyway.
        var includeStateFalse = request.Properties.TryGetValue("IncludeState", out var includeState)
            && includeState.KindCase == Value.KindOneofCase.BoolValue
            && !includeState.BoolValue;
        return includeStateFalse
            && request.PastEvents.Count == 0
            && !request.NewEvents.Any(e => e.EventTypeCase == HistoryEvent.EventTypeOneofCase.ExecutionStarted);
    }

    private void StartOrchestrator(HistoryEvent historyEvent)
    {
        if (orchestratorTask is not null)
        {
            return;
        }

        var started = historyEvent.ExecutionStarted;
        Name = started.Name;
        if (string.IsNullOrEmpty(InstanceId) && started.OrchestrationInstance is not null)
        {
            InstanceId = started.OrchestrationInstance.InstanceId;
        }

        if (CurrentUtc == DateTime.MinValue && historyEvent.Timestamp is not null)
        {
            CurrentUtc = historyEvent.Timestamp.ToDateTime();
        }

        if (!registry.ContainsOrchestrator(Name))
        {
            Fail(new PublicFailure(
                typeof(InvalidOperationException).FullName!,
                $"No orchestrator named '{Name}' is registered with this app.",
                IsNonRetriable: true));
            return;
        }

        var inputJson = started.Input;
        orchestratorTask = scheduler.Start(() =>
        {
            registry.TryCreateOrchestrator(Name, services, out var orchestrator);
            var input = DurableJson.Deserialize(inputJson, orchestrator!.InputType);
            return orchestrator.RunAsync(context, input);
        });
    }

    private void MatchAction(int id, OrchestratorAction.OrchestratorActionTypeOneofCase expectedType, string? expectedName)
    {
        if (!pendingActions.TryGetValue(id, out var action))
        {
            NonDeterminism($"History has {Describe(expectedType, expectedName)} with id {id}, but the orchestrator did not create an action with that id during replay.");
            return;
        }

        if (action.OrchestratorActionTypeCase != expectedType
            || (expectedName is not null && !string.Equals(ActionName(action), expectedName, StringComparison.OrdinalIgnoreCase)))
        {
            NonDeterminism(
                $"History has {Describe(expectedType, expectedName)} with id {id}, but the orchestrator created "
                + $"{Describe(action.OrchestratorActionTypeCase, ActionName(action))} with that id during replay.");
            return;
        }

        pendingActions.Remove(id);
    }

    private static string? ActionName(OrchestratorAction action) => action.OrchestratorActionTypeCase switch
    {
        OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask => action.ScheduleTask.Name,
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => action.CreateSubOrchestration.Name,
        OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent => action.SendEvent.Name,
        _ => null,
    };

    private static string Describe(OrchestratorAction.OrchestratorActionTypeOneofCase type, string? name) => type switch
    {
        OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask => $"a call to activity '{name}'",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration => $"a call to sub-orchestrator '{name}'",
        OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent => $"an event '{name}' sent to another instance",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer => "a durable timer",
        _ => $"an action of type {type}",
    };

    private void CompleteOpenTask(int id, HistoryEvent historyEvent)
    {
        // An unknown id is a duplicate delivery or a task the code no longer waits for: ignore it.
        if (openTasks.Remove(id, out var complete))
        {
            scheduler.Run(() => complete(historyEvent));
        }
    }

    private void RaiseEvent(EventRaisedEvent raised)
    {
        if (waiters.TryGetValue(raised.Name, out var queue) && queue.First is { } oldest)
        {
            queue.RemoveFirst();
            scheduler.Run(() => oldest.Value.Deliver(raised.Input));
            return;
        }

        bufferedEvents.Add(raised);
    }

    private void Terminate(string? reason)
    {
        dropPendingActions = true;
        Complete(new CompleteOrchestrationAction
        {
            OrchestrationStatus = OrchestrationStatus.Terminated,
            Result = reason,
        });
    }

    private void Resume()
    {
        suspended = false;
        var held = eventsWhileSuspended.ToArray();
        eventsWhileSuspended.Clear();
        foreach (var historyEvent in held)
        {
            if (stopped)
            {
                break;
            }

            Process(historyEvent);
        }

        RunToQuiescence();
    }

    /// <summary>
    /// The code finished while replaying, yet history records more actions than it created: the
    /// code changed (for example, an activity call was removed). That is non-determinism too.
    /// </summary>
    private void VerifyHistoryAfterCompletion(IEnumerable<HistoryEvent> remaining)
    {
        if (completion?.CompleteOrchestration.OrchestrationStatus is not (OrchestrationStatus.Completed or OrchestrationStatus.ContinuedAsNew))
        {
            return;
        }

        foreach (var historyEvent in remaining)
        {
            var recorded = historyEvent.EventTypeCase switch
            {
                HistoryEvent.EventTypeOneofCase.TaskScheduled => Describe(OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask, historyEvent.TaskScheduled.Name),
                HistoryEvent.EventTypeOneofCase.TimerCreated => Describe(OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer, null),
                HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCreated => Describe(OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration, historyEvent.SubOrchestrationInstanceCreated.Name),
                HistoryEvent.EventTypeOneofCase.EventSent => Describe(OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent, historyEvent.EventSent.Name),
                _ => null,
            };
            if (recorded is not null && !pendingActions.ContainsKey(historyEvent.EventId))
            {
                sequence = completion.Id;
                completion = null;
                NonDeterminism($"History has {recorded} with id {historyEvent.EventId}, but the orchestrator completed during replay without creating it.");
                return;
            }
        }
    }

    private void RunToQuiescence()
    {
        if (stopped)
        {
            return;
        }

        scheduler.Pump();
        if (scheduler.UnhandledException is { } unhandled)
        {
            Fail(PublicFailure.FromException(unhandled));
            return;
        }

        if (orchestratorTask is { IsCompleted: true })
        {
            CompleteFromOrchestratorTask(orchestratorTask);
        }
    }

    private void CompleteFromOrchestratorTask(Task<object?> task)
    {
        object? output;
        try
        {
            output = task.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            Fail(PublicFailure.FromException(exception));
            return;
        }

        if (continueAsNew is { } next)
        {
            var action = new CompleteOrchestrationAction
            {
                OrchestrationStatus = OrchestrationStatus.ContinuedAsNew,
                Result = next.InputJson,
            };
            if (next.PreserveEvents)
            {
                foreach (var raised in bufferedEvents)
                {
                    action.CarryoverEvents.Add(new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Timestamp.FromDateTime(CurrentUtc),
                        EventRaised = raised.Clone(),
                    });
                }
            }

            Complete(action);
            return;
        }

        string? resultJson;
        try
        {
            resultJson = DurableJson.Serialize(output);
        }
        catch (Exception exception)
        {
            Fail(PublicFailure.FromException(exception));
            return;
        }

        Complete(new CompleteOrchestrationAction { OrchestrationStatus = OrchestrationStatus.Completed, Result = resultJson });
    }

    private void NonDeterminism(string message)
    {
        dropPendingActions = true;
        Fail(new PublicFailure(FailureDetailsMapping.NonDeterminismErrorType, message, IsNonRetriable: true));
    }

    private void Fail(PublicFailure failure) => Complete(new CompleteOrchestrationAction
    {
        OrchestrationStatus = OrchestrationStatus.Failed,
        Result = failure.ErrorMessage,
        FailureDetails = failure.ToWire(),
    });

    private void Complete(CompleteOrchestrationAction action)
    {
        if (completion is not null)
        {
            return;
        }

        completion = new OrchestratorAction { Id = sequence++, CompleteOrchestration = action };
        stopped = true;
    }

    private OrchestratorResponse BuildResponse()
    {
        var response = new OrchestratorResponse { InstanceId = InstanceId, CustomStatus = customStatusJson };
        if (suspended && completion is null)
        {
            // Suspended: nothing is sent; the same actions are recreated on replay after resume.
            return response;
        }

        if (!dropPendingActions)
        {
            response.Actions.AddRange(pendingActions.Values);
        }

        if (completion is not null)
        {
            response.Actions.Add(completion);
        }

        return response;
    }

    // ----------------------------------------------------------------- called by the context

    private int NextActionId(OrchestratorAction action)
    {
        EnsureOrchestrationThread();
        var id = sequence++;
        action.Id = id;
        pendingActions.Add(id, action);
        return id;
    }

    private void EnsureOrchestrationThread()
    {
        if (Environment.CurrentManagedThreadId != threadId)
        {
            throw new InvalidOperationException(
                "Orchestrator code left the orchestration thread (ConfigureAwait(false), Task.Run or a thread-pool callback). "
                + "Orchestrators must only await tasks created by the TaskOrchestrationContext.");
        }

        if (stopped)
        {
            throw new InvalidOperationException("The orchestration episode is over; no more actions can be created.");
        }
    }

    internal Task<string?> ScheduleTask(string name, string? inputJson)
    {
        var id = NextActionId(new OrchestratorAction { ScheduleTask = new ScheduleTaskAction { Name = name, Input = inputJson } });
        var completionSource = new TaskCompletionSource<string?>();
        openTasks[id] = e =>
        {
            if (e.EventTypeCase == HistoryEvent.EventTypeOneofCase.TaskFailed)
            {
                completionSource.TrySetException(new TaskFailedException(name, id, FailureDetailsMapping.FromWire(e.TaskFailed.FailureDetails)));
            }
            else if (e.EventTypeCase == HistoryEvent.EventTypeOneofCase.TaskCompleted)
            {
                var result = e.TaskCompleted.Result;
                if (ActivityResult.TryReadFailureEnvelope(result, out var failure))
                {
                    completionSource.TrySetException(new TaskFailedException(name, id, failure!));
                }
                else
                {
                    completionSource.TrySetResult(result);
                }
            }
        };
        return completionSource.Task;
    }

    internal Task<string?> CallSubOrchestrator(string name, string? instanceId, string? inputJson)
    {
        var action = new CreateSubOrchestrationAction { Name = name, Input = inputJson };
        var id = NextActionId(new OrchestratorAction { CreateSubOrchestration = action });
        action.InstanceId = instanceId ?? $"{InstanceId}:{id:X4}";
        var completionSource = new TaskCompletionSource<string?>();
        openTasks[id] = e =>
        {
            if (e.EventTypeCase == HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceFailed)
            {
                completionSource.TrySetException(new SubOrchestrationFailedException(
                    name, id, FailureDetailsMapping.FromWire(e.SubOrchestrationInstanceFailed.FailureDetails)));
            }
            else if (e.EventTypeCase == HistoryEvent.EventTypeOneofCase.SubOrchestrationInstanceCompleted)
            {
                completionSource.TrySetResult(e.SubOrchestrationInstanceCompleted.Result);
            }
        };
        return completionSource.Task;
    }

    /// <summary>One durable timer (one action id); long timers are chained by the context.</summary>
    internal Task CreateSingleTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        var id = NextActionId(new OrchestratorAction { CreateTimer = new CreateTimerAction { FireAt = Timestamp.FromDateTime(fireAtUtc) } });
        var completionSource = new TaskCompletionSource();
        var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() => completionSource.TrySetCanceled(cancellationToken))
            : default;
        openTasks[id] = _ =>
        {
            registration.Dispose();
            completionSource.TrySetResult();
        };
        return completionSource.Task;
    }

    internal void SendEvent(string instanceId, string eventName, string? dataJson) =>
        NextActionId(new OrchestratorAction
        {
            SendEvent = new SendEventAction
            {
                Instance = new OrchestrationInstance { InstanceId = instanceId },
                Name = eventName,
                Data = dataJson,
            },
        });

    internal Task<T> WaitForEvent<T>(string eventName, CancellationToken cancellationToken)
    {
        EnsureOrchestrationThread();
        var index = bufferedEvents.FindIndex(e => string.Equals(e.Name, eventName, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            var raised = bufferedEvents[index];
            bufferedEvents.RemoveAt(index);
            var waiter = new EventWaiter<T>();
            waiter.Deliver(raised.Input);
            return waiter.Task;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }

        var pending = new EventWaiter<T>();
        if (!waiters.TryGetValue(eventName, out var queue))
        {
            queue = new LinkedList<IEventWaiter>();
            waiters.Add(eventName, queue);
        }

        var node = queue.AddLast(pending);
        if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.Register(() =>
            {
                if (node.List is not null)
                {
                    queue.Remove(node);
                }

                pending.Cancel(cancellationToken);
            });
        }

        return pending.Task;
    }

    internal Guid NewGuid()
    {
        var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{InstanceId}_{CurrentUtc:o}_{guidCounter++}");
        return DeterministicGuid.Create(DeterministicGuid.OrchestrationNamespace, name);
    }

    internal void SetCustomStatus(object? customStatus) => customStatusJson = DurableJson.Serialize(customStatus);

    internal void ContinueAsNew(object? newInput, bool preserveUnprocessedEvents) =>
        continueAsNew = (DurableJson.Serialize(newInput), preserveUnprocessedEvents);

    private interface IEventWaiter
    {
        void Deliver(string? inputJson);
    }

    private sealed class EventWaiter<T> : IEventWaiter
    {
        private readonly TaskCompletionSource<T> completionSource = new();

        public Task<T> Task => completionSource.Task;

        public CancellationTokenRegistration Registration { get; set; }

        public void Deliver(string? inputJson)
        {
            Registration.Dispose();
            try
            {
                completionSource.TrySetResult(DurableJson.Deserialize<T>(inputJson)!);
            }
            catch (System.Text.Json.JsonException exception)
            {
                completionSource.TrySetException(exception);
            }
        }

        public void Cancel(CancellationToken cancellationToken) => completionSource.TrySetCanceled(cancellationToken);
    }
}
