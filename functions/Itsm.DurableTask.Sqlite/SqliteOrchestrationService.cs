using System.Collections.Concurrent;
using System.Diagnostics;
using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// A durable <see cref="IOrchestrationService"/> for DurableTask.Core on one SQLite file, for a single process.
/// Shaped like durabletask-mssql (see <see cref="Schema"/>); every checkpoint is one transaction, and writes are
/// group-committed by one writer (<see cref="SqliteWriteQueue"/>).
/// </summary>
public sealed partial class SqliteOrchestrationService :
    IOrchestrationService,
    IOrchestrationServiceClient,
    global::DurableTask.Core.Query.IOrchestrationServiceQueryClient,
    IOrchestrationServicePurgeClient,
    IAsyncDisposable,
    IDisposable
{
    private const int MaxFetchBatch = 100;
    private static readonly TimeSpan MaxProviderDelay = TimeSpan.FromHours(1);

    private readonly SqliteOrchestrationServiceSettings settings;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly FileStream ownership;
    private readonly SqliteDb writerDb;
    private readonly SqliteWriteQueue writes;
    private readonly ConcurrentBag<SqliteDb> readers = [];
    private readonly AsyncPulse orchestrationWork = new();
    private readonly AsyncPulse activityWork = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> instanceChanged = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SqliteOrchestrationWorkItem> prefetchedOrchestrations = new();
    private readonly ConcurrentQueue<SqliteActivityWorkItem> prefetchedActivities = new();
    private readonly ConcurrentDictionary<string, int> orchestrationAbandons = new(StringComparer.Ordinal);
    private readonly string ownerPrefix = Guid.NewGuid().ToString("N")[..12];
    private CancellationTokenSource stopping = new();
    private long leaseCounter;
    private int orchestrationsLocked;
    private int activitiesLocked;
    private int disposed;

    /// <summary>
    /// Opens (or creates) the database and takes ownership of it. Standalone runs one process per database, so
    /// ownership is an exclusive lock on <c>{DatabasePath}.lock</c>, held until disposal and released by the
    /// kernel when the process dies. Holding it proves that every lock recorded in the database belongs to a
    /// process that is gone, so they are cleared here and work left by a killed process resumes at once instead
    /// of after its lock expiry.
    /// </summary>
    public SqliteOrchestrationService(SqliteOrchestrationServiceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(settings.DatabasePath);
        this.settings = settings;
        time = settings.TimeProvider;
        logger = settings.LoggerFactory.CreateLogger<SqliteOrchestrationService>();
        // The task hub holds orchestration inputs and outputs (ticket data): its folder and files are the owner's only.
        OwnerOnlyFiles.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(settings.DatabasePath)));
        OwnerOnlyFiles.CreateFile(settings.DatabasePath);

        try
        {
            ownership = new FileStream(settings.DatabasePath + ".lock", OwnerOnlyFiles.Options(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException(
                $"The durable task database '{settings.DatabasePath}' is in use by another SqliteOrchestrationService (process or instance).", exception);
        }

        try
        {
            writerDb = new SqliteDb(settings.DatabasePath, writer: true);
            writerDb.Execute(Schema.Create);
            var cleared = writerDb.Execute("""
                UPDATE dt_instances SET lock_owner = NULL, lock_expiry = NULL WHERE lock_owner IS NOT NULL OR lock_expiry IS NOT NULL;
                UPDATE dt_activities SET lock_owner = NULL, lock_expiry = NULL WHERE lock_owner IS NOT NULL OR lock_expiry IS NOT NULL;
                """);
            if (cleared > 0)
            {
                logger.LogInformation("Took over {Count} work items locked by a previous owner of {Path}", cleared, settings.DatabasePath);
            }
        }
        catch
        {
            writerDb?.Dispose();
            ownership.Dispose();
            throw;
        }

        writes = new SqliteWriteQueue(writerDb, settings.MaxWriteBatch, logger);
        DurableJson.WarmUp();
    }

    public SqliteOrchestrationServiceSettings Settings => settings;

    /// <summary>What the writer has done so far (transactions, writes, busy time): for benchmarks and diagnostics.</summary>
    public SqliteWriterStatistics WriterStatistics => writes.Statistics;

    public int TaskOrchestrationDispatcherCount => 1;

    public int MaxConcurrentTaskOrchestrationWorkItems => settings.MaxConcurrentOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => BehaviorOnContinueAsNew.Carryover;

    public int TaskActivityDispatcherCount => 1;

    public int MaxConcurrentTaskActivityWorkItems => settings.MaxConcurrentActivityWorkItems;

    private long Now => time.GetUtcNow().UtcTicks;

    // ---- lifecycle ----

    public Task StartAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            stopping.Dispose();
            stopping = new CancellationTokenSource();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public async Task StopAsync(bool isForced)
    {
        await stopping.CancelAsync();
        // Work fetched ahead but never handed to a dispatcher goes back to the queue at once.
        while (prefetchedOrchestrations.TryDequeue(out var item))
        {
            await ReleaseTaskOrchestrationWorkItemAsync(item);
        }

        while (prefetchedActivities.TryDequeue(out var activity))
        {
            await UnlockActivityAsync(activity, visibleAt: null);
        }
    }

    public Task CreateAsync() => CreateAsync(recreateInstanceStore: false);

    public async Task CreateAsync(bool recreateInstanceStore)
    {
        if (recreateInstanceStore)
        {
            await DeleteAsync(deleteInstanceStore: true);
        }
    }

    public Task CreateIfNotExistsAsync() => Task.CompletedTask;

    public Task DeleteAsync() => DeleteAsync(deleteInstanceStore: true);

    public Task DeleteAsync(bool deleteInstanceStore) => writes.WriteAsync(db => db.Execute(Schema.DeleteAll));

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => false;

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => 0;

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) =>
        exception is OperationCanceledException or ObjectDisposedException ? 0 : 1;

    // ---- orchestration work items ----

    public async Task<TaskOrchestrationWorkItem?> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        while (!cancel.IsCancellationRequested)
        {
            if (prefetchedOrchestrations.TryDequeue(out var ready))
            {
                return ready;
            }

            var wake = orchestrationWork.Next;
            var want = Math.Clamp(settings.MaxConcurrentOrchestrationWorkItems - Volatile.Read(ref orchestrationsLocked), 1, MaxFetchBatch);
            var fetched = await FetchOrchestrationsAsync(want);
            if (fetched.Items.Count > 0)
            {
                for (var i = 1; i < fetched.Items.Count; i++)
                {
                    prefetchedOrchestrations.Enqueue(fetched.Items[i]);
                }

                return fetched.Items[0];
            }

            if (!await WaitForWorkAsync(wake, fetched.NextAvailableAt, receiveTimeout - Stopwatch.GetElapsedTime(started), cancel.Token))
            {
                break;
            }
        }

        return null;
    }

    private async Task<(List<SqliteOrchestrationWorkItem> Items, long? NextAvailableAt)> FetchOrchestrationsAsync(int want)
    {
        var owner = NewLockOwner();
        var now = Now;
        var expiry = now + settings.WorkItemLockDuration.Ticks;
        var rows = await writes.WriteAsync(db => LockInstances(db, owner, now, expiry, want));
        Interlocked.Add(ref orchestrationsLocked, rows.Locked.Count);
        var items = new List<SqliteOrchestrationWorkItem>(rows.Locked.Count);
        foreach (var row in rows.Locked)
        {
            try
            {
                var history = new List<HistoryEvent>(row.History.Count);
                foreach (var json in row.History)
                {
                    history.Add(DurableJson.Deserialize<HistoryEvent>(json));
                }

                var messages = new List<TaskMessage>(row.Messages.Count);
                foreach (var (_, json) in row.Messages)
                {
                    messages.Add(DurableJson.Deserialize<TaskMessage>(json));
                }

                items.Add(new SqliteOrchestrationWorkItem
                {
                    InstanceId = row.InstanceId,
                    OrchestrationRuntimeState = new OrchestrationRuntimeState(history),
                    NewMessages = messages,
                    LockedUntilUtc = Ticks.ToUtc(expiry),
                    LockOwner = owner,
                    FetchedExecutionId = row.ExecutionId,
                    MessageIds = row.Messages.ConvertAll(m => m.Id),
                });
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Stored state of orchestration {InstanceId} cannot be read; it stays locked until its lock expires", row.InstanceId);
                Interlocked.Decrement(ref orchestrationsLocked);
            }
        }

        return (items, rows.NextAvailableAt);
    }

    private sealed record LockedInstance(string InstanceId, string ExecutionId, List<(long Id, string Json)> Messages, List<string> History);

    private static (List<LockedInstance> Locked, long? NextAvailableAt) LockInstances(SqliteDb db, string owner, long now, long expiry, int want)
    {
        var locked = new List<(string Id, string ExecutionId)>();
        using (var reader = db.Command("""
            UPDATE dt_instances SET lock_owner = $owner, lock_expiry = $expiry
            WHERE instance_id IN (SELECT instance_id FROM dt_instances WHERE available_at <= $now ORDER BY available_at LIMIT $limit)
            RETURNING instance_id, execution_id;
            """).With("$owner", owner).With("$expiry", expiry).With("$now", now).With("$limit", want).ExecuteReader())
        {
            while (reader.Read())
            {
                locked.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        if (locked.Count == 0)
        {
            var next = db.Command("SELECT min(available_at) FROM dt_instances WHERE available_at > $now;").With("$now", now).ExecuteScalar();
            return ([], next is long ticks ? ticks : null);
        }

        var result = new List<LockedInstance>(locked.Count);
        foreach (var (instanceId, executionId) in locked)
        {
            var messages = new List<(long, string)>();
            using (var reader = db.Command("SELECT id, message FROM dt_inbox WHERE instance_id = $id AND visible_at <= $now ORDER BY id;")
                .With("$id", instanceId).With("$now", now).ExecuteReader())
            {
                while (reader.Read())
                {
                    messages.Add((reader.GetInt64(0), reader.GetString(1)));
                }
            }

            if (messages.Count == 0)
            {
                db.Command("UPDATE dt_instances SET lock_owner = NULL, lock_expiry = NULL WHERE instance_id = $id;").With("$id", instanceId).ExecuteNonQuery();
                continue;
            }

            var history = new List<string>();
            using (var reader = db.Command("SELECT event FROM dt_history WHERE instance_id = $id ORDER BY seq;").With("$id", instanceId).ExecuteReader())
            {
                while (reader.Read())
                {
                    history.Add(reader.GetString(0));
                }
            }

            result.Add(new LockedInstance(instanceId, executionId, messages, history));
        }

        return (result, null);
    }

    public async Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = AsSqlite(workItem);
        var expiry = Now + settings.WorkItemLockDuration.Ticks;
        var renewed = await writes.WriteAsync(db => db.Command(
            "UPDATE dt_instances SET lock_expiry = $expiry WHERE instance_id = $id AND lock_owner = $owner;")
            .With("$expiry", expiry).With("$id", item.InstanceId).With("$owner", item.LockOwner).ExecuteNonQuery());
        if (renewed == 0)
        {
            throw new InvalidOperationException($"The lock on orchestration '{item.InstanceId}' was lost: it expired and another worker took it.");
        }

        item.LockedUntilUtc = Ticks.ToUtc(expiry);
    }

    public async Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage? continuedAsNewMessage,
        OrchestrationState? orchestrationState)
    {
        var item = AsSqlite(workItem);
        var checkpoint = Checkpoint.Create(item, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);
        var now = Now;
        var effects = await writes.WriteAsync(db => WriteCheckpoint(db, checkpoint, now));
        item.Settled = true;
        orchestrationAbandons.TryRemove(item.InstanceId, out _);
        Signal(effects);
    }

    public async Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = AsSqlite(workItem);
        var attempt = orchestrationAbandons.AddOrUpdate(item.InstanceId, 1, (_, n) => n + 1);
        var retryAt = Now + Backoff(attempt).Ticks;
        await writes.WriteAsync(db => db.Command(
            "UPDATE dt_instances SET lock_owner = NULL, lock_expiry = $retry WHERE instance_id = $id AND lock_owner = $owner;")
            .With("$retry", retryAt).With("$id", item.InstanceId).With("$owner", item.LockOwner).ExecuteNonQuery());
        item.Settled = true;
        orchestrationWork.Pulse();
    }

    public async Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = AsSqlite(workItem);
        if (item.Released)
        {
            return;
        }

        item.Released = true;
        try
        {
            if (!item.Settled)
            {
                await writes.WriteAsync(db => db.Command(
                    "UPDATE dt_instances SET lock_owner = NULL, lock_expiry = NULL WHERE instance_id = $id AND lock_owner = $owner;")
                    .With("$id", item.InstanceId).With("$owner", item.LockOwner).ExecuteNonQuery());
                item.Settled = true;
                orchestrationWork.Pulse();
            }
        }
        finally
        {
            Interlocked.Decrement(ref orchestrationsLocked);
        }
    }

    // ---- activity work items ----

    public async Task<TaskActivityWorkItem?> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
        while (!cancel.IsCancellationRequested)
        {
            if (prefetchedActivities.TryDequeue(out var ready))
            {
                return ready;
            }

            var wake = activityWork.Next;
            var want = Math.Clamp(settings.MaxConcurrentActivityWorkItems - Volatile.Read(ref activitiesLocked), 1, MaxFetchBatch);
            var owner = NewLockOwner();
            var now = Now;
            var expiry = now + settings.WorkItemLockDuration.Ticks;
            var (rows, next) = await writes.WriteAsync(db => LockActivities(db, owner, now, expiry, want));
            if (rows.Count > 0)
            {
                Interlocked.Add(ref activitiesLocked, rows.Count);
                var items = new List<SqliteActivityWorkItem>(rows.Count);
                foreach (var (id, json, dequeueCount) in rows)
                {
                    items.Add(new SqliteActivityWorkItem
                    {
                        Id = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        RowId = id,
                        LockOwner = owner,
                        LockedUntilUtc = Ticks.ToUtc(expiry),
                        TaskMessage = DurableJson.Deserialize<TaskMessage>(json),
                        DeliveryAttempt = dequeueCount,
                    });
                }

                for (var i = 1; i < items.Count; i++)
                {
                    prefetchedActivities.Enqueue(items[i]);
                }

                return items[0];
            }

            if (!await WaitForWorkAsync(wake, next, receiveTimeout - Stopwatch.GetElapsedTime(started), cancel.Token))
            {
                break;
            }
        }

        return null;
    }

    private static (List<(long Id, string Json, long DequeueCount)> Rows, long? NextAvailableAt) LockActivities(SqliteDb db, string owner, long now, long expiry, int want)
    {
        var rows = new List<(long, string, long)>();
        using (var reader = db.Command("""
            UPDATE dt_activities SET lock_owner = $owner, lock_expiry = $expiry, dequeue_count = dequeue_count + 1
            WHERE id IN (SELECT id FROM dt_activities WHERE available_at <= $now ORDER BY available_at LIMIT $limit)
            RETURNING id, message, dequeue_count;
            """).With("$owner", owner).With("$expiry", expiry).With("$now", now).With("$limit", want).ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        if (rows.Count > 0)
        {
            rows.Sort((a, b) => a.Item1.CompareTo(b.Item1));
            return (rows, null);
        }

        var next = db.Command("SELECT min(available_at) FROM dt_activities WHERE available_at > $now;").With("$now", now).ExecuteScalar();
        return (rows, next is long ticks ? ticks : null);
    }

    public async Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem)
    {
        var item = AsSqlite(workItem);
        var expiry = Now + settings.WorkItemLockDuration.Ticks;
        var renewed = await writes.WriteAsync(db => db.Command(
            "UPDATE dt_activities SET lock_expiry = $expiry WHERE id = $id AND lock_owner = $owner;")
            .With("$expiry", expiry).With("$id", item.RowId).With("$owner", item.LockOwner).ExecuteNonQuery());
        if (renewed == 0)
        {
            throw new InvalidOperationException($"The lock on activity work item {item.Id} was lost: it expired and another worker took it.");
        }

        item.LockedUntilUtc = Ticks.ToUtc(expiry);
        return item;
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        var item = AsSqlite(workItem);
        var json = DurableJson.Serialize(responseMessage);
        var now = Now;
        var delivered = await writes.WriteAsync(db =>
        {
            var deleted = db.Command("DELETE FROM dt_activities WHERE id = $id AND lock_owner = $owner;")
                .With("$id", item.RowId).With("$owner", item.LockOwner).ExecuteNonQuery();
            if (deleted == 0)
            {
                return (Owned: false, Delivered: false);
            }

            return (Owned: true, Delivered: Deliver(db, responseMessage, json, now));
        });
        SettleActivity(item);
        if (!delivered.Owned)
        {
            logger.LogWarning("Result of activity work item {Id} dropped: its lock expired and another worker took it", item.Id);
        }
        else if (delivered.Delivered)
        {
            orchestrationWork.Pulse();
        }
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        var item = AsSqlite(workItem);
        await UnlockActivityAsync(item, Now + Backoff((int)Math.Min(item.DeliveryAttempt ?? 1, 30)).Ticks);
    }

    private async Task UnlockActivityAsync(SqliteActivityWorkItem item, long? visibleAt)
    {
        await writes.WriteAsync(db => db.Command("""
            UPDATE dt_activities SET lock_owner = NULL, lock_expiry = NULL, visible_at = coalesce($visible, visible_at)
            WHERE id = $id AND lock_owner = $owner;
            """).With("$visible", visibleAt).With("$id", item.RowId).With("$owner", item.LockOwner).ExecuteNonQuery());
        SettleActivity(item);
        activityWork.Pulse();
    }

    private void SettleActivity(SqliteActivityWorkItem item)
    {
        if (!item.Settled)
        {
            item.Settled = true;
            Interlocked.Decrement(ref activitiesLocked);
        }
    }

    // ---- idle ----

    /// <summary>
    /// Completes when no orchestration or activity work is visible at the <see cref="TimeProvider"/>'s current
    /// time and none is locked. The check is one read of the database: a fetch locks its items in the same
    /// transaction that makes them invisible, and a checkpoint or activity result unlocks its item in the same
    /// transaction that writes the follow-up work, so there is no moment where work is neither visible nor locked.
    /// </summary>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var committed = writes.Committed.Next;
            if (writes.Queued == 0 && !Read(db => HasWork(db, Now)) && writes.Queued == 0)
            {
                return;
            }

            // Work may become idle without a commit (a fake clock is not advanced), so look again now and then.
            await Task.WhenAny(committed, Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken));
        }
    }

    private static bool HasWork(SqliteDb db, long now) => db.Command("""
        SELECT EXISTS (SELECT 1 FROM dt_instances WHERE available_at <= $now)
            OR EXISTS (SELECT 1 FROM dt_instances WHERE lock_owner IS NOT NULL)
            OR EXISTS (SELECT 1 FROM dt_activities WHERE available_at <= $now)
            OR EXISTS (SELECT 1 FROM dt_activities WHERE lock_owner IS NOT NULL);
        """).With("$now", now).ExecuteScalar() is long and not 0;

    // ---- helpers ----

    private string NewLockOwner() => $"{ownerPrefix}:{Interlocked.Increment(ref leaseCounter)}";

    private TimeSpan Backoff(int attempt)
    {
        var factor = Math.Pow(2, Math.Clamp(attempt - 1, 0, 20));
        var backoff = TimeSpan.FromTicks((long)Math.Min(settings.AbandonBackoff.Ticks * factor, settings.MaxAbandonBackoff.Ticks));
        return backoff;
    }

    /// <summary>Waits for a wake-up pulse, the next visible time (on the provider's clock) or the receive timeout.</summary>
    private async Task<bool> WaitForWorkAsync(Task wake, long? nextAvailableAt, TimeSpan remaining, CancellationToken cancellationToken)
    {
        if (remaining <= TimeSpan.Zero)
        {
            return false;
        }

        using var waits = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timeout = Task.Delay(remaining, waits.Token);
        Task due = Task.Delay(Timeout.InfiniteTimeSpan, waits.Token);
        if (nextAvailableAt is long next)
        {
            var delay = Ticks.ToUtc(next) - time.GetUtcNow().UtcDateTime;
            due = Task.Delay(delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > MaxProviderDelay ? MaxProviderDelay : delay, time, waits.Token);
        }

        var first = await Task.WhenAny(wake, timeout, due);
        await waits.CancelAsync();
        return first != timeout && !cancellationToken.IsCancellationRequested;
    }

    private T Read<T>(Func<SqliteDb, T> read)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (!readers.TryTake(out var db))
        {
            db = new SqliteDb(settings.DatabasePath, writer: false);
        }

        try
        {
            return read(db);
        }
        finally
        {
            readers.Add(db);
        }
    }

    private static SqliteOrchestrationWorkItem AsSqlite(TaskOrchestrationWorkItem workItem) =>
        workItem as SqliteOrchestrationWorkItem ?? throw new ArgumentException("The work item was not fetched from this service.", nameof(workItem));

    private static SqliteActivityWorkItem AsSqlite(TaskActivityWorkItem workItem) =>
        workItem as SqliteActivityWorkItem ?? throw new ArgumentException("The work item was not fetched from this service.", nameof(workItem));

    private void NotifyInstance(string instanceId)
    {
        if (instanceChanged.TryRemove(instanceId, out var changed))
        {
            changed.TrySetResult();
        }
    }

    private void Signal(WriteEffects effects)
    {
        if (effects.OrchestrationWork)
        {
            orchestrationWork.Pulse();
        }

        if (effects.ActivityWork)
        {
            activityWork.Pulse();
        }

        foreach (var instanceId in effects.FinishedInstances)
        {
            NotifyInstance(instanceId);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await stopping.CancelAsync();
        await writes.DisposeAsync();
        while (readers.TryTake(out var reader))
        {
            reader.Dispose();
        }

        writerDb.Dispose();
        SqliteConnection.ClearAllPools();
        await ownership.DisposeAsync();
        stopping.Dispose();
    }
}
