using Microsoft.Data.Sqlite;

namespace Itsm.Functions.Storage.Sqlite;

/// <summary>
/// The embedded database file: WAL journal (readers never block the writer), a busy timeout so concurrent
/// writers queue instead of failing, and <c>synchronous=NORMAL</c>, which in WAL mode loses nothing a
/// committed transaction wrote when the process is killed.
/// </summary>
public sealed class SqliteDatabase
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);

        // Tickets, people and the dev signing key beside it: the folder and the files are the owner's only. SQLite
        // creates the WAL and shared-memory files with the database file's permissions.
        OwnerOnlyFiles.CreateFolder(System.IO.Path.GetDirectoryName(Path));
        OwnerOnlyFiles.CreateFile(Path);

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        using var connection = Open();
        Execute(connection, "PRAGMA journal_mode=WAL;");
    }

    public string Path { get; }

    /// <summary>Set while <see cref="HoldNewConnectionsAsync{T}"/> runs: new connections wait for it.</summary>
    private volatile TaskCompletionSource? _held;

    private readonly SemaphoreSlim _holding = new(1, 1);

    public SqliteConnection Open()
    {
        if (_held is { } held)
        {
            held.Task.Wait();
        }

        return OpenUnheld();
    }

    private SqliteConnection OpenUnheld()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return connection;
    }

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_held is { } held)
        {
            await held.Task.WaitAsync(cancellationToken);
        }

        return await OpenUnheldAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a connection of its own while every other caller of <see cref="Open"/> and
    /// <see cref="OpenAsync"/> in this process waits (connections already open carry on and finish). What a WAL
    /// checkpoint needs to restart the log under load: no new reader or writer gets in first. Keep the action short
    /// (a busy timeout of a second or two): the whole app's database access waits for it.
    /// </summary>
    public async Task<T> HoldNewConnectionsAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        await _holding.WaitAsync(cancellationToken);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using var connection = await OpenUnheldAsync(cancellationToken);
            _held = held;
            return action(connection);
        }
        finally
        {
            _held = null;
            held.SetResult();
            _holding.Release();
        }
    }

    private async Task<SqliteConnection> OpenUnheldAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        Execute(connection, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        return connection;
    }

    /// <summary>Applies a component's schema (idempotent DDL) once per process.</summary>
    public void EnsureSchema(string ddl)
    {
        using var connection = Open();
        Execute(connection, ddl);
    }

    public async Task<bool> IsReachableAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>
    /// Brings the connection's copy of the schema up to date before a statement that reaches a full-text (FTS5) table,
    /// directly or through a trigger. A pooled connection keeps the schema it last read. Under load, while other
    /// connections changed the schema (containers used for the first time, the planner's statistics), such statements
    /// failed now and then with "no such table" for a table that existed (a 500 on ticket create, an SLA activity
    /// failing). Reading the schema table first, inside the transaction, stopped that: it reloads a stale schema, and
    /// within the transaction the schema cannot change again (a writer holds the write lock, a reader its snapshot).
    /// </summary>
    public static void LoadCurrentSchema(SqliteConnection connection, SqliteTransaction transaction) =>
        Execute(connection, "SELECT 1 FROM sqlite_master LIMIT 1", transaction);

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
