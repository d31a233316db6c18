using Microsoft.Extensions.Logging;

namespace Itsm.Durable;

/// <summary>
/// The orchestrator's only window on the world. Every method here is replay-safe: it records an
/// action the first time and returns the recorded outcome on every replay. Tasks returned by the
/// context can be combined with <see cref="Task.WhenAll(Task[])"/> and <see cref="Task.WhenAny(Task[])"/>.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>Timers longer than this are split into hops of at most this length.</summary>
    public static readonly TimeSpan MaximumTimerInterval = TimeSpan.FromDays(3);

    /// <summary>The orchestrator name from the ExecutionStarted event.</summary>
    public abstract string Name { get; }

    public abstract string InstanceId { get; }

    /// <summary>The deterministic clock: the timestamp of the episode being replayed (UTC).</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code re-executes steps already recorded in history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>A deterministic name-based (version 5) UUID: same value on every replay.</summary>
    public abstract Guid NewGuid();

    /// <summary>Schedules an activity and returns its result deserialized as <typeparamref name="TResult"/>.</summary>
    /// <param name="name">The activity name (compared case-insensitively by the host).</param>
    /// <param name="input">One value, sent as a single JSON value (not wrapped in an array).</param>
    /// <param name="options">Optional retry policy.</param>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null);

    /// <summary>Schedules an activity whose result is not needed.</summary>
    public abstract Task CallActivityAsync(string name, object? input = null, TaskOptions? options = null);

    /// <summary>
    /// A durable timer firing at <paramref name="fireAt"/> (UTC; an unspecified kind is read as UTC).
    /// Cancelling the token makes the returned task cancelled; the timer itself stays recorded.
    /// </summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>A durable timer firing <paramref name="delay"/> after <see cref="CurrentUtcDateTime"/>.</summary>
    public Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) =>
        CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>
    /// Waits for an external event (name compared case-insensitively). An event that arrived earlier
    /// is taken from the buffer; otherwise the oldest waiter for the name gets the next event.
    /// </summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for an external event at most <paramref name="timeout"/> (a durable timer); throws
    /// <see cref="TimeoutException"/> when the timer wins. An event already buffered is returned
    /// without creating a timer.
    /// </summary>
    public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await WaitForExternalEvent<T>(eventName);
        }

        using var waitCancellation = new CancellationTokenSource();
        var eventTask = WaitForExternalEvent<T>(eventName, waitCancellation.Token);
        if (eventTask.IsCompleted)
        {
            return await eventTask;
        }

        using var timerCancellation = new CancellationTokenSource();
        var timerTask = CreateTimer(timeout, timerCancellation.Token);
        var winner = await Task.WhenAny(eventTask, timerTask);
        if (winner == eventTask)
        {
            // Cancel (not CancelAsync): the callbacks must run on the orchestration thread.
            timerCancellation.Cancel();
            return await eventTask;
        }

        waitCancellation.Cancel();
        throw new TimeoutException($"Event '{eventName}' was not received within {timeout}.");
    }

    /// <summary>
    /// Starts a sub-orchestration and returns its output. Without <paramref name="instanceId"/> the
    /// child id is derived deterministically: <c>{InstanceId}:{actionId:X4}</c>.
    /// </summary>
    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(
        string orchestratorName, object? input = null, string? instanceId = null, TaskOptions? options = null);

    public abstract Task CallSubOrchestratorAsync(
        string orchestratorName, object? input = null, string? instanceId = null, TaskOptions? options = null);

    /// <summary>Raises an event on another orchestration instance (fire and forget).</summary>
    public abstract void SendEvent(string instanceId, string eventName, object? eventData);

    /// <summary>Sets the custom status shown by the status API (serialized to JSON; null clears it).</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>
    /// Restarts the orchestration with new input once the orchestrator function returns (its return
    /// value is then ignored). Events received but not yet consumed are carried over unless
    /// <paramref name="preserveUnprocessedEvents"/> is false.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput, bool preserveUnprocessedEvents = true);

    /// <summary>A logger that writes only when the code is not replaying.</summary>
    public ILogger CreateReplaySafeLogger(ILogger logger) => new ReplaySafeLogger(this, logger);

    /// <summary>A replay-safe logger from the app's <see cref="ILoggerFactory"/> (silent if there is none).</summary>
    public ILogger CreateReplaySafeLogger(string categoryName) =>
        new ReplaySafeLogger(this, LoggerFactory.CreateLogger(categoryName));

    protected abstract ILoggerFactory LoggerFactory { get; }

    private sealed class ReplaySafeLogger(TaskOrchestrationContext context, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
