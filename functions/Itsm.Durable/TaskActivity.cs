namespace Itsm.Durable;

/// <summary>What an activity knows about the call it serves.</summary>
public sealed class TaskActivityContext(string name, string instanceId, CancellationToken cancellationToken = default)
{
    /// <summary>The activity name as registered.</summary>
    public string Name { get; } = name;

    /// <summary>The instance id of the orchestration that scheduled this activity.</summary>
    public string InstanceId { get; } = instanceId;

    /// <summary>Signalled when the host aborts the invocation.</summary>
    public CancellationToken CancellationToken { get; } = cancellationToken;
}

/// <summary>An activity as the activity runner sees it: untyped input and output.</summary>
public interface ITaskActivity
{
    Type InputType { get; }

    Type OutputType { get; }

    Task<object?> RunAsync(TaskActivityContext context, object? input);
}

/// <summary>
/// Base class for activities: the place for I/O. Activities run at least once, so make them
/// idempotent. The input is the single JSON value the orchestrator passed to
/// <c>CallActivityAsync</c>; the return value becomes the task result.
/// </summary>
public abstract class TaskActivity<TInput, TOutput> : ITaskActivity
{
    Type ITaskActivity.InputType => typeof(TInput);

    Type ITaskActivity.OutputType => typeof(TOutput);

    async Task<object?> ITaskActivity.RunAsync(TaskActivityContext context, object? input) =>
        await RunAsync(context, input is TInput typed ? typed : default!);

    public abstract Task<TOutput> RunAsync(TaskActivityContext context, TInput input);
}

internal sealed class DelegateActivity<TInput, TOutput>(Func<TaskActivityContext, TInput, Task<TOutput>> implementation)
    : TaskActivity<TInput, TOutput>
{
    public override Task<TOutput> RunAsync(TaskActivityContext context, TInput input) => implementation(context, input);
}
