using System.Globalization;
using Google.Protobuf;
using Itsm.Durable.Protocol;
using Itsm.Durable.Replay;
using Microsoft.Data.Sqlite;

namespace Itsm.Durable.Engine;

/// <summary>A locked or lockable activity work item.</summary>
internal sealed record ActivityWorkItem(long Id, string InstanceId, string ExecutionId, int TaskId, string Name, string? InputJson, int Attempts);

/// <summary>
/// The engine's tables in SQLite (all prefixed <c>durable_</c>, so the file can be the app's own).
/// Every method opens a pooled connection; every write is one <c>BEGIN IMMEDIATE</c> transaction.
/// Times are stored as UTC ticks.
/// </summary>
internal sealed class DurableStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS durable_instances (
            instance_id TEXT NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            execution_id TEXT NOT NULL,
            runtime_status INTEGER NOT NULL,
            input TEXT,
            output TEXT,
            custom_status TEXT,
            failure BLOB,
            parent_instance_id TEXT,
            parent_execution_id TEXT,
            parent_task_id INTEGER,
            created_at INTEGER NOT NULL,
            last_updated_at INTEGER NOT NULL,
            ready_at INTEGER
        );
        CREATE INDEX IF NOT EXISTS durable_instances_ready_at ON durable_instances (ready_at);
        CREATE TABLE IF NOT EXISTS durable_history (
            instance_id TEXT NOT NULL,
            sequence INTEGER NOT NULL,
            event BLOB NOT NULL,
            PRIMARY KEY (instance_id, sequence)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS durable_messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            instance_id TEXT NOT NULL,
            execution_id TEXT,
            priority INTEGER NOT NULL,
            visible_at INTEGER NOT NULL,
            event BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS durable_messages_instance ON durable_messages (instance_id, visible_at);
        CREATE TABLE IF NOT EXISTS durable_activities (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            instance_id TEXT NOT NULL,
            execution_id TEXT NOT NULL,
            task_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            input TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            locked_until INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS durable_activities_locked_until ON durable_activities (locked_until);
        CREATE INDEX IF NOT EXISTS durable_activities_instance ON durable_activities (instance_id);
        """;

    private const string InstanceColumns =
        "instance_id, name, execution_id, runtime_status, parent_instance_id, parent_execution_id, parent_task_id";

    private readonly string connectionString;

    public DurableStore(string databasePath)
    {
        var path = Path.GetFullPath(databasePath);
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        using var connection = Open();
        Execute(connection, null, "PRAGMA journal_mode=WAL;");
        Execute(connection, null, Schema);
    }

    // ------------------------------------------------------------------ management

    /// <summary>Creates the instance and its ExecutionStarted message, unless the id exists already.</summary>
    public (bool Created, OrchestrationRuntimeStatus Status) CreateInstance(string instanceId, string name, string? input, string executionId, DateTimeOffset now)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var existing = ReadInstance(connection, transaction, instanceId);
        if (existing is not null)
        {
            return (false, existing.Status);
        }

        InsertInstance(connection, transaction, instanceId, name, executionId, input, null, now);
        InsertMessage(connection, transaction, new OutgoingMessage(
            instanceId,
            executionId,
            OutgoingMessage.ExecutionStartedPriority,
            now,
            EpisodePlanner.ExecutionStarted(name, input, instanceId, executionId, now)));
        UpdateReadyAt(connection, transaction, instanceId);
        transaction.Commit();
        return (true, OrchestrationRuntimeStatus.Pending);
    }

    /// <summary>Queues a message for a running instance (raise event, terminate): null when the instance does not exist, else its status.</summary>
    public OrchestrationRuntimeStatus? SendToInstance(string instanceId, HistoryEvent message, DateTimeOffset now)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var instance = ReadInstance(connection, transaction, instanceId);
        if (instance is null || instance.Status.IsTerminal())
        {
            return instance?.Status;
        }

        InsertMessage(connection, transaction, new OutgoingMessage(instanceId, null, OutgoingMessage.NormalPriority, now, message));
        UpdateReadyAt(connection, transaction, instanceId);
        transaction.Commit();
        return instance.Status;
    }

    public OrchestrationInstanceStatus? GetStatus(string instanceId, bool includeInputsAndOutputs)
    {
        using var connection = Open();
        using var command = Command(connection, null, """
            SELECT instance_id, name, execution_id, runtime_status, input, output, custom_status, failure,
                   parent_instance_id, created_at, last_updated_at
            FROM durable_instances WHERE instance_id = $id
            """);
        command.Parameters.AddWithValue("$id", instanceId);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        var failure = reader.IsDBNull(7)
            ? null
            : FailureDetailsMapping.FromWire(Protocol.TaskFailureDetails.Parser.ParseFrom((byte[])reader[7]));
        return new OrchestrationInstanceStatus(
            reader.GetString(0),
            reader.GetString(1),
            (OrchestrationRuntimeStatus)reader.GetInt32(3),
            includeInputsAndOutputs ? AsJson(NullableString(reader, 4)) : null,
            includeInputsAndOutputs ? AsJson(NullableString(reader, 5)) : null,
            AsJson(NullableString(reader, 6)),
            failure,
            FromTicks(reader.GetInt64(9)),
            FromTicks(reader.GetInt64(10)))
        {
            ExecutionId = reader.GetString(2),
            ParentInstanceId = NullableString(reader, 8),
        };
    }

    /// <summary>The committed history of the instance's current execution.</summary>
    public IReadOnlyList<HistoryEvent> GetHistory(string instanceId)
    {
        using var connection = Open();
        return ReadHistory(connection, null, instanceId);
    }

    /// <summary>Deletes a terminal instance with its history, messages and leftover work items.</summary>
    public bool Purge(string instanceId)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var instance = ReadInstance(connection, transaction, instanceId);
        if (instance is null || !instance.Status.IsTerminal())
        {
            return false;
        }

        DeleteInstanceData(connection, transaction, instanceId);
        Execute(connection, transaction, "DELETE FROM durable_instances WHERE instance_id = $id", ("$id", instanceId));
        transaction.Commit();
        return true;
    }

    // ------------------------------------------------------------------ orchestration dispatch

    /// <summary>Instances with a message visible now, earliest first (indexed on <c>ready_at</c>).</summary>
    public List<string> ReadyInstances(DateTimeOffset now, int limit)
    {
        using var connection = Open();
        using var command = Command(
            connection,
            null,
            "SELECT instance_id FROM durable_instances WHERE ready_at <= $now ORDER BY ready_at LIMIT $limit",
            ("$now", now.UtcTicks),
            ("$limit", limit));
        return ReadStrings(command);
    }

    /// <summary>The next instant after <paramref name="now"/> at which a message becomes visible, if any.</summary>
    public DateTimeOffset? NextInstanceDue(DateTimeOffset now) =>
        ScalarTicks("SELECT MIN(ready_at) FROM durable_instances WHERE ready_at > $now", now);

    /// <summary>
    /// The instance and its ready messages. Messages for a missing or finished instance, or for an
    /// execution that has ended (continue-as-new), are discarded here. Null when nothing is to run.
    /// </summary>
    public EpisodeWork? LoadEpisode(string instanceId, DateTimeOffset now)
    {
        // Read first without the write lock; the rare discard paths take it.
        using (var connection = Open())
        using (var transaction = connection.BeginTransaction(deferred: true))
        {
            var instance = ReadInstance(connection, transaction, instanceId);
            if (instance is not null && !instance.Status.IsTerminal())
            {
                var work = ReadEpisode(connection, transaction, instance, now, out var hasStale);
                if (!hasStale && work is not null)
                {
                    return work;
                }
            }
        }

        return LoadEpisodeDiscarding(instanceId, now);
    }

    private static EpisodeWork? ReadEpisode(SqliteConnection connection, SqliteTransaction transaction, InstanceRow instance, DateTimeOffset now, out bool hasStale)
    {
        hasStale = false;
        var ids = new List<long>();
        var messages = new List<HistoryEvent>();
        using (var command = Command(
            connection,
            transaction,
            "SELECT id, execution_id, event FROM durable_messages WHERE instance_id = $id AND visible_at <= $now ORDER BY priority, id",
            ("$id", instance.InstanceId),
            ("$now", now.UtcTicks)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var executionId = NullableString(reader, 1);
                if (executionId is not null && executionId != instance.ExecutionId)
                {
                    hasStale = true;
                    continue;
                }

                ids.Add(reader.GetInt64(0));
                messages.Add(HistoryEvent.Parser.ParseFrom((byte[])reader[2]));
            }
        }

        return messages.Count == 0 ? null : new EpisodeWork(instance, ReadHistory(connection, transaction, instance.InstanceId), ids, messages);
    }

    private EpisodeWork? LoadEpisodeDiscarding(string instanceId, DateTimeOffset now)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var instance = ReadInstance(connection, transaction, instanceId);
        if (instance is null || instance.Status.IsTerminal())
        {
            Execute(connection, transaction, "DELETE FROM durable_messages WHERE instance_id = $id", ("$id", instanceId));
            Execute(connection, transaction, "UPDATE durable_instances SET ready_at = NULL WHERE instance_id = $id", ("$id", instanceId));
            transaction.Commit();
            return null;
        }

        var ids = new List<long>();
        var messages = new List<HistoryEvent>();
        var stale = new List<long>();
        using (var command = Command(
            connection,
            transaction,
            """
            SELECT id, execution_id, event FROM durable_messages
            WHERE instance_id = $id AND visible_at <= $now ORDER BY priority, id
            """,
            ("$id", instanceId),
            ("$now", now.UtcTicks)))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var executionId = NullableString(reader, 1);
                if (executionId is not null && executionId != instance.ExecutionId)
                {
                    stale.Add(reader.GetInt64(0));
                    continue;
                }

                ids.Add(reader.GetInt64(0));
                messages.Add(HistoryEvent.Parser.ParseFrom((byte[])reader[2]));
            }
        }

        if (stale.Count > 0)
        {
            DeleteMessages(connection, transaction, stale);
            UpdateReadyAt(connection, transaction, instanceId);
        }

        if (messages.Count == 0)
        {
            UpdateReadyAt(connection, transaction, instanceId);
            transaction.Commit();
            return null;
        }

        var history = ReadHistory(connection, transaction, instanceId);
        transaction.Commit();
        return new EpisodeWork(instance, history, ids, messages);
    }

    /// <summary>Writes everything an episode changed, in one transaction.</summary>
    public void CommitEpisode(EpisodeCommit commit, DateTimeOffset now)
    {
        var self = commit.Instance;
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var touched = new HashSet<string>(StringComparer.Ordinal) { self.InstanceId };

        DeleteMessages(connection, transaction, commit.ConsumedMessageIds);
        if (commit.ResetHistory)
        {
            Execute(connection, transaction, "DELETE FROM durable_history WHERE instance_id = $id", ("$id", self.InstanceId));
        }
        else
        {
            AppendHistory(connection, transaction, self.InstanceId, commit.AppendHistory);
        }

        var executionId = commit.NewExecutionId ?? self.ExecutionId;
        using (var update = Command(connection, transaction, """
            UPDATE durable_instances
            SET runtime_status = $status, execution_id = $execution, custom_status = $custom, output = $output,
                failure = $failure, last_updated_at = $now, input = CASE WHEN $reset THEN $input ELSE input END
            WHERE instance_id = $id
            """))
        {
            update.Parameters.AddWithValue("$id", self.InstanceId);
            update.Parameters.AddWithValue("$status", (int)commit.Status);
            update.Parameters.AddWithValue("$execution", executionId);
            update.Parameters.AddWithValue("$custom", (object?)commit.CustomStatus ?? DBNull.Value);
            update.Parameters.AddWithValue("$output", (object?)commit.Output ?? DBNull.Value);
            update.Parameters.AddWithValue("$failure", commit.Failure is null ? DBNull.Value : commit.Failure.ToWire().ToByteArray());
            update.Parameters.AddWithValue("$now", now.UtcTicks);
            update.Parameters.AddWithValue("$reset", commit.ResetHistory);
            update.Parameters.AddWithValue("$input", (object?)commit.NewInput ?? DBNull.Value);
            update.ExecuteNonQuery();
        }

        if (commit.Status.IsTerminal())
        {
            // Whatever is still queued for a finished instance (timers, events) is discarded.
            Execute(connection, transaction, "DELETE FROM durable_messages WHERE instance_id = $id", ("$id", self.InstanceId));
        }
        else if (commit.ResetHistory)
        {
            // Responses to the finished execution's actions; raised events stay for the new one.
            Execute(
                connection,
                transaction,
                "DELETE FROM durable_messages WHERE instance_id = $id AND execution_id = $execution",
                ("$id", self.InstanceId),
                ("$execution", self.ExecutionId));
        }

        foreach (var activity in commit.Activities)
        {
            Execute(
                connection,
                transaction,
                """
                INSERT INTO durable_activities (instance_id, execution_id, task_id, name, input, created_at)
                VALUES ($id, $execution, $task, $name, $input, $now)
                """,
                ("$id", self.InstanceId),
                ("$execution", executionId),
                ("$task", activity.TaskId),
                ("$name", activity.Name),
                ("$input", activity.InputJson),
                ("$now", now.UtcTicks));
        }

        foreach (var child in commit.Children)
        {
            touched.Add(child.InstanceId);
            if (!TryCreateChild(connection, transaction, self, child, now))
            {
                var failure = new TaskFailureDetails(
                    typeof(InvalidOperationException).FullName!,
                    $"An orchestration with instance id '{child.InstanceId}' is already running.",
                    IsNonRetriable: true);
                InsertMessage(connection, transaction, new OutgoingMessage(
                    self.InstanceId,
                    executionId,
                    OutgoingMessage.NormalPriority,
                    now,
                    new HistoryEvent
                    {
                        EventId = -1,
                        Timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now),
                        SubOrchestrationInstanceFailed = new SubOrchestrationInstanceFailedEvent { TaskScheduledId = child.TaskId, FailureDetails = failure.ToWire() },
                    }));
            }
        }

        foreach (var message in commit.Messages)
        {
            if (DeliverMessage(connection, transaction, message))
            {
                touched.Add(message.InstanceId);
            }
        }

        foreach (var instanceId in touched)
        {
            UpdateReadyAt(connection, transaction, instanceId);
        }

        transaction.Commit();
    }

    /// <summary>Marks an instance failed outside an episode (the store could not commit its episode).</summary>
    public void FailInstance(string instanceId, TaskFailureDetails failure, DateTimeOffset now)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, "DELETE FROM durable_messages WHERE instance_id = $id", ("$id", instanceId));
        Execute(
            connection,
            transaction,
            """
            UPDATE durable_instances SET runtime_status = $status, output = $output, failure = $failure, last_updated_at = $now, ready_at = NULL
            WHERE instance_id = $id
            """,
            ("$id", instanceId),
            ("$status", (int)OrchestrationRuntimeStatus.Failed),
            ("$output", failure.ErrorMessage),
            ("$failure", failure.ToWire().ToByteArray()),
            ("$now", now.UtcTicks));
        transaction.Commit();
    }

    // ------------------------------------------------------------------ activity dispatch

    /// <summary>Work items whose lock has expired or that were never locked, oldest due first.</summary>
    public List<ActivityWorkItem> ReadyActivities(DateTimeOffset now, int limit)
    {
        using var connection = Open();
        using var command = Command(
            connection,
            null,
            """
            SELECT id, instance_id, execution_id, task_id, name, input, attempts FROM durable_activities
            WHERE locked_until <= $now ORDER BY locked_until, id LIMIT $limit
            """,
            ("$now", now.UtcTicks),
            ("$limit", limit));
        using var reader = command.ExecuteReader();
        var items = new List<ActivityWorkItem>();
        while (reader.Read())
        {
            items.Add(new ActivityWorkItem(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetString(2),
                reader.GetInt32(3),
                reader.GetString(4),
                NullableString(reader, 5),
                reader.GetInt32(6)));
        }

        return items;
    }

    /// <summary>The next instant after <paramref name="now"/> at which a lock expires, if any.</summary>
    public DateTimeOffset? NextActivityDue(DateTimeOffset now) =>
        ScalarTicks("SELECT MIN(locked_until) FROM durable_activities WHERE locked_until > $now", now);

    /// <summary>Locks a work item if it is still unlocked; counts the attempt.</summary>
    public bool TryLockActivity(long id, DateTimeOffset now, DateTimeOffset lockedUntil)
    {
        using var connection = Open();
        using var command = Command(
            connection,
            null,
            "UPDATE durable_activities SET locked_until = $until, attempts = attempts + 1 WHERE id = $id AND locked_until <= $now",
            ("$id", id),
            ("$now", now.UtcTicks),
            ("$until", lockedUntil.UtcTicks));
        return command.ExecuteNonQuery() == 1;
    }

    public void RenewActivityLock(long id, DateTimeOffset lockedUntil)
    {
        using var connection = Open();
        Execute(connection, null, "UPDATE durable_activities SET locked_until = $until WHERE id = $id", ("$id", id), ("$until", lockedUntil.UtcTicks));
    }

    /// <summary>
    /// Removes the work item and queues TaskCompleted/TaskFailed for its execution, in one
    /// transaction. A work item already gone (completed by an earlier attempt) or an execution that
    /// has ended makes this a no-op for the orchestration. False when nothing was delivered.
    /// </summary>
    public bool CompleteActivity(ActivityWorkItem item, ActivityResult result, DateTimeOffset now)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using (var delete = Command(connection, transaction, "DELETE FROM durable_activities WHERE id = $id", ("$id", item.Id)))
        {
            if (delete.ExecuteNonQuery() == 0)
            {
                return false;
            }
        }

        var timestamp = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now);
        var message = new HistoryEvent { EventId = -1, Timestamp = timestamp };
        if (result.Failure is { } failure)
        {
            message.TaskFailed = new TaskFailedEvent { TaskScheduledId = item.TaskId, FailureDetails = failure.ToWire() };
        }
        else
        {
            message.TaskCompleted = new TaskCompletedEvent { TaskScheduledId = item.TaskId, Result = result.ResultJson };
        }

        var delivered = DeliverMessage(connection, transaction, new OutgoingMessage(item.InstanceId, item.ExecutionId, OutgoingMessage.NormalPriority, now, message));
        if (delivered)
        {
            UpdateReadyAt(connection, transaction, item.InstanceId);
        }

        transaction.Commit();
        return delivered;
    }

    // ------------------------------------------------------------------ idle check

    public bool AnyReadyInstance(DateTimeOffset now, IReadOnlyCollection<string> running)
    {
        var ready = ReadyInstances(now, running.Count + 1);
        return ready.Exists(id => !running.Contains(id));
    }

    public bool AnyReadyActivity(DateTimeOffset now, IReadOnlyCollection<long> running)
    {
        var ready = ReadyActivities(now, running.Count + 1);
        return ready.Exists(item => !running.Contains(item.Id));
    }

    // ------------------------------------------------------------------ helpers

    private bool TryCreateChild(SqliteConnection connection, SqliteTransaction transaction, InstanceRow parent, NewChild child, DateTimeOffset now)
    {
        var existing = ReadInstance(connection, transaction, child.InstanceId);
        if (existing is not null && !existing.Status.IsTerminal())
        {
            return false;
        }

        if (existing is not null)
        {
            // A finished instance with the same id is replaced, as DTFx does for sub-orchestrations.
            DeleteInstanceData(connection, transaction, child.InstanceId);
            Execute(connection, transaction, "DELETE FROM durable_instances WHERE instance_id = $id", ("$id", child.InstanceId));
        }

        var executionId = child.ExecutionStarted.ExecutionStarted.OrchestrationInstance.ExecutionId;
        InsertInstance(connection, transaction, child.InstanceId, child.Name, executionId, child.InputJson, (parent, child.TaskId), now);
        InsertMessage(connection, transaction, new OutgoingMessage(
            child.InstanceId,
            executionId,
            OutgoingMessage.ExecutionStartedPriority,
            now,
            child.ExecutionStarted));
        return true;
    }

    /// <summary>Inserts a message if its target exists, is not finished, and (when given) still runs that execution.</summary>
    private static bool DeliverMessage(SqliteConnection connection, SqliteTransaction transaction, OutgoingMessage message)
    {
        var target = ReadInstance(connection, transaction, message.InstanceId);
        if (target is null || target.Status.IsTerminal()
            || (message.ExecutionId is not null && message.ExecutionId != target.ExecutionId))
        {
            return false;
        }

        InsertMessage(connection, transaction, message);
        return true;
    }

    private static void InsertInstance(
        SqliteConnection connection,
        SqliteTransaction transaction,
        string instanceId,
        string name,
        string executionId,
        string? input,
        (InstanceRow Parent, int TaskId)? parent,
        DateTimeOffset now) =>
        Execute(
            connection,
            transaction,
            """
            INSERT INTO durable_instances (instance_id, name, execution_id, runtime_status, input, parent_instance_id,
                parent_execution_id, parent_task_id, created_at, last_updated_at)
            VALUES ($id, $name, $execution, $status, $input, $parent, $parentExecution, $parentTask, $now, $now)
            """,
            ("$id", instanceId),
            ("$name", name),
            ("$execution", executionId),
            ("$status", (int)OrchestrationRuntimeStatus.Pending),
            ("$input", input),
            ("$parent", parent?.Parent.InstanceId),
            ("$parentExecution", parent?.Parent.ExecutionId),
            ("$parentTask", parent?.TaskId),
            ("$now", now.UtcTicks));

    private static void InsertMessage(SqliteConnection connection, SqliteTransaction transaction, OutgoingMessage message) =>
        Execute(
            connection,
            transaction,
            "INSERT INTO durable_messages (instance_id, execution_id, priority, visible_at, event) VALUES ($id, $execution, $priority, $visible, $event)",
            ("$id", message.InstanceId),
            ("$execution", message.ExecutionId),
            ("$priority", message.Priority),
            ("$visible", message.VisibleAt.UtcTicks),
            ("$event", message.Event.ToByteArray()));

    private static void UpdateReadyAt(SqliteConnection connection, SqliteTransaction transaction, string instanceId) =>
        Execute(
            connection,
            transaction,
            """
            UPDATE durable_instances
            SET ready_at = (SELECT MIN(visible_at) FROM durable_messages WHERE instance_id = $id)
            WHERE instance_id = $id
            """,
            ("$id", instanceId));

    private static void DeleteMessages(SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<long> ids)
    {
        if (ids.Count == 0)
        {
            return;
        }

        using var command = Command(connection, transaction, "DELETE FROM durable_messages WHERE id = $id");
        var parameter = command.Parameters.Add("$id", SqliteType.Integer);
        foreach (var id in ids)
        {
            parameter.Value = id;
            command.ExecuteNonQuery();
        }
    }

    private static void DeleteInstanceData(SqliteConnection connection, SqliteTransaction transaction, string instanceId)
    {
        Execute(connection, transaction, "DELETE FROM durable_history WHERE instance_id = $id", ("$id", instanceId));
        Execute(connection, transaction, "DELETE FROM durable_messages WHERE instance_id = $id", ("$id", instanceId));
        Execute(connection, transaction, "DELETE FROM durable_activities WHERE instance_id = $id", ("$id", instanceId));
    }

    private static void AppendHistory(SqliteConnection connection, SqliteTransaction transaction, string instanceId, IReadOnlyList<HistoryEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        long next;
        using (var max = Command(connection, transaction, "SELECT COALESCE(MAX(sequence) + 1, 0) FROM durable_history WHERE instance_id = $id", ("$id", instanceId)))
        {
            next = Convert.ToInt64(max.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        using var insert = Command(connection, transaction, "INSERT INTO durable_history (instance_id, sequence, event) VALUES ($id, $sequence, $event)");
        insert.Parameters.AddWithValue("$id", instanceId);
        var sequence = insert.Parameters.Add("$sequence", SqliteType.Integer);
        var data = insert.Parameters.Add("$event", SqliteType.Blob);
        foreach (var historyEvent in events)
        {
            sequence.Value = next++;
            data.Value = historyEvent.ToByteArray();
            insert.ExecuteNonQuery();
        }
    }

    private static List<HistoryEvent> ReadHistory(SqliteConnection connection, SqliteTransaction? transaction, string instanceId)
    {
        using var command = Command(connection, transaction, "SELECT event FROM durable_history WHERE instance_id = $id ORDER BY sequence", ("$id", instanceId));
        using var reader = command.ExecuteReader();
        var events = new List<HistoryEvent>();
        while (reader.Read())
        {
            events.Add(HistoryEvent.Parser.ParseFrom((byte[])reader[0]));
        }

        return events;
    }

    private static InstanceRow? ReadInstance(SqliteConnection connection, SqliteTransaction? transaction, string instanceId)
    {
        using var command = Command(connection, transaction, $"SELECT {InstanceColumns} FROM durable_instances WHERE instance_id = $id", ("$id", instanceId));
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new InstanceRow(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                (OrchestrationRuntimeStatus)reader.GetInt32(3),
                NullableString(reader, 4),
                NullableString(reader, 5),
                reader.IsDBNull(6) ? null : reader.GetInt32(6))
            : null;
    }

    private DateTimeOffset? ScalarTicks(string sql, DateTimeOffset now)
    {
        using var connection = Open();
        using var command = Command(connection, null, sql, ("$now", now.UtcTicks));
        return command.ExecuteScalar() is long ticks ? FromTicks(ticks) : null;
    }

    private static List<string> ReadStrings(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var values = new List<string>();
        while (reader.Read())
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    /// <summary>Stored payloads are JSON text; anything else (a terminate reason, a failure message) is shown as a JSON string.</summary>
    private static string? AsJson(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return text;
        }
        catch (System.Text.Json.JsonException)
        {
            return System.Text.Json.JsonSerializer.Serialize(text, DurableJson.Options);
        }
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, null, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;");
        return connection;
    }

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

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }
}
