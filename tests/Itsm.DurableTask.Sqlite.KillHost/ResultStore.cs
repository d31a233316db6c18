using Microsoft.Data.Sqlite;

namespace Itsm.DurableTask.Sqlite.KillHost;

/// <summary>The side database the activities write to, idempotently, so the tests can count what happened.</summary>
internal sealed class ResultStore
{
    private readonly string connectionString;
    private readonly Lock gate = new();

    public ResultStore(string path)
    {
        connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ConnectionString;
        Execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS records (instance_id TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS attempts (instance_id TEXT NOT NULL, attempt INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS fired (instance_id TEXT PRIMARY KEY, due INTEGER NOT NULL, fired INTEGER NOT NULL);
            """, _ => { });
    }

    public bool Record(string instanceId, long value) => Execute(
        "INSERT INTO records (instance_id, value) VALUES ($id, $value) ON CONFLICT (instance_id) DO NOTHING;",
        c => c.Parameters.AddWithValue("$id", instanceId),
        c => c.Parameters.AddWithValue("$value", value)) > 0;

    public long CountAttempt(string instanceId)
    {
        Execute("INSERT INTO attempts (instance_id, attempt) VALUES ($id, 1);", c => c.Parameters.AddWithValue("$id", instanceId));
        return Scalar("SELECT count(*) FROM attempts WHERE instance_id = $id;", c => c.Parameters.AddWithValue("$id", instanceId));
    }

    public bool RecordFired(string instanceId, DateTime due, DateTime fired) => Execute(
        "INSERT INTO fired (instance_id, due, fired) VALUES ($id, $due, $fired) ON CONFLICT (instance_id) DO NOTHING;",
        c => c.Parameters.AddWithValue("$id", instanceId),
        c => c.Parameters.AddWithValue("$due", due.Ticks),
        c => c.Parameters.AddWithValue("$fired", fired.Ticks)) > 0;

    public int CountRecords() => (int)Scalar("SELECT count(*) FROM records;");

    private long Scalar(string sql, params Action<SqliteCommand>[] bind)
    {
        lock (gate)
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var b in bind)
            {
                b(command);
            }

            return (long)command.ExecuteScalar()!;
        }
    }

    private int Execute(string sql, params Action<SqliteCommand>[] bind)
    {
        lock (gate)
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 5000; " + sql;
            foreach (var b in bind)
            {
                b(command);
            }

            return command.ExecuteNonQuery();
        }
    }
}
