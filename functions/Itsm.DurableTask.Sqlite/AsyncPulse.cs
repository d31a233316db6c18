namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// A wake-up signal: <see cref="Next"/> is a task that completes at the next <see cref="Pulse"/>. A waiter takes
/// <see cref="Next"/> before it looks for work, so a pulse between the look and the wait is not lost.
/// </summary>
internal sealed class AsyncPulse
{
    private TaskCompletionSource source = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Next => Volatile.Read(ref source).Task;

    public void Pulse()
    {
        var previous = Interlocked.Exchange(ref source, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }
}
