using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Functions.Tests.Storage;

/// <summary>The write-ahead log is truncated once it grows past the threshold, and nothing written is lost.</summary>
public class SqliteWalCheckpointerTests
{
    [Fact]
    public async Task A_large_log_is_checkpointed_and_truncated_and_every_row_survives()
    {
        var database = new SqliteDatabase(Path.Combine(TempDirectory.Create(), "itsm.db"));
        database.EnsureSchema("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL);");
        using (var connection = database.Open())
        {
            for (var i = 0; i < 48; i++)
            {
                using var insert = connection.CreateCommand();
                insert.CommandText = "INSERT INTO filler (data) VALUES (zeroblob(65536));";
                insert.ExecuteNonQuery();
            }
        }

        var checkpointer = new SqliteWalCheckpointer(database, TimeProvider.System, NullLogger<SqliteWalCheckpointer>.Instance);
        var before = new FileInfo(checkpointer.WalPath).Length;
        Assert.True(before > 2L << 20, $"the log is only {before} bytes");

        Assert.False(await checkpointer.CheckpointIfLargeAsync(before + 1, CancellationToken.None));
        Assert.Equal(before, new FileInfo(checkpointer.WalPath).Length);

        Assert.True(await checkpointer.CheckpointIfLargeAsync(1L << 20, CancellationToken.None));
        Assert.Equal(0, new FileInfo(checkpointer.WalPath).Length);
        using var reader = database.Open();
        using var count = reader.CreateCommand();
        count.CommandText = "SELECT count(*) FROM filler;";
        Assert.Equal(48L, (long)count.ExecuteScalar()!);
    }

    [Fact]
    public async Task Under_constant_readers_and_writers_the_log_is_still_truncated_and_every_acknowledged_row_is_kept()
    {
        var database = new SqliteDatabase(Path.Combine(TempDirectory.Create(), "itsm.db"));
        database.EnsureSchema("CREATE TABLE IF NOT EXISTS filler (id INTEGER PRIMARY KEY, data BLOB NOT NULL);");
        var checkpointer = new SqliteWalCheckpointer(database, TimeProvider.System, NullLogger<SqliteWalCheckpointer>.Instance);
        using var stop = new CancellationTokenSource();
        var acknowledged = 0;

        // Four workers, each always inside a read or a write: the log is never idle, as under request load.
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await using var connection = await database.OpenAsync();
                if (w % 2 == 0)
                {
                    await using var transaction = connection.BeginTransaction(deferred: false);
                    await using var insert = connection.CreateCommand();
                    insert.Transaction = transaction;
                    insert.CommandText = "INSERT INTO filler (data) VALUES (zeroblob(16384));";
                    await insert.ExecuteNonQueryAsync();
                    await transaction.CommitAsync();
                    Interlocked.Increment(ref acknowledged);
                }
                else
                {
                    await using var read = connection.CreateCommand();
                    read.CommandText = "SELECT count(*), sum(length(data)) FROM filler;";
                    await read.ExecuteScalarAsync();
                }
            }
        })).ToArray();

        var truncated = 0;
        var attempts = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (truncated < 3 && started.Elapsed < TimeSpan.FromSeconds(60))
        {
            var wal = new FileInfo(checkpointer.WalPath);
            if (wal.Exists && wal.Length > 4L << 20)
            {
                attempts++;
                truncated += await checkpointer.CheckpointIfLargeAsync(4L << 20, CancellationToken.None) ? 1 : 0;
            }

            await Task.Yield();
        }

        await stop.CancelAsync();
        await Task.WhenAll(workers);
        Assert.True(truncated == 3, $"{truncated} of {attempts} checkpoints truncated the log in {started.Elapsed}");
        using var reader = database.Open();
        using var count = reader.CreateCommand();
        count.CommandText = "SELECT count(*) FROM filler;";
        Assert.Equal((long)acknowledged, (long)count.ExecuteScalar()!);
    }
}
