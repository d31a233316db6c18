using Microsoft.Data.Sqlite;

namespace Itsm.Functions.Storage.Sqlite;

/// <summary>
/// Keeps the write-ahead log bounded, under load too. SQLite's automatic checkpoint copies pages back but only rewinds
/// the log when no reader is using it, which never happens while requests keep coming, so under sustained writes the
/// log grew without bound (750 MiB in 20 s of ticket creates, docs/benchmarks.md). Every <see cref="Interval"/>, when
/// the log is larger than <see cref="ThresholdBytes"/>: a PASSIVE checkpoint first, alongside the load (it copies most
/// pages back), then a TRUNCATE checkpoint while the app's new connections wait
/// (<see cref="SqliteDatabase.HoldNewConnectionsAsync{T}"/>): the transactions already running finish within
/// milliseconds, no new one starts before it, so it gets the locks it needs, copies the rest and empties the log.
/// Connections wait for at most <see cref="BusyTimeout"/> (5 s: on a machine starved of CPU a running transaction can take
/// seconds); if a long reader keeps the log busy that long, the
/// checkpoint gives up and tries again next time. A checkpoint only copies committed pages into the database file, so
/// no acknowledged write is lost.
/// </summary>
public sealed class SqliteWalCheckpointer(SqliteDatabase database, TimeProvider time, ILogger<SqliteWalCheckpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public const long ThresholdBytes = 64L << 20;

    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(5);

    public string WalPath => database.Path + "-wal";

    /// <summary>One pass: checkpoints and truncates the log if it is above <paramref name="thresholdBytes"/>; true when it did.</summary>
    public async Task<bool> CheckpointIfLargeAsync(long thresholdBytes, CancellationToken cancellationToken)
    {
        var wal = new FileInfo(WalPath);
        if (!wal.Exists || wal.Length <= thresholdBytes)
        {
            return false;
        }

        var size = wal.Length;
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            SqliteDatabase.Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
        }

        var busy = await database.HoldNewConnectionsAsync(
            connection =>
            {
                SqliteDatabase.Execute(connection, $"PRAGMA busy_timeout={(int)BusyTimeout.TotalMilliseconds};");
                using var command = connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                using var reader = command.ExecuteReader();
                return reader.Read() && reader.GetInt32(0) != 0;
            },
            cancellationToken);
        if (busy)
        {
            logger.LogInformation("WAL checkpoint of {Path} deferred: a reader or writer kept it busy ({Bytes} bytes).", database.Path, size);
        }
        else
        {
            logger.LogInformation("WAL of {Path} checkpointed and truncated from {Bytes} bytes.", database.Path, size);
        }

        return !busy;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, time, stoppingToken);
                await CheckpointIfLargeAsync(ThresholdBytes, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (SqliteException ex)
            {
                logger.LogWarning(ex, "WAL checkpoint of {Path} failed; trying again in {Interval}.", database.Path, Interval);
            }
        }
    }
}
