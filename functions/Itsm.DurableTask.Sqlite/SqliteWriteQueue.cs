using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// The one writer of the database. Writes queue up while a transaction commits, and the next transaction takes
/// them all (group commit): one fsync for many checkpoints instead of one each, and no contention for SQLite's
/// single write lock. A write that throws is rolled back alone and the others commit: the batch first runs without
/// savepoints (two statements fewer per write); if a write throws, the transaction is rolled back and the batch runs
/// again with each write in its own savepoint. Writes are pure functions of the database, so running one again is
/// safe; none of them is acknowledged before its batch commits.
/// </summary>
internal sealed class SqliteWriteQueue : IAsyncDisposable
{
    private readonly Channel<WriteOperation> channel = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteDb db;
    private readonly int maxBatch;
    private readonly ILogger logger;
    private readonly Task loop;
    private int queued;
    private long statements;
    private long transactions;
    private long operations;
    private long reruns;
    private long busyTicks;
    private long commitTicks;

    public SqliteWriteQueue(SqliteDb db, int maxBatch, ILogger logger)
    {
        this.db = db;
        this.maxBatch = Math.Max(1, maxBatch);
        this.logger = logger;
        loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Writes queued or running (not yet committed).</summary>
    public int Queued => Volatile.Read(ref queued);

    /// <summary>Transactions, writes, batches run again with savepoints, time inside transactions and in <c>COMMIT</c> so far.</summary>
    public SqliteWriterStatistics Statistics => new(
        Interlocked.Read(ref transactions),
        Interlocked.Read(ref operations),
        Interlocked.Read(ref reruns),
        Interlocked.Read(ref statements),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref busyTicks)),
        Stopwatch.GetElapsedTime(0, Interlocked.Read(ref commitTicks)));

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

            var started = Stopwatch.GetTimestamp();
            Commit(batch);
            Interlocked.Add(ref busyTicks, Stopwatch.GetTimestamp() - started);
            Volatile.Write(ref statements, db.Statements);
            Interlocked.Increment(ref transactions);
            Interlocked.Add(ref operations, batch.Count);
            Interlocked.Add(ref queued, -batch.Count);
            Committed.Pulse();
        }
    }

    private void Commit(List<WriteOperation> batch)
    {
        try
        {
            db.Execute("BEGIN IMMEDIATE;");
            if (!RunWithoutSavepoints(batch))
            {
                RunWithSavepoints(batch);
            }

            var committing = Stopwatch.GetTimestamp();
            db.Execute("COMMIT;");
            Interlocked.Add(ref commitTicks, Stopwatch.GetTimestamp() - committing);
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

    /// <summary>
    /// Runs every write of the batch in the open transaction. If one throws, rolls the transaction back, opens a new
    /// one and returns false (a batch of one write just records its failure: the rollback was its savepoint).
    /// </summary>
    private bool RunWithoutSavepoints(List<WriteOperation> batch)
    {
        foreach (var operation in batch)
        {
            try
            {
                operation.Run(db);
            }
            catch (Exception exception)
            {
                db.Execute("ROLLBACK;");
                db.Execute("BEGIN IMMEDIATE;");
                if (batch.Count == 1)
                {
                    operation.Failure = exception;
                    return true;
                }

                Interlocked.Increment(ref reruns);
                return false;
            }
        }

        return true;
    }

    private void RunWithSavepoints(List<WriteOperation> batch)
    {
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

/// <summary>What the one writer has done since the service opened: for benchmarks and diagnostics.</summary>
/// <param name="Transactions">Write transactions (each one fsync of the WAL when it commits).</param>
/// <param name="Writes">Writes (fetch-and-lock, checkpoint, activity result, start, ...) in those transactions.</param>
/// <param name="Reruns">Batches run a second time with a savepoint per write because one of their writes threw.</param>
/// <param name="Statements">SQL statements the writer ran (BEGIN, COMMIT and savepoints included).</param>
/// <param name="Busy">Time the writer spent inside transactions.</param>
/// <param name="Commit">Of that, time in <c>COMMIT</c>: the WAL write and its fsync (and, on a loaded machine, the wait for a core after it).</param>
public sealed record SqliteWriterStatistics(long Transactions, long Writes, long Reruns, long Statements, TimeSpan Busy, TimeSpan Commit);
