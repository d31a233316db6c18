using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// The one writer of the database. Writes queue up while a transaction commits, and the next transaction takes
/// them all (group commit): one fsync for many checkpoints instead of one each, and no contention for SQLite's
/// single write lock. Each write runs in its own savepoint, so a write that throws is rolled back alone.
/// </summary>
internal sealed class SqliteWriteQueue : IAsyncDisposable
{
    private readonly Channel<WriteOperation> channel = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteDb db;
    private readonly int maxBatch;
    private readonly ILogger logger;
    private readonly Task loop;
    private int queued;

    public SqliteWriteQueue(SqliteDb db, int maxBatch, ILogger logger)
    {
        this.db = db;
        this.maxBatch = Math.Max(1, maxBatch);
        this.logger = logger;
        loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Writes queued or running (not yet committed).</summary>
    public int Queued => Volatile.Read(ref queued);

    /// <summary>Completes after every committed batch.</summary>
    public AsyncPulse Committed { get; } = new();

    public Task<T> WriteAsync<T>(Func<SqliteDb, T> work)
    {
        var operation = new WriteOperation<T>(work);
        Interlocked.Increment(ref queued);
        if (!channel.Writer.TryWrite(operation))
        {
            Interlocked.Decrement(ref queued);
            throw new ObjectDisposedException(nameof(SqliteOrchestrationService), "The SQLite orchestration service is disposed.");
        }

        return operation.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<WriteOperation>(maxBatch);
        var reader = channel.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < maxBatch && reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            Commit(batch);
            Interlocked.Add(ref queued, -batch.Count);
            Committed.Pulse();
        }
    }

    private void Commit(List<WriteOperation> batch)
    {
        try
        {
            db.Execute("BEGIN IMMEDIATE;");
            foreach (var operation in batch)
            {
                db.Execute("SAVEPOINT op;");
                try
                {
                    operation.Run(db);
                    db.Execute("RELEASE op;");
                }
                catch (Exception exception)
                {
                    operation.Failure = exception;
                    db.Execute("ROLLBACK TO op;");
                    db.Execute("RELEASE op;");
                }
            }

            db.Execute("COMMIT;");
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "A write transaction of {Count} operations failed", batch.Count);
            try
            {
                db.Execute("ROLLBACK;");
            }
            catch (Exception rollback)
            {
                logger.LogDebug(rollback, "Rollback after a failed commit failed");
            }

            foreach (var operation in batch)
            {
                operation.Failure ??= exception;
                operation.Finish();
            }

            return;
        }

        foreach (var operation in batch)
        {
            operation.Finish();
        }
    }

    public async ValueTask DisposeAsync()
    {
        channel.Writer.TryComplete();
        await loop.ConfigureAwait(false);
    }

    private abstract class WriteOperation
    {
        public Exception? Failure { get; set; }

        public abstract void Run(SqliteDb db);

        public abstract void Finish();
    }

    private sealed class WriteOperation<T>(Func<SqliteDb, T> work) : WriteOperation
    {
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? result;

        public Task<T> Task => completion.Task;

        public override void Run(SqliteDb db) => result = work(db);

        public override void Finish()
        {
            if (Failure is null)
            {
                completion.TrySetResult(result!);
            }
            else
            {
                completion.TrySetException(Failure);
            }
        }
    }
}
