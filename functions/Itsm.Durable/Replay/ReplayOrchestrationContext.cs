using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Durable.Replay;

/// <summary>The context handed to orchestrator code during replay; all state lives in the executor.</summary>
internal sealed class ReplayOrchestrationContext(OrchestrationExecutor executor) : TaskOrchestrationContext
{
    public override string Name => executor.Name;

    public override string InstanceId => executor.InstanceId;

    public override DateTime CurrentUtcDateTime => executor.CurrentUtc;

    public override bool IsReplaying => executor.IsReplaying;

    protected override ILoggerFactory LoggerFactory =>
        executor.Services.GetService(typeof(ILoggerFactory)) as ILoggerFactory ?? NullLoggerFactory.Instance;

    public override Guid NewGuid() => executor.NewGuid();

    public override async Task<TResult> CallActivityAsync<TResult>(string name, object? input, TaskOptions? options)
    {
        var inputJson = DurableJson.Serialize(input);
        var resultJson = await WithRetry(options?.Retry, () => executor.ScheduleTask(name, inputJson));
        return DurableJson.Deserialize<TResult>(resultJson)!;
    }

    public override Task CallActivityAsync(string name, object? input, TaskOptions? options)
    {
        var inputJson = DurableJson.Serialize(input);
        return WithRetry(options?.Retry, () => executor.ScheduleTask(name, inputJson));
    }

    public override async Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input, string? instanceId, TaskOptions? options)
    {
        var inputJson = DurableJson.Serialize(input);
        var resultJson = await WithRetry(options?.Retry, () => executor.CallSubOrchestrator(orchestratorName, instanceId, inputJson));
        return DurableJson.Deserialize<TResult>(resultJson)!;
    }

    public override Task CallSubOrchestratorAsync(string orchestratorName, object? input, string? instanceId, TaskOptions? options)
    {
        var inputJson = DurableJson.Serialize(input);
        return WithRetry(options?.Retry, () => executor.CallSubOrchestrator(orchestratorName, instanceId, inputJson));
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var fireAtUtc = fireAt.Kind switch
        {
            DateTimeKind.Utc => fireAt,
            DateTimeKind.Local => fireAt.ToUniversalTime(),
            _ => DateTime.SpecifyKind(fireAt, DateTimeKind.Utc),
        };
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        return fireAtUtc - CurrentUtcDateTime <= MaximumTimerInterval
            ? executor.CreateSingleTimer(fireAtUtc, cancellationToken)
            : LongTimer(fireAtUtc, cancellationToken);
    }

    /// <summary>
    /// A timer beyond the storage provider's limit, as a chain of hops of at most three days.
    /// Each hop starts from the clock of the episode in which the previous hop fired, so the chain
    /// is the same on every replay.
    /// </summary>
    private async Task LongTimer(DateTime fireAtUtc, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = CurrentUtcDateTime;
            if (fireAtUtc - now <= MaximumTimerInterval)
            {
                await executor.CreateSingleTimer(fireAtUtc, cancellationToken);
                return;
            }

            await executor.CreateSingleTimer(now + MaximumTimerInterval, cancellationToken);
        }
    }

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken) =>
        executor.WaitForEvent<T>(eventName, cancellationToken);

    public override void SendEvent(string instanceId, string eventName, object? eventData) =>
        executor.SendEvent(instanceId, eventName, DurableJson.Serialize(eventData));

    public override void SetCustomStatus(object? customStatus) => executor.SetCustomStatus(customStatus);

    public override void ContinueAsNew(object? newInput, bool preserveUnprocessedEvents) =>
        executor.ContinueAsNew(newInput, preserveUnprocessedEvents);

    /// <summary>Runs attempts until one succeeds or the policy gives up; back-off waits are durable timers.</summary>
    private async Task<string?> WithRetry(RetryPolicy? policy, Func<Task<string?>> attempt)
    {
        if (policy is null)
        {
            return await attempt();
        }

        var firstAttemptAt = CurrentUtcDateTime;
        for (var attemptNumber = 1; ; attemptNumber++)
        {
            try
            {
                return await attempt();
            }
            catch (TaskFailedException failed) when (ShouldRetry(policy, failed.FailureDetails, attemptNumber, firstAttemptAt))
            {
                await executor.CreateSingleTimer(CurrentUtcDateTime + policy.GetDelay(attemptNumber), CancellationToken.None);
            }
        }
    }

    private bool ShouldRetry(RetryPolicy policy, TaskFailureDetails failure, int attemptNumber, DateTime firstAttemptAt)
    {
        if (attemptNumber >= policy.MaxNumberOfAttempts || failure.IsNonRetriable)
        {
            return false;
        }

        if (policy.RetryTimeout is { } timeout && CurrentUtcDateTime + policy.GetDelay(attemptNumber) - firstAttemptAt > timeout)
        {
            return false;
        }

        return policy.HandleFailure?.Invoke(failure) ?? true;
    }
}
