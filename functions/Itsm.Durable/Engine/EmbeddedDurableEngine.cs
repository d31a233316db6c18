using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Durable.Engine;

/// <summary>
/// The Durable backend for the standalone app: what DTFx and the Durable extension do in Azure.
/// It stores instances, history and queued messages in SQLite, builds each episode's
/// <c>OrchestratorRequest</c> (committed history as past events, <c>[OrchestratorStarted, ready
/// messages…]</c> as new events), runs it through <see cref="IDurableFunctionInvoker"/>, and
/// applies the returned actions in one transaction. Activities run at least once under a renewed
/// lock. Timers are messages that become visible at their fire time: the dispatcher keeps only the
/// next due instant in memory and sleeps on the injected <see cref="TimeProvider"/> until then.
/// Everything needed to resume is in the database, so a killed process picks up where it stopped.
/// </summary>
public sealed class EmbeddedDurableEngine : IAsyncDisposable
{
    private const int Created = 0;
    private const int Running = 1;
    private const int Stopped = 2;

    private readonly EmbeddedEngineOptions options;
    private readonly IDurableFunctionInvoker invoker;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly DurableStore store;
    private readonly WakeSignal orchestrationWake = new();
    private readonly WakeSignal activityWake = new();
    private readonly WakeSignal changed = new();
    private readonly ConcurrentDictionary<string, Task> episodes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Task> activities = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly CancellationTokenSource abandon = new();
    private readonly Lock lifecycle = new();
    private Task orchestrationLoop = Task.CompletedTask;
    private Task activityLoop = Task.CompletedTask;
    private int state = Created;

    // For WaitForIdleAsync: passes of a dispatcher in progress, and work started so far.
    private int claiming;
    private long generation;

    public EmbeddedDurableEngine(EmbeddedEngineOptions options, IDurableFunctionInvoker invoker, TimeProvider time, ILogger<EmbeddedDurableEngine>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(invoker);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.DatabasePath);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentActivities, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxConcurrentOrchestrations, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.ActivityLockDuration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxWait, TimeSpan.Zero);
        this.options = options;
        this.invoker = invoker;
        this.time = time;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        store = new DurableStore(options.DatabasePath);
    }

    public bool IsRunning => Volatile.Read(ref state) == Running;

    // ------------------------------------------------------------------ lifecycle

    /// <summary>Starts the dispatch loops. Their first pass reads the schedule from the database, so work left by a previous process resumes.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        lock (lifecycle)
        {
            if (state != Created)
            {
                throw new InvalidOperationException("An embedded durable engine is started once; create a new one to run again.");
            }

            state = Running;
            orchestrationLoop = Task.Run(() => OrchestrationLoopAsync(stopping.Token), CancellationToken.None);
            activityLoop = Task.Run(() => ActivityLoopAsync(stopping.Token), CancellationToken.None);
        }

        logger.LogInformation("Embedded durable engine started on {DatabasePath}", options.DatabasePath);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops dispatching and lets in-flight episodes and activities finish. If <paramref name="ct"/>
    /// is cancelled first, they are abandoned as a killed process would abandon them: nothing more is
    /// committed, and the next engine runs them again (activities once their lock has expired).
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        lock (lifecycle)
        {
            if (state != Running)
            {
                state = Stopped;
                return;
            }

            state = Stopped;
        }

        await stopping.CancelAsync();
        orchestrationWake.Set();
        activityWake.Set();
        await Task.WhenAll(orchestrationLoop, activityLoop);

        var inFlight = episodes.Values.Concat(activities.Values).ToArray();
        try
        {
            await Task.WhenAll(inFlight).WaitAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            logger.LogWarning("Embedded durable engine stopped with {Count} episodes or activities abandoned", inFlight.Count(t => !t.IsCompleted));
            await abandon.CancelAsync();
        }

        changed.Set();
        logger.LogInformation("Embedded durable engine stopped");
    }

    /// <summary>Stops without waiting: in-flight work is abandoned (see <see cref="StopAsync(CancellationToken)"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(new CancellationToken(canceled: true));
        await abandon.CancelAsync();
    }

    // ------------------------------------------------------------------ management

    /// <summary>Creates an instance. Idempotent on the id: an existing instance, running or finished, is not started again.</summary>
    public Task<StartOrchestrationResult> StartAsync(string orchestratorName, string instanceId, string? inputJson, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        ValidateInstanceId(instanceId);
        ct.ThrowIfCancellationRequested();
        var (created, status) = store.CreateInstance(instanceId, orchestratorName, inputJson, NewExecutionId(), time.GetUtcNow());
        if (created)
        {
            Changed();
        }

        return Task.FromResult(new StartOrchestrationResult(instanceId, created, status));
    }

    /// <summary>Queues <c>EventRaised</c>; refused for a finished instance (the 410 case).</summary>
    public Task<RaiseEventOutcome> RaiseEventAsync(string instanceId, string eventName, string? dataJson, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ct.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
        var status = store.SendToInstance(
            instanceId,
            new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), EventRaised = new EventRaisedEvent { Name = eventName, Input = dataJson } },
            now);
        return Task.FromResult(Outcome(status, RaiseEventOutcome.NotFound, RaiseEventOutcome.InstanceCompleted, RaiseEventOutcome.Accepted));
    }

    /// <summary>Queues <c>ExecutionTerminated</c> (the reason as raw text); the next episode ends the instance as Terminated.</summary>
    public Task<TerminateOutcome> TerminateAsync(string instanceId, string? reason, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ct.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
        var status = store.SendToInstance(
            instanceId,
            new HistoryEvent { EventId = -1, Timestamp = Timestamp.FromDateTimeOffset(now), ExecutionTerminated = new ExecutionTerminatedEvent { Input = reason } },
            now);
        return Task.FromResult(Outcome(status, TerminateOutcome.NotFound, TerminateOutcome.InstanceCompleted, TerminateOutcome.Accepted));
    }

    /// <summary>The instance's status; input and output only when asked for. Null when unknown.</summary>
    public Task<OrchestrationInstanceStatus?> GetStatusAsync(string instanceId, bool includeInputsAndOutputs, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(store.GetStatus(instanceId, includeInputsAndOutputs));
    }

    /// <summary>The committed history of the instance's current execution (empty when unknown).</summary>
    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(store.GetHistory(instanceId));
    }

    /// <summary>Deletes a finished instance and its history. False when it is unknown or still running.</summary>
    public Task<bool> PurgeAsync(string instanceId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ct.ThrowIfCancellationRequested();
        return Task.FromResult(store.Purge(instanceId));
    }

    /// <summary>
    /// Test and benchmark helper: completes with true when nothing is runnable right now (no ready
    /// episode, no ready or running activity). Timers in the future do not count. False when the
    /// engine is not running.
    /// </summary>
    public async Task<bool> WaitForIdleAsync(CancellationToken ct)
    {
        while (true)
        {
            if (!IsRunning)
            {
                return false;
            }

            var change = changed.Arm();
            if (IsIdle())
            {
                return true;
            }

            if (episodes.IsEmpty && activities.IsEmpty)
            {
                // Ready work and nothing running: make sure the loops look again (a clock moved by a
                // test can outrun a wait computed a moment earlier).
                orchestrationWake.Set();
                activityWake.Set();
            }

            await change.WaitAsync(ct);
        }
    }

    /// <summary>
    /// Nothing running, nothing claimed and nothing ready in the database. The in-memory check is
    /// repeated after the database one: work claimed in between (an activity locked, so no longer
    /// "ready", but not yet in the running set) shows up as a changed generation.
    /// </summary>
    private bool IsIdle()
    {
        var before = Interlocked.Read(ref generation);
        if (!NothingInFlight())
        {
            return false;
        }

        var now = time.GetUtcNow();
        return !store.AnyReadyInstance(now, [.. episodes.Keys])
            && !store.AnyReadyActivity(now, [.. activities.Keys])
            && NothingInFlight()
            && Interlocked.Read(ref generation) == before;
    }

    private bool NothingInFlight() => Volatile.Read(ref claiming) == 0 && episodes.IsEmpty && activities.IsEmpty;

    // ------------------------------------------------------------------ orchestration dispatch

    private async Task OrchestrationLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var wake = orchestrationWake.Arm();
            DateTimeOffset? due;
            Interlocked.Increment(ref claiming);
            try
            {
                var now = time.GetUtcNow();
                var free = options.MaxConcurrentOrchestrations - episodes.Count;
                if (free > 0)
                {
                    foreach (var instanceId in store.ReadyInstances(now, free + episodes.Count))
                    {
                        if (free == 0)
                        {
                            break;
                        }

                        if (!episodes.ContainsKey(instanceId))
                        {
                            StartEpisode(instanceId);
                            free--;
                        }
                    }
                }

                due = store.NextInstanceDue(now);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "The orchestration dispatcher could not read the schedule; retrying in a second");
                due = time.GetUtcNow().AddSeconds(1);
            }
            finally
            {
                Interlocked.Decrement(ref claiming);
                changed.Set();
            }

            await WaitAsync(wake, due, stop);
        }
    }

    private void StartEpisode(string instanceId)
    {
        var run = new Task<Task>(() => RunEpisodeAsync(instanceId));
        episodes[instanceId] = run.Unwrap();
        Interlocked.Increment(ref generation);
        run.Start(TaskScheduler.Default);
    }

    private async Task RunEpisodeAsync(string instanceId)
    {
        var token = abandon.Token;
        var now = time.GetUtcNow();
        var scheduledActivities = false;
        try
        {
            var work = store.LoadEpisode(instanceId, now);
            if (work is null)
            {
                return;
            }

            var name = work.Instance.Name;
            var newEvents = EpisodePlanner.NewEvents(work, now);
            var request = new OrchestratorRequest { InstanceId = instanceId, PastEvents = { work.PastEvents }, NewEvents = { newEvents } };
            OrchestratorResponse? response = null;
            TaskFailureDetails? failure;
            try
            {
                var answer = await invoker.InvokeOrchestratorAsync(name, Convert.ToBase64String(request.ToByteArray()), token);
                response = EpisodePlanner.Decode(name, answer, out failure);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return; // Shutdown: nothing committed, the next engine runs the episode again.
            }
            catch (Exception exception)
            {
                // The host fails the instance permanently when the orchestrator function fails.
                failure = EpisodePlanner.InvocationFailed(name, exception);
            }

            if (token.IsCancellationRequested)
            {
                return;
            }

            var commit = EpisodePlanner.Plan(work, newEvents, response, failure, now, NewExecutionId);
            store.CommitEpisode(commit, now);
            scheduledActivities = commit.Activities.Count > 0;
            if (commit.Status.IsTerminal())
            {
                LogCompletion(instanceId, name, commit);
            }
        }
        catch (Exception exception) when (!token.IsCancellationRequested)
        {
            logger.LogError(exception, "The episode of {InstanceId} could not be committed; the instance is failed", instanceId);
            try
            {
                store.FailInstance(
                    instanceId,
                    new TaskFailureDetails(
                        exception.GetType().FullName ?? exception.GetType().Name,
                        $"The embedded durable engine could not run an episode: {exception.Message}",
                        exception.StackTrace),
                    now);
            }
            catch (Exception second)
            {
                logger.LogError(second, "The instance {InstanceId} could not be marked failed", instanceId);
            }
        }
        finally
        {
            episodes.TryRemove(instanceId, out _);
            orchestrationWake.Set();
            if (scheduledActivities)
            {
                activityWake.Set();
            }

            changed.Set();
        }
    }

    private void LogCompletion(string instanceId, string name, EpisodeCommit commit)
    {
        if (commit.Status == OrchestrationRuntimeStatus.Failed)
        {
            logger.LogWarning("Orchestration {Name} ({InstanceId}) failed: {Message}", name, instanceId, commit.Failure?.ErrorMessage);
        }
        else
        {
            logger.LogInformation("Orchestration {Name} ({InstanceId}) ended {Status}", name, instanceId, commit.Status);
        }
    }

    // ------------------------------------------------------------------ activity dispatch

    private async Task ActivityLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var wake = activityWake.Arm();
            DateTimeOffset? due;
            Interlocked.Increment(ref claiming);
            try
            {
                var now = time.GetUtcNow();
                var free = options.MaxConcurrentActivities - activities.Count;
                if (free > 0)
                {
                    foreach (var item in store.ReadyActivities(now, free + activities.Count))
                    {
                        if (free == 0)
                        {
                            break;
                        }

                        if (!activities.ContainsKey(item.Id) && store.TryLockActivity(item.Id, now, now + options.ActivityLockDuration))
                        {
                            StartActivity(item with { Attempts = item.Attempts + 1 });
                            free--;
                        }
                    }
                }

                due = store.NextActivityDue(now);
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "The activity dispatcher could not read the work items; retrying in a second");
                due = time.GetUtcNow().AddSeconds(1);
            }
            finally
            {
                Interlocked.Decrement(ref claiming);
                changed.Set();
            }

            await WaitAsync(wake, due, stop);
        }
    }

    private void StartActivity(ActivityWorkItem item)
    {
        var run = new Task<Task>(() => RunActivityAsync(item));
        activities[item.Id] = run.Unwrap();
        Interlocked.Increment(ref generation);
        run.Start(TaskScheduler.Default);
    }

    private async Task RunActivityAsync(ActivityWorkItem item)
    {
        var token = abandon.Token;
        try
        {
            ActivityResult result;
            if (options.ActivityMaxAttempts is { } maxAttempts && item.Attempts > maxAttempts)
            {
                result = ActivityResult.Failed(new TaskFailureDetails(
                    typeof(InvalidOperationException).FullName!,
                    $"The activity '{item.Name}' was started {maxAttempts} times without finishing (the process stopped while it ran); it is not started again.",
                    IsNonRetriable: true));
            }
            else
            {
                using var renewal = CancellationTokenSource.CreateLinkedTokenSource(token);
                var renewing = RenewLockAsync(item.Id, renewal.Token);
                try
                {
                    result = await invoker.InvokeActivityAsync(item.Name, item.InstanceId, item.InputJson, token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return; // Abandoned: the lock expires and the activity runs again.
                }

                catch (Exception exception)
                {
                    result = ActivityResult.Failed(TaskFailureDetails.FromException(exception));
                }
                finally
                {
                    // Cancel, not CancelAsync: this can run inside the abandon token's callbacks, where
                    // an awaited CancelAsync of the linked source was seen never to complete.
                    renewal.Cancel();
                    await renewing;
                }
            }

            if (!token.IsCancellationRequested)
            {
                store.CompleteActivity(item, result ?? ActivityResult.Success(null), time.GetUtcNow());
            }
        }
        catch (Exception exception) when (!token.IsCancellationRequested)
        {
            logger.LogError(exception, "The result of activity {Name} for {InstanceId} could not be stored; it runs again after its lock expires", item.Name, item.InstanceId);
        }
        finally
        {
            activities.TryRemove(item.Id, out _);
            Changed();
        }
    }

    private async Task RenewLockAsync(long id, CancellationToken ct)
    {
        var interval = options.ActivityLockDuration / 2;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, ct);
                store.RenewActivityLock(id, time.GetUtcNow() + options.ActivityLockDuration);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "The lock of activity work item {Id} could not be renewed", id);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Sleeps until woken or until <paramref name="due"/> (at most <see cref="EmbeddedEngineOptions.MaxWait"/>), on the injected clock.</summary>
    private async Task WaitAsync(Task wake, DateTimeOffset? due, CancellationToken stop)
    {
        if (due is { } dueAt)
        {
            var delay = dueAt - time.GetUtcNow();
            if (delay > TimeSpan.Zero)
            {
                using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
                await Task.WhenAny(wake, Task.Delay(delay < options.MaxWait ? delay : options.MaxWait, time, cancel.Token));
                cancel.Cancel(); // Releases the timer.
            }
        }
        else
        {
            await wake;
        }

        // A timer callback (or a test's clock) completed the wait: continue on the thread pool.
        await Task.Yield();
    }

    private void Changed()
    {
        orchestrationWake.Set();
        activityWake.Set();
        changed.Set();
    }

    private static TOutcome Outcome<TOutcome>(OrchestrationRuntimeStatus? status, TOutcome notFound, TOutcome completed, TOutcome accepted) =>
        status switch
        {
            null => notFound,
            { } s when s.IsTerminal() => completed,
            _ => accepted,
        };

    private static string NewExecutionId() => Guid.NewGuid().ToString("N");

    /// <summary>The management API's rules: at most 256 characters, not starting with '@', no '/', '\', '#', '?' or control characters.</summary>
    private static void ValidateInstanceId(string instanceId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        if (instanceId.Length > 256 || instanceId[0] == '@' || instanceId.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            throw new ArgumentException($"'{instanceId}' is not a valid instance id: at most 256 characters, not starting with '@', without '/', '\\', '#', '?' or control characters.", nameof(instanceId));
        }
    }
}
