using System.Text.Json;
using Itsm.Functions.Storage.Sqlite;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Carries the orchestrations of the engine this app had before version 0.2 (its <c>durable_*</c> tables in the app's
/// database) over to DurableTask.Core on the first start: every instance that was running, pending or suspended
/// (SLA clocks, approvals, CMDB imports, policy rollouts) is started again with the same instance id and input, then
/// the old tables are dropped. The orchestrations read their state from the tickets and approval records, so they
/// resume where the old ones stood. Starting is idempotent on the instance id, and the tables are dropped only after
/// every start, so a crash part-way through is finished by the next start.
/// </summary>
public sealed class LegacyDurableUpgrade(SqliteDatabase database, DurableTaskClient client, FunctionIndex index, ILogger<LegacyDurableUpgrade> logger)
{
    private static readonly string[] LegacyTables = ["durable_activities", "durable_messages", "durable_history", "durable_instances"];

    /// <summary>Running (0), pending (6) and suspended (7) in the old engine's numbering (the wire <c>OrchestrationStatus</c>).</summary>
    private const string OpenStatuses = "0, 6, 7";

    private static readonly JsonSerializerOptions LegacyJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Returns how many orchestrations were carried over (0 when there is nothing to upgrade).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        List<(string InstanceId, string Name, string? Input)> open;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var exists = connection.CreateCommand();
            exists.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'durable_instances'";
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return 0;
            }

            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT instance_id, name, input FROM durable_instances WHERE runtime_status IN ({OpenStatuses}) AND parent_instance_id IS NULL ORDER BY created_at";
            open = [];
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                open.Add((reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
            }
        }

        var carried = 0;
        foreach (var (instanceId, name, input) in open)
        {
            if (index.Find(name) is not { Kind: TriggerKind.Orchestration } orchestrator)
            {
                logger.LogWarning("Orchestration {InstanceId} of the previous engine runs '{Name}', which this version has not: it is not carried over.", instanceId, name);
                continue;
            }

            var inputType = FunctionInvoker.OrchestrationInputParameter(orchestrator)?.ParameterType ?? typeof(JsonElement);
            var typed = input is null ? null : JsonSerializer.Deserialize(input, inputType, LegacyJson);
            if (await client.StartOnceAsync(orchestrator.Name, instanceId, typed!, cancellationToken))
            {
                carried++;
            }
        }

        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var table in LegacyTables)
            {
                await using var drop = connection.CreateCommand();
                drop.Transaction = (Microsoft.Data.Sqlite.SqliteTransaction)transaction;
                drop.CommandText = $"DROP TABLE IF EXISTS {table}";
                await drop.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        logger.LogInformation("Upgrade: {Carried} of {Open} open orchestrations of the previous engine started on DurableTask.Core; its tables are dropped.", carried, open.Count);
        return carried;
    }
}
