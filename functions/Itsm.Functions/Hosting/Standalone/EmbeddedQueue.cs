using System.Collections.Concurrent;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// The standalone stand-in for an Azure Storage queue, persisted in SQLite, with the semantics the app relies on:
/// peek-lock delivery (at least once; the lock is the Storage queue's visibility timeout), a dequeue count, and after
/// the maximum count the message moves to the poison queue <c>{queue}-poison</c> with the reason, as the Functions
/// host does, from where <see cref="ResubmitPoisonAsync"/> puts it back. Messages with a repeated id within a window
/// are dropped (the intake is idempotent on the external id anyway).
/// </summary>
public sealed class EmbeddedQueue
{
    /// <summary>The Functions host's name for a queue's poison queue: <c>{queue}-poison</c>.</summary>
    public const string PoisonSuffix = "-poison";

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS queue_messages (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            body TEXT NOT NULL,
            content_type TEXT,
            correlation_id TEXT,
            enqueued_at INTEGER NOT NULL,
            visible_at INTEGER NOT NULL,
            delivery_count INTEGER NOT NULL DEFAULT 0,
            lock_token TEXT,
            dead_lettered INTEGER NOT NULL DEFAULT 0,
            dead_letter_reason TEXT,
            dead_letter_description TEXT,
            dead_lettered_at INTEGER);
        CREATE INDEX IF NOT EXISTS ix_queue_messages_ready ON queue_messages(queue, dead_lettered, visible_at, seq);
        CREATE TABLE IF NOT EXISTS queue_duplicate_detection (
            queue TEXT NOT NULL,
            message_id TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (queue, message_id));
        CREATE INDEX IF NOT EXISTS ix_queue_duplicate_detection_expiry ON queue_duplicate_detection(expires_at);
        """;

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    private readonly QueueOptions _options;
    private readonly ConcurrentDictionary<string, QueueSignal> _signals = new(StringComparer.OrdinalIgnoreCase);

    public EmbeddedQueue(SqliteDatabase database, TimeProvider time, QueueOptions options)
    {
        _database = database;
        _time = time;
        _options = options;
        _database.EnsureSchema(Schema);
    }

    public QueueOptions Options => _options;

    public QueueSignal Signal(string queue) => _signals.GetOrAdd(queue, _ => new QueueSignal());

    /// <summary>Sends a message. A message id seen on the same queue within the duplicate-detection window is dropped.</summary>
    public async Task<SendOutcome> SendAsync(string queue, OutgoingQueueMessage message, CancellationToken cancellationToken = default)
    {
        var now = Now();
        var messageId = string.IsNullOrEmpty(message.MessageId) ? Guid.NewGuid().ToString("N") : message.MessageId;
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        Run(connection, transaction, "DELETE FROM queue_duplicate_detection WHERE expires_at <= $now", ("$now", now));
        var inserted = Run(
            connection,
            transaction,
            "INSERT OR IGNORE INTO queue_duplicate_detection(queue, message_id, expires_at) VALUES ($q, $id, $exp)",
            ("$q", queue), ("$id", messageId), ("$exp", now + (long)_options.DuplicateDetectionWindow.TotalMilliseconds));
        if (inserted == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return new SendOutcome(messageId, Duplicate: true);
        }

        Run(
            connection,
            transaction,
            """
            INSERT INTO queue_messages(queue, message_id, body, content_type, correlation_id, enqueued_at, visible_at)
            VALUES ($q, $id, $body, $ct, $corr, $now, $now)
            """,
            ("$q", queue), ("$id", messageId), ("$body", message.Body), ("$ct", message.ContentType), ("$corr", message.CorrelationId), ("$now", now));
        await transaction.CommitAsync(cancellationToken);
        Signal(queue).Set();
        return new SendOutcome(messageId, Duplicate: false);
    }

    /// <summary>
    /// Locks the next visible message. A message whose earlier deliveries already reached the maximum
    /// (its handler crashed each time and the lock expired) is dead-lettered instead of delivered again.
    /// </summary>
    public async Task<ReceivedQueueMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken = default)
    {
        var now = Now();
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        while (true)
        {
            await using var select = Command(
                connection,
                transaction,
                """
                SELECT seq, message_id, body, content_type, correlation_id, enqueued_at, delivery_count
                FROM queue_messages WHERE queue = $q AND dead_lettered = 0 AND visible_at <= $now
                ORDER BY visible_at, seq LIMIT 1
                """,
                ("$q", queue), ("$now", now));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                await transaction.CommitAsync(cancellationToken);
                return null;
            }

            var seq = reader.GetInt64(0);
            var deliveryCount = reader.GetInt32(6);
            if (deliveryCount >= _options.MaxDeliveryCount)
            {
                await reader.DisposeAsync();
                MoveToDeadLetter(connection, transaction, seq, "MaxDeliveryCountExceeded", $"The message was delivered {deliveryCount} times and its lock expired each time.", now);
                continue;
            }

            var message = new ReceivedQueueMessage(
                queue,
                seq,
                reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                deliveryCount + 1,
                Guid.NewGuid().ToString("N"),
                DateTimeOffset.FromUnixTimeMilliseconds(now + (long)_options.LockDuration.TotalMilliseconds));
            await reader.DisposeAsync();
            Run(
                connection,
                transaction,
                "UPDATE queue_messages SET delivery_count = delivery_count + 1, lock_token = $lock, visible_at = $until WHERE seq = $seq",
                ("$lock", message.LockToken), ("$until", message.LockedUntil.ToUnixTimeMilliseconds()), ("$seq", seq));
            await transaction.CommitAsync(cancellationToken);
            return message;
        }
    }

    /// <summary>Removes a handled message. False when the lock was lost (the message may be delivered again).</summary>
    public async Task<bool> CompleteAsync(ReceivedQueueMessage message, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return Run(connection, null, "DELETE FROM queue_messages WHERE seq = $seq AND lock_token = $lock", ("$seq", message.Sequence), ("$lock", message.LockToken)) == 1;
    }

    /// <summary>Extends the lock of a message still being handled. False when the lock was lost.</summary>
    public async Task<bool> RenewLockAsync(ReceivedQueueMessage message, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var until = Now() + (long)_options.LockDuration.TotalMilliseconds;
        return Run(connection, null, "UPDATE queue_messages SET visible_at = $until WHERE seq = $seq AND lock_token = $lock", ("$until", until), ("$seq", message.Sequence), ("$lock", message.LockToken)) == 1;
    }

    /// <summary>
    /// Gives a message back after a failed delivery: visible again after a back-off, or dead-lettered when
    /// it has been delivered the maximum number of times.
    /// </summary>
    public async Task AbandonAsync(ReceivedQueueMessage message, string reason, CancellationToken cancellationToken = default)
    {
        var now = Now();
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        if (message.DeliveryCount >= _options.MaxDeliveryCount)
        {
            MoveToDeadLetter(connection, transaction, message.Sequence, "MaxDeliveryCountExceeded", reason, now, message.LockToken);
        }
        else
        {
            var backoff = RetryDelay(message.DeliveryCount);
            Run(
                connection,
                transaction,
                "UPDATE queue_messages SET lock_token = NULL, visible_at = $visible WHERE seq = $seq AND lock_token = $lock",
                ("$visible", now + (long)backoff.TotalMilliseconds), ("$seq", message.Sequence), ("$lock", message.LockToken));
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>When the earliest message that is not visible yet becomes visible (retry back-off or an expiring lock).</summary>
    public async Task<DateTimeOffset?> NextVisibleAtAsync(string queue, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT MIN(visible_at) FROM queue_messages WHERE queue = $q AND dead_lettered = 0", ("$q", queue));
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public async Task<int> CountActiveAsync(string queue, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT COUNT(*) FROM queue_messages WHERE queue = $q AND dead_lettered = 0", ("$q", queue));
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The messages in the poison queue of <paramref name="queue"/>, oldest first, with why they got there.</summary>
    public async Task<IReadOnlyList<DeadLetteredMessage>> GetDeadLettersAsync(string queue, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = Command(
            connection,
            null,
            "SELECT message_id, body, delivery_count, COALESCE(dead_letter_reason, ''), dead_letter_description, COALESCE(dead_lettered_at, enqueued_at) FROM queue_messages WHERE queue = $q ORDER BY dead_lettered_at, seq",
            ("$q", queue + PoisonSuffix));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<DeadLetteredMessage>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new DeadLetteredMessage(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetInt32(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? "" : reader.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5))));
        }

        return result;
    }

    /// <summary>Moves every message of the poison queue of <paramref name="queue"/> back to it, as new (dequeue count 0); returns how many.</summary>
    public async Task<int> ResubmitPoisonAsync(string queue, CancellationToken cancellationToken = default)
    {
        var now = Now();
        int moved;
        await using (var connection = await _database.OpenAsync(cancellationToken))
        {
            moved = Run(
                connection,
                null,
                "UPDATE queue_messages SET queue = $q, delivery_count = 0, lock_token = NULL, visible_at = $now, dead_letter_reason = NULL, dead_letter_description = NULL, dead_lettered_at = NULL WHERE queue = $poison",
                ("$q", queue), ("$poison", queue + PoisonSuffix), ("$now", now));
        }

        if (moved > 0)
        {
            Signal(queue).Set();
        }

        return moved;
    }

    private TimeSpan RetryDelay(int deliveryCount)
    {
        var factor = Math.Pow(2, Math.Max(0, deliveryCount - 1));
        var delay = TimeSpan.FromMilliseconds(_options.RetryDelay.TotalMilliseconds * factor);
        return delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }

    private static void MoveToDeadLetter(SqliteConnection connection, SqliteTransaction? transaction, long seq, string reason, string description, long now, string? lockToken = null) =>
        Run(
            connection,
            transaction,
            "UPDATE queue_messages SET queue = queue || '" + PoisonSuffix + "', dead_lettered = 0, lock_token = NULL, visible_at = $now, dead_letter_reason = $reason, dead_letter_description = $description, dead_lettered_at = $now WHERE seq = $seq"
                + (lockToken is null ? "" : " AND lock_token = $lock"),
            ("$reason", reason), ("$description", description), ("$now", now), ("$seq", seq), ("$lock", lockToken));

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static int Run(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }
}

public sealed record OutgoingQueueMessage(string Body, string? MessageId = null, string? ContentType = null, string? CorrelationId = null);

public sealed record SendOutcome(string MessageId, bool Duplicate);

public sealed record ReceivedQueueMessage(
    string Queue,
    long Sequence,
    string MessageId,
    string Body,
    string? ContentType,
    string? CorrelationId,
    DateTimeOffset EnqueuedTime,
    int DeliveryCount,
    string LockToken,
    DateTimeOffset LockedUntil)
{
    /// <summary>The message as the queue trigger's <c>QueueMessage</c> binding gives it.</summary>
    public Azure.Storage.Queues.Models.QueueMessage ToStorageQueueMessage() =>
        Azure.Storage.Queues.Models.QueuesModelFactory.QueueMessage(MessageId, LockToken, BinaryData.FromString(Body), DeliveryCount, LockedUntil, EnqueuedTime, null);
}

public sealed record DeadLetteredMessage(string MessageId, string Body, int DeliveryCount, string Reason, string Description, DateTimeOffset DeadLetteredAt);

/// <summary>The Service Bus queue settings the standalone queue imitates (Service Bus defaults).</summary>
public sealed record QueueOptions
{
    public TimeSpan LockDuration { get; init; } = TimeSpan.FromSeconds(60);

    public int MaxDeliveryCount { get; init; } = 5;

    public TimeSpan DuplicateDetectionWindow { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromMinutes(1);

    public int MaxConcurrentCalls { get; init; } = 16;

    /// <summary>How long an idle listener waits before looking again for messages sent by another process.</summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>An auto-reset wake-up for listeners of one queue.</summary>
public sealed class QueueSignal
{
    private TaskCompletionSource _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync() => Volatile.Read(ref _tcs).Task;

    public void Set() => Interlocked.Exchange(ref _tcs, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
