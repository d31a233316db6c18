namespace Itsm.Durable;

/// <summary>An orchestrator as the replay executor sees it: untyped input and output.</summary>
public interface ITaskOrchestrator
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(TaskOrchestrationContext context, object? input);
}

/// <summary>
/// Base class for orchestrators. <see cref="RunAsync"/> is replayed from history many times, so it
/// must be deterministic: use only the context's clock, ids and APIs, never
/// <c>DateTime.UtcNow</c>, <c>Guid.NewGuid</c>, <c>Task.Delay</c>, <c>Task.Run</c>,
/// <c>ConfigureAwait(false)</c> or I/O.
/// </summary>
public abstract class TaskOrchestrator<TInput, TOutput> : ITaskOrchestrator
{
    Type ITaskOrchestrator.InputType => typeof(TInput);

    Type ITaskOrchestrator.OutputType => typeof(TOutput);

    async Task<object?> ITaskOrchestrator.RunAsync(TaskOrchestrationContext context, object? input) =>
        await RunAsync(context, input is TInput typed ? typed : default!);

    public abstract Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input);
}

internal sealed class DelegateOrchestrator<TInput, TOutput>(Func<TaskOrchestrationContext, TInput, Task<TOutput>> implementation)
    : TaskOrchestrator<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input) => implementation(context, input);
}
