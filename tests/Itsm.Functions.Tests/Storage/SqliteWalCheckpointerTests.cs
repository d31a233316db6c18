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
}
