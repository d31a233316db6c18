using Microsoft.Data.Sqlite;

namespace Itsm.DurableTask.Sqlite;

/// <summary>One open connection with its prepared commands, reused for the connection's lifetime.</summary>
internal sealed class SqliteDb : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);

    public SqliteDb(string path, bool writer)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = writer ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            // The service owns its connections for its whole life; no pool, so disposing closes the file.
            Pooling = false,
            DefaultTimeout = 30,
        };
        Connection = new SqliteConnection(builder.ConnectionString);
        Connection.Open();
        Execute("PRAGMA busy_timeout = 10000;");
        if (writer)
        {
            Execute("PRAGMA journal_mode = WAL;");
        }

        Execute("PRAGMA synchronous = FULL;");
        Execute("PRAGMA temp_store = MEMORY;");
        Execute("PRAGMA cache_size = -16000;");
    }

    public SqliteConnection Connection { get; }

    /// <summary>Statements run on this connection so far (each <see cref="Command"/> call is one).</summary>
    public long Statements { get; private set; }

    /// <summary>A cached command for <paramref name="sql"/> with its parameters cleared.</summary>
    public SqliteCommand Command(string sql)
    {
        if (!commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            commands.Add(sql, command);
        }

        command.Parameters.Clear();
        Statements++;
        return command;
    }

    public int Execute(string sql) => Command(sql).ExecuteNonQuery();

    public void Dispose()
    {
        foreach (var command in commands.Values)
        {
            command.Dispose();
        }

        commands.Clear();
        Connection.Dispose();
    }
}

internal static class SqliteCommandExtensions
{
    public static SqliteCommand With(this SqliteCommand command, string name, object? value)
    {
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    public static string? GetNullableString(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetNullableInt64(this SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}
