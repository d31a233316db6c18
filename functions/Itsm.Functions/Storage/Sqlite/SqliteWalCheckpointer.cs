using Microsoft.Data.Sqlite;

namespace Itsm.Functions.Storage.Sqlite;

/// <summary>
/// Gives back the write-ahead log's disk space once a burst of writes is over. SQLite's automatic checkpoint copies
/// pages back but only rewinds the log when no reader is using it, which never happens while requests keep coming,
/// and it never shrinks the file. Every <see cref="Interval"/>, when the log is larger than
/// <see cref="ThresholdBytes"/>, this runs a TRUNCATE checkpoint with a short busy timeout; under sustained
/// concurrent writes it usually cannot get the lock and tries again next time, so the log is truncated within one
/// interval after the load drops (measured in docs/benchmarks.md), not during it.
/// </summary>
public sealed class SqliteWalCheckpointer(SqliteDatabase database, TimeProvider time, ILogger<SqliteWalCheckpointer> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    public const long ThresholdBytes = 64L << 20;

    private static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    public string WalPath => database.Path + "-wal";

    /// <summary>One pass: checkpoints and truncates the log if it is above <paramref name="thresholdBytes"/>; true when it did.</summary>
    public async Task<bool> CheckpointIfLargeAsync(long thresholdBytes, CancellationToken cancellationToken)
    {
        var wal = new FileInfo(WalPath);
        if (!wal.Exists || wal.Length <= thresholdBytes)
        {
            return false;
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        SqliteDatabase.Execute(connection, $"PRAGMA busy_timeout={(int)BusyTimeout.TotalMilliseconds};");
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var busy = await reader.ReadAsync(cancellationToken) && reader.GetInt32(0) != 0;
        if (busy)
        {
            logger.LogDebug("WAL checkpoint of {Path} deferred: readers or a writer kept it busy ({Bytes} bytes).", database.Path, wal.Length);
        }
        else
        {
            logger.LogInformation("WAL of {Path} checkpointed and truncated from {Bytes} bytes.", database.Path, wal.Length);
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
