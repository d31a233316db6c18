namespace Itsm.Durable.Engine;

/// <summary>
/// A wake-up for a loop: <see cref="Arm"/> before looking at the database, then await the task it
/// returned. A <see cref="Set"/> after the arm completes that task, so no change is ever missed.
/// Several waiters may share one signal.
/// </summary>
internal sealed class WakeSignal
{
    private readonly Lock gate = new();
    private TaskCompletionSource source = New();

    public Task Arm()
    {
        lock (gate)
        {
            if (source.Task.IsCompleted)
            {
                source = New();
            }

            return source.Task;
        }
    }

    public void Set()
    {
        lock (gate)
        {
            source.TrySetResult();
        }
    }

    private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
