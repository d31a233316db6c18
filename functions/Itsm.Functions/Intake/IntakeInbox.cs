using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage.Sqlite;

namespace Itsm.Functions.Intake;

/// <summary>Every intake message received, once per (channel, external id): the idempotency record of intake.</summary>
public sealed class IntakeInbox
{
    public static readonly TimeSpan Retention = TimeSpan.FromDays(30);

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS intake_inbox (
            channel TEXT NOT NULL,
            external_id TEXT NOT NULL,
            message TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            stored_at INTEGER NOT NULL,
            PRIMARY KEY (channel, external_id));
        CREATE INDEX IF NOT EXISTS ix_intake_inbox_stored_at ON intake_inbox(stored_at);
        """;

    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;

    public IntakeInbox(SqliteDatabase database, TimeProvider time)
    {
        _database = database;
        _time = time;
        _database.EnsureSchema(Schema);
    }

    /// <summary>True when the message is new; false when (channel, external id) was stored before.</summary>
    public async Task<bool> StoreAsync(IntakeMessage message, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT OR IGNORE INTO intake_inbox(channel, external_id, message, received_at, stored_at)
            VALUES ($channel, $id, $message, $received, $stored)
            """;
        command.Parameters.AddWithValue("$channel", message.Channel);
        command.Parameters.AddWithValue("$id", message.ExternalId);
        command.Parameters.AddWithValue("$message", JsonSerializer.Serialize(message, HttpResults.Json));
        command.Parameters.AddWithValue("$received", message.ReceivedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$stored", _time.GetUtcNow().ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task<int> PurgeOlderThanAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM intake_inbox WHERE stored_at < $cutoff";
        command.Parameters.AddWithValue("$cutoff", (_time.GetUtcNow() - age).ToUnixTimeMilliseconds());
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<(string Channel, string ExternalId)>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT channel, external_id FROM intake_inbox ORDER BY stored_at, channel, external_id";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<(string, string)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add((reader.GetString(0), reader.GetString(1)));
        }

        return result;
    }
}
