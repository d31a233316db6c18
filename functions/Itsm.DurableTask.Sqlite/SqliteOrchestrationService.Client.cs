using System.Globalization;
using System.Text;
using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.Data.Sqlite;

namespace Itsm.DurableTask.Sqlite;

public sealed partial class SqliteOrchestrationService
{
    private const string StateColumns = """
        instance_id, execution_id, name, version, status, created_at, last_updated_at, completed_at, scheduled_start_at,
        input, output, custom_status, failure_details, tags
        """;

    private static readonly OrchestrationStatus[] TerminalStatuses =
        [OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Terminated, OrchestrationStatus.Canceled];

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses: null);

    public async Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[]? dedupeStatuses)
    {
        ArgumentNullException.ThrowIfNull(creationMessage);
        if (creationMessage.Event is not ExecutionStartedEvent started)
        {
            throw new ArgumentException("A creation message carries an ExecutionStartedEvent.", nameof(creationMessage));
        }

        var json = DurableJson.Serialize(creationMessage);
        var now = Now;
        await writes.WriteAsync(db =>
        {
            CreateInstance(db, creationMessage, started, json, dedupeStatuses, now);
            return 0;
        });
        orchestrationWork.Pulse();
        NotifyInstance(creationMessage.OrchestrationInstance.InstanceId);
    }

    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => SendTaskOrchestrationMessageBatchAsync(message);

    public async Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var serialized = messages.Select(m => (Message: m, Json: DurableJson.Serialize(m))).ToList();
        var now = Now;
        var delivered = await writes.WriteAsync(db => serialized.Count(m => Deliver(db, m.Message, m.Json, now)));
        if (delivered > 0)
        {
            orchestrationWork.Pulse();
        }
    }

    public async Task<OrchestrationState?> WaitForOrchestrationAsync(string instanceId, string? executionId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var changed = instanceChanged.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var state = ReadState(instanceId);
            if (state is not null && Ticks.IsTerminal(state.OrchestrationStatus))
            {
                return state;
            }

            var remaining = timeout == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : timeout - TimeProvider.System.GetElapsedTime(started);
            if (remaining != Timeout.InfiniteTimeSpan && remaining <= TimeSpan.Zero)
            {
                return null;
            }

            try
            {
                await changed.Task.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string? reason) =>
        SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new ExecutionTerminatedEvent(-1, reason),
        });

    public Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions)
    {
        IList<OrchestrationState> states = ReadState(instanceId) is { } state ? [state] : [];
        return Task.FromResult(states);
    }

    public Task<OrchestrationState?> GetOrchestrationStateAsync(string instanceId, string? executionId)
    {
        var state = ReadState(instanceId);
        return Task.FromResult(executionId is null || state?.OrchestrationInstance.ExecutionId == executionId ? state : null);
    }

    /// <summary>The current execution's history as a JSON array of DurableTask.Core history events (with type names).</summary>
    public Task<string> GetOrchestrationHistoryAsync(string instanceId, string? executionId)
    {
        var json = Read(db =>
        {
            var builder = new StringBuilder("[");
            using var reader = db.Command("SELECT event, execution_id FROM dt_history WHERE instance_id = $id ORDER BY seq;").With("$id", instanceId).ExecuteReader();
            var first = true;
            while (reader.Read())
            {
                if (executionId is not null && reader.GetString(1) != executionId)
                {
                    continue;
                }

                builder.Append(first ? "" : ",").Append(reader.GetString(0));
                first = false;
            }

            return builder.Append(']').ToString();
        });
        return Task.FromResult(json);
    }

    /// <summary>The current execution's history events, oldest first.</summary>
    public Task<IReadOnlyList<HistoryEvent>> GetHistoryEventsAsync(string instanceId)
    {
        IReadOnlyList<HistoryEvent> events = Read(db =>
        {
            var list = new List<HistoryEvent>();
            using var reader = db.Command("SELECT event FROM dt_history WHERE instance_id = $id ORDER BY seq;").With("$id", instanceId).ExecuteReader();
            while (reader.Read())
            {
                list.Add(DurableJson.Deserialize<HistoryEvent>(reader.GetString(0)));
            }

            return list;
        });
        return Task.FromResult(events);
    }

    public async Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType)
    {
        var column = timeRangeFilterType switch
        {
            OrchestrationStateTimeRangeFilterType.OrchestrationCreatedTimeFilter => "created_at",
            OrchestrationStateTimeRangeFilterType.OrchestrationCompletedTimeFilter => "completed_at",
            _ => "last_updated_at",
        };
        var threshold = Ticks.Of(thresholdDateTimeUtc);
        await writes.WriteAsync(db => PurgeWhere(db, $"{column} < $threshold", command => command.With("$threshold", threshold), TerminalStatuses));
    }

    public Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = query.PageSize > 0 ? query.PageSize : 100;
        var sql = new StringBuilder($"SELECT {StateColumns} FROM dt_instances WHERE 1 = 1");
        var parameters = new List<(string Name, object Value)>();
        if (query.RuntimeStatus is { Count: > 0 } statuses)
        {
            sql.Append(" AND status IN (").AppendJoin(", ", statuses.Select(s => ((int)s).ToString(CultureInfo.InvariantCulture))).Append(')');
        }

        if (query.CreatedTimeFrom is { } from)
        {
            sql.Append(" AND created_at >= $from");
            parameters.Add(("$from", Ticks.Of(from)));
        }

        if (query.CreatedTimeTo is { } to)
        {
            sql.Append(" AND created_at <= $to");
            parameters.Add(("$to", Ticks.Of(to)));
        }

        if (!string.IsNullOrEmpty(query.InstanceIdPrefix))
        {
            sql.Append(" AND substr(instance_id, 1, $prefixLength) = $prefix");
            parameters.Add(("$prefix", query.InstanceIdPrefix));
            parameters.Add(("$prefixLength", query.InstanceIdPrefix.Length));
        }

        if (!string.IsNullOrEmpty(query.ContinuationToken))
        {
            sql.Append(" AND instance_id > $after");
            parameters.Add(("$after", query.ContinuationToken));
        }

        sql.Append(" ORDER BY instance_id LIMIT $limit;");
        parameters.Add(("$limit", pageSize + 1));
        var states = Read(db =>
        {
            using var command = db.Connection.CreateCommand();
            command.CommandText = sql.ToString();
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            using var reader = command.ExecuteReader();
            var list = new List<OrchestrationState>();
            while (reader.Read())
            {
                list.Add(ToState(reader, query.FetchInputsAndOutputs));
            }

            return list;
        });
        string? continuation = null;
        if (states.Count > pageSize)
        {
            states.RemoveAt(states.Count - 1);
            continuation = states[^1].OrchestrationInstance.InstanceId;
        }

        return Task.FromResult(new OrchestrationQueryResult(states, continuation));
    }

    public async Task<PurgeResult> PurgeInstanceStateAsync(string instanceId)
    {
        var purged = await writes.WriteAsync(db => PurgeWhere(db, "instance_id = $id", command => command.With("$id", instanceId), TerminalStatuses));
        return new PurgeResult(purged);
    }

    public async Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter)
    {
        ArgumentNullException.ThrowIfNull(purgeInstanceFilter);
        var statuses = purgeInstanceFilter.RuntimeStatus?.Where(Ticks.IsTerminal).ToArray() is { Length: > 0 } requested ? requested : TerminalStatuses;
        var from = Ticks.Of(purgeInstanceFilter.CreatedTimeFrom);
        long? to = purgeInstanceFilter.CreatedTimeTo is { } createdTo ? Ticks.Of(createdTo) : null;
        var purged = await writes.WriteAsync(db => PurgeWhere(
            db,
            "created_at >= $from AND ($to IS NULL OR created_at <= $to)",
            command => command.With("$from", from).With("$to", to),
            statuses));
        return new PurgeResult(purged, isComplete: true);
    }

    /// <summary>Deletes the finished instances matching <paramref name="condition"/> with their history, inbox and activities.</summary>
    private static int PurgeWhere(SqliteDb db, string condition, Func<SqliteCommand, SqliteCommand> bind, OrchestrationStatus[] statuses)
    {
        var statusList = string.Join(", ", statuses.Select(s => ((int)s).ToString(CultureInfo.InvariantCulture)));
        var ids = new List<string>();
        using (var command = db.Connection.CreateCommand())
        {
            command.CommandText = $"SELECT instance_id FROM dt_instances WHERE status IN ({statusList}) AND lock_owner IS NULL AND {condition};";
            bind(command);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
        }

        foreach (var id in ids)
        {
            db.Command("DELETE FROM dt_history WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
            db.Command("DELETE FROM dt_inbox WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
            db.Command("DELETE FROM dt_activities WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
            db.Command("DELETE FROM dt_instances WHERE instance_id = $id;").With("$id", id).ExecuteNonQuery();
        }

        return ids.Count;
    }

    private OrchestrationState? ReadState(string instanceId) => Read(db =>
    {
        using var reader = db.Command($"SELECT {StateColumns} FROM dt_instances WHERE instance_id = $id;").With("$id", instanceId).ExecuteReader();
        return reader.Read() ? ToState(reader, includeData: true) : null;
    });

    private static OrchestrationState ToState(SqliteDataReader reader, bool includeData) => new()
    {
        OrchestrationInstance = new OrchestrationInstance { InstanceId = reader.GetString(0), ExecutionId = reader.GetString(1) },
        Name = reader.GetString(2),
        Version = reader.GetNullableString(3),
        OrchestrationStatus = (OrchestrationStatus)reader.GetInt32(4),
        CreatedTime = Ticks.ToUtc(reader.GetInt64(5)),
        LastUpdatedTime = Ticks.ToUtc(reader.GetInt64(6)),
        CompletedTime = reader.GetNullableInt64(7) is long completed ? Ticks.ToUtc(completed) : default,
        ScheduledStartTime = reader.GetNullableInt64(8) is long scheduled ? Ticks.ToUtc(scheduled) : null,
        Input = includeData ? reader.GetNullableString(9) : null,
        Output = includeData ? reader.GetNullableString(10) : null,
        Status = includeData ? reader.GetNullableString(11) : null,
        FailureDetails = reader.GetNullableString(12) is { } failure ? DurableJson.Deserialize<FailureDetails>(failure) : null,
        Tags = reader.GetNullableString(13) is { } tags ? JsonSerializer.Deserialize<Dictionary<string, string>>(tags) : null,
    };
}
