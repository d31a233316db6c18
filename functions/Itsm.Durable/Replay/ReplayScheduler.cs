namespace Itsm.Durable.Replay;

/// <summary>
/// Runs orchestrator code on one thread, deterministically. Every continuation (await resumptions
/// through the synchronization context, tasks started on this scheduler) goes into one FIFO queue,
/// and <see cref="Pump"/> runs the queue on the calling thread until nothing is runnable. Nothing
/// ever reaches the thread pool unless user code asks for it explicitly (Task.Run,
/// ConfigureAwait(false)), which orchestrators must not do.
/// </summary>
internal sealed class ReplayScheduler : TaskScheduler
{
    private readonly Queue<Task> queue = new();
    private readonly Lock gate = new();
    private readonly ReplaySynchronizationContext synchronizationContext;
    private int pumpThreadId = -1;

    public ReplayScheduler()
    {
        synchronizationContext = new ReplaySynchronizationContext(this);
    }

    /// <summary>The first exception that escaped a posted callback (for example from async void code).</summary>
    public Exception? UnhandledException { get; private set; }

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>Starts <paramref name="start"/> as a task on this scheduler; call <see cref="Pump"/> to run it.</summary>
    public Task<T> Start<T>(Func<Task<T>> start) =>
        Task.Factory.StartNew(start, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this).Unwrap();

    /// <summary>
    /// Queues <paramref name="work"/> (typically completing a task the orchestrator awaits). Run by
    /// <see cref="Pump"/>, so continuations that complete synchronously run inline on this thread.
    /// </summary>
    public void Run(Action work) => Post(_ => work(), null);

    /// <summary>Runs queued work on this thread until the queue is empty.</summary>
    public void Pump()
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(synchronizationContext);
        pumpThreadId = Environment.CurrentManagedThreadId;
        try
        {
            while (TryDequeue(out var task))
            {
                TryExecuteTask(task);
            }
        }
        finally
        {
            pumpThreadId = -1;
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    protected override void QueueTask(Task task)
    {
        lock (gate)
        {
            queue.Enqueue(task);
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        Environment.CurrentManagedThreadId == pumpThreadId && TryExecuteTask(task);

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (gate)
        {
            return [.. queue];
        }
    }

    private bool TryDequeue(out Task task)
    {
        lock (gate)
        {
            return queue.TryDequeue(out task!);
        }
    }

    private void Post(SendOrPostCallback callback, object? state) =>
        Task.Factory.StartNew(
            () =>
            {
                try
                {
                    callback(state);
                }
                catch (Exception exception)
                {
                    UnhandledException ??= exception;
                }
            },
            CancellationToken.None,
            TaskCreationOptions.DenyChildAttach,
            this);

    private sealed class ReplaySynchronizationContext(ReplayScheduler scheduler) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => scheduler.Post(d, state);

        public override void Send(SendOrPostCallback d, object? state)
        {
            if (Environment.CurrentManagedThreadId != scheduler.pumpThreadId)
            {
                throw new NotSupportedException("Orchestrator code cannot send work to the orchestration thread from another thread.");
            }

            d(state);
        }

        public override SynchronizationContext CreateCopy() => this;
    }
}
