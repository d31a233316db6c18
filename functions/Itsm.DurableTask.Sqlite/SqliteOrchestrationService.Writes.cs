using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// What a committed write makes visible, for the wake-up signals. <paramref name="FinishedInstances"/> are the
/// instances the write took to a terminal status: the only change <c>WaitForOrchestrationAsync</c> waits for.
/// </summary>
internal sealed record WriteEffects(bool OrchestrationWork, bool ActivityWork, IReadOnlyList<string> FinishedInstances);

public sealed partial class SqliteOrchestrationService
{
    private const string RecomputeNextVisible = """
        UPDATE dt_instances SET next_visible_at = CASE
            WHEN status = 6 AND scheduled_start_at IS NOT NULL
                THEN max((SELECT min(visible_at) FROM dt_inbox WHERE instance_id = $id), scheduled_start_at)
            ELSE (SELECT min(visible_at) FROM dt_inbox WHERE instance_id = $id) END
        WHERE instance_id = $id
        RETURNING next_visible_at;
        """;

    private static readonly string DeliverToLiveInstance = $"""
        INSERT INTO dt_inbox (instance_id, visible_at, message)
        SELECT instance_id, $visible, $message FROM dt_instances
        WHERE instance_id = $id
            AND status NOT IN ({(int)OrchestrationStatus.Completed}, {(int)OrchestrationStatus.Failed}, {(int)OrchestrationStatus.Terminated}, {(int)OrchestrationStatus.Canceled})
            AND ($execution IS NULL OR execution_id = $execution);
        """;

    private const int HistoryRowsPerInsert = 16;

    private static readonly string[] EventParameters = Enumerable.Range(0, HistoryRowsPerInsert).Select(i => $"$e{i}").ToArray();

    /// <summary><c>HistoryInserts[n]</c> inserts n events with consecutive sequence numbers from <c>$seq</c>.</summary>
    private static readonly string[] HistoryInserts = Enumerable.Range(0, HistoryRowsPerInsert + 1)
        .Select(n => n == 0 ? string.Empty : "INSERT INTO dt_history (instance_id, seq, execution_id, event) VALUES "
            + string.Join(", ", Enumerable.Range(0, n).Select(i => $"($id, $seq + {i}, $execution, $e{i})")) + ";")
        .ToArray();

    /// <summary>Everything a checkpoint writes, serialized before it reaches the writer.</summary>
    private sealed record Checkpoint(
        string InstanceId,
        string LockOwner,
        IReadOnlyList<long> ConsumedMessageIds,
        InstanceUpdate? Update,
        bool ReplaceHistory,
        int FirstSequence,
        string ExecutionId,
        List<string> NewHistory,
        List<string> Activities,
        List<(long VisibleAt, string Json)> Timers,
        List<(TaskMessage Message, string Json)> OrchestratorMessages)
    {
        public static Checkpoint Create(
            SqliteOrchestrationWorkItem item,
            OrchestrationRuntimeState state,
            IList<TaskMessage> outbound,
            IList<TaskMessage> orchestratorMessages,
            IList<TaskMessage> timers,
            TaskMessage? continuedAsNew,
            OrchestrationState? status)
        {
            var executionId = state.OrchestrationInstance?.ExecutionId ?? item.FetchedExecutionId;
            var replaceHistory = executionId != item.FetchedExecutionId;
            var history = new List<string>(state.NewEvents.Count);
            foreach (var historyEvent in state.NewEvents)
            {
                history.Add(DurableJson.Serialize(historyEvent));
            }

            var toOrchestrations = orchestratorMessages.Select(m => (m, DurableJson.Serialize(m))).ToList();
            if (continuedAsNew is not null)
            {
                toOrchestrations.Add((continuedAsNew, DurableJson.Serialize(continuedAsNew)));
            }

            InstanceUpdate? update = null;
            if (state.ExecutionStartedEvent is not null)
            {
                var runtimeStatus = status?.OrchestrationStatus ?? state.OrchestrationStatus;
                update = new InstanceUpdate(
                    executionId,
                    state.Name,
                    state.Version,
                    (int)runtimeStatus,
                    state.Input,
                    status is not null ? status.Output : state.Output,
                    status is not null ? status.Status : state.Status,
                    (status?.FailureDetails ?? state.FailureDetails) is { } failure ? DurableJson.Serialize(failure) : null,
                    state.Tags is { Count: > 0 } tags ? JsonSerializer.Serialize(tags) : null,
                    Ticks.IsTerminal(runtimeStatus));
            }

            return new Checkpoint(
                item.InstanceId,
                item.LockOwner,
                item.MessageIds,
                update,
                replaceHistory,
                state.PastEvents.Count,
                executionId,
                history,
                outbound.Select(DurableJson.Serialize).ToList(),
                timers.Select(t => (t.Event is TimerFiredEvent fired ? Ticks.Of(fired.FireAt) : 0L, DurableJson.Serialize(t))).ToList(),
                toOrchestrations);
        }
    }

    private sealed record InstanceUpdate(
        string ExecutionId,
        string Name,
        string? Version,
        int Status,
        string? Input,
        string? Output,
        string? CustomStatus,
        string? FailureDetails,
        string? Tags,
        bool Terminal);

    private static WriteEffects WriteCheckpoint(SqliteDb db, Checkpoint checkpoint, long now)
    {
        var id = checkpoint.InstanceId;
        int owned;
        if (checkpoint.Update is { } update)
        {
            owned = db.Command("""
                UPDATE dt_instances SET execution_id = $execution, name = $name, version = $version, status = $status,
                    last_updated_at = $now, completed_at = CASE WHEN $terminal THEN $now ELSE NULL END,
                    scheduled_start_at = CASE WHEN $status = 6 THEN scheduled_start_at ELSE NULL END,
                    input = $input, output = $output, custom_status = $custom, failure_details = $failure, tags = $tags,
                    lock_owner = NULL, lock_expiry = NULL
                WHERE instance_id = $id AND lock_owner = $owner;
                """)
                .With("$execution", update.ExecutionId).With("$name", update.Name).With("$version", update.Version)
                .With("$status", update.Status).With("$now", now).With("$terminal", update.Terminal)
                .With("$input", update.Input).With("$output", update.Output).With("$custom", update.CustomStatus)
                .With("$failure", update.FailureDetails).With("$tags", update.Tags)
                .With("$id", id).With("$owner", checkpoint.LockOwner).ExecuteNonQuery();
        }
        else
        {
            owned = db.Command("UPDATE dt_instances SET lock_owner = NULL, lock_expiry = NULL WHERE instance_id = $id AND lock_owner = $owner;")
                .With("$id", id).With("$owner", checkpoint.LockOwner).ExecuteNonQuery();
        }

        if (owned == 0)
        {
            throw new InvalidOperationException($"The lock on orchestration '{id}' was lost before its checkpoint: it expired and another worker took it.");
        }

        if (checkpoint.ReplaceHistory)
        {
            db.Command("DELETE FROM dt_history WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
        }

        InsertHistory(db, id, checkpoint.ExecutionId, checkpoint.ReplaceHistory ? 0 : checkpoint.FirstSequence, checkpoint.NewHistory);

        foreach (var messageId in checkpoint.ConsumedMessageIds)
        {
            db.Command("DELETE FROM dt_inbox WHERE id = $id;").With("$id", messageId).ExecuteNonQuery();
        }

        foreach (var json in checkpoint.Activities)
        {
            db.Command("INSERT INTO dt_activities (instance_id, visible_at, message) VALUES ($id, $now, $message);")
                .With("$id", id).With("$now", now).With("$message", json).ExecuteNonQuery();
        }

        foreach (var (visibleAt, json) in checkpoint.Timers)
        {
            InsertInbox(db, id, visibleAt, json);
        }

        var orchestrationWork = checkpoint.Timers.Count > 0;
        foreach (var (message, json) in checkpoint.OrchestratorMessages)
        {
            if (Deliver(db, message, json, now))
            {
                orchestrationWork = true;
            }
        }

        if (checkpoint.Update is { Terminal: true })
        {
            // Nothing more will run in this execution: what arrived meanwhile is dropped, as other providers do.
            db.Command("DELETE FROM dt_inbox WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
        }

        orchestrationWork |= db.Command(RecomputeNextVisible).With("$id", id).ExecuteScalar() is long;
        return new WriteEffects(orchestrationWork, checkpoint.Activities.Count > 0, checkpoint.Update is { Terminal: true } ? [id] : []);
    }

    /// <summary>The episode's new history events, up to <see cref="HistoryRowsPerInsert"/> rows per statement.</summary>
    private static void InsertHistory(SqliteDb db, string instanceId, string executionId, int firstSequence, List<string> events)
    {
        for (var start = 0; start < events.Count; start += HistoryRowsPerInsert)
        {
            var rows = Math.Min(HistoryRowsPerInsert, events.Count - start);
            var command = db.Command(HistoryInserts[rows]).With("$id", instanceId).With("$execution", executionId).With("$seq", firstSequence + start);
            for (var i = 0; i < rows; i++)
            {
                command.With(EventParameters[i], events[start + i]);
            }

            command.ExecuteNonQuery();
        }
    }

    private static void InsertInbox(SqliteDb db, string instanceId, long visibleAt, string json) =>
        db.Command("INSERT INTO dt_inbox (instance_id, visible_at, message) VALUES ($id, $visible, $message);")
            .With("$id", instanceId).With("$visible", visibleAt).With("$message", json).ExecuteNonQuery();

    /// <summary>
    /// Puts a message in its instance's inbox. A start message creates (or replaces) the instance; any other
    /// message to an instance that does not exist, has finished, or runs another execution than the message names
    /// is dropped.
    /// </summary>
    private static bool Deliver(SqliteDb db, TaskMessage message, string json, long now)
    {
        var instanceId = message.OrchestrationInstance.InstanceId;
        if (message.Event is ExecutionStartedEvent started)
        {
            CreateInstance(db, message, started, json, dedupeStatuses: null, now);
            return true;
        }

        // One statement: the message goes in only if its instance exists, has not finished and runs the execution it names.
        var visibleAt = message.Event is TimerFiredEvent timer ? Ticks.Of(timer.FireAt) : now;
        var targetExecution = message.OrchestrationInstance.ExecutionId;
        var delivered = db.Command(DeliverToLiveInstance)
            .With("$id", instanceId).With("$visible", visibleAt).With("$message", json)
            .With("$execution", string.IsNullOrEmpty(targetExecution) ? null : targetExecution).ExecuteNonQuery();
        if (delivered == 0)
        {
            return false;
        }

        db.Command(RecomputeNextVisible).With("$id", instanceId).ExecuteScalar();
        return true;
    }

    private static void CreateInstance(SqliteDb db, TaskMessage message, ExecutionStartedEvent started, string json, OrchestrationStatus[]? dedupeStatuses, long now)
    {
        var instanceId = message.OrchestrationInstance.InstanceId;
        var existing = db.Command("SELECT status FROM dt_instances WHERE instance_id = $id;").With("$id", instanceId).ExecuteScalar();
        if (existing is long status)
        {
            if (dedupeStatuses is not null && dedupeStatuses.Contains((OrchestrationStatus)status))
            {
                throw new OrchestrationAlreadyExistsException(
                    $"An orchestration with instance id '{instanceId}' already exists and is {(OrchestrationStatus)status}.");
            }

            db.Command("DELETE FROM dt_history WHERE instance_id = $id;").With("$id", instanceId).ExecuteNonQuery();
            db.Command("DELETE FROM dt_inbox WHERE instance_id = $id;").With("$id", instanceId).ExecuteNonQuery();
            db.Command("DELETE FROM dt_activities WHERE instance_id = $id;").With("$id", instanceId).ExecuteNonQuery();
        }

        var executionId = message.OrchestrationInstance.ExecutionId ?? started.OrchestrationInstance?.ExecutionId ?? Guid.NewGuid().ToString("N");
        long? scheduledStart = started.ScheduledStartTime is { } start ? Ticks.Of(start) : null;
        var visibleAt = scheduledStart is long at && at > now ? at : now;
        db.Command("""
            INSERT OR REPLACE INTO dt_instances (instance_id, execution_id, name, version, status, created_at, last_updated_at,
                completed_at, scheduled_start_at, input, output, custom_status, failure_details, tags, parent_instance_id,
                next_visible_at, lock_owner, lock_expiry)
            VALUES ($id, $execution, $name, $version, 6, $now, $now, NULL, $scheduled, $input, NULL, NULL, NULL, $tags, $parent,
                $visible, NULL, NULL);
            """)
            .With("$id", instanceId).With("$execution", executionId).With("$name", started.Name).With("$version", started.Version)
            .With("$now", now).With("$scheduled", scheduledStart).With("$input", started.Input)
            .With("$tags", started.Tags is { Count: > 0 } tags ? JsonSerializer.Serialize(tags) : null)
            .With("$parent", started.ParentInstance?.OrchestrationInstance?.InstanceId)
            .With("$visible", visibleAt).ExecuteNonQuery();
        InsertInbox(db, instanceId, visibleAt, json);
    }
}
