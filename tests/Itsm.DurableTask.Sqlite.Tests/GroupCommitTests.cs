using Itsm.DurableTask.Sqlite.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.DurableTask.Sqlite.Tests;

/// <summary>
/// The one writer commits the writes queued meanwhile in one transaction, first without savepoints: a write that
/// throws must still be rolled back alone, and every other write of its group committed exactly once.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private readonly TempDirectory directory = new();

    public void Dispose() => directory.Dispose();

    private static CancellationToken Deadline() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    [Fact]
    public async Task A_write_that_throws_in_a_group_is_rolled_back_alone_and_the_others_commit_once()
    {
        var path = directory.File("group.db");
        using var db = new SqliteDb(path, writer: true);
        db.Execute("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT NOT NULL);");
        var queue = new SqliteWriteQueue(db, maxBatch: 128, NullLogger.Instance);
        await using (queue)
        {
            // Hold the writer inside a first transaction so the next writes queue up and form one group.
            using var writerBusy = new SemaphoreSlim(0);
            using var release = new SemaphoreSlim(0);
            var first = queue.WriteAsync(d =>
            {
                writerBusy.Release();
                release.Wait(Deadline());
                return d.Command("INSERT INTO t (id, note) VALUES (1, 'first');").ExecuteNonQuery();
            });
            await writerBusy.WaitAsync(Deadline());

            var before = queue.WriteAsync(d => d.Command("INSERT INTO t (id, note) VALUES (2, 'before');").ExecuteNonQuery());
            var failing = queue.WriteAsync<int>(d =>
            {
                d.Command("INSERT INTO t (id, note) VALUES (3, 'half a checkpoint');").ExecuteNonQuery();
                throw new InvalidOperationException("lock lost");
            });
            var after = queue.WriteAsync(d => d.Command("INSERT INTO t (id, note) VALUES (4, 'after');").ExecuteNonQuery());
            var statisticsBefore = queue.Statistics;
            release.Release();

            Assert.Equal(1, await first);
            Assert.Equal(1, await before);
            Assert.Equal(1, await after);
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
            Assert.Equal("lock lost", failure.Message);

            var statistics = queue.Statistics;
            // The first write's transaction, then one for the group of three.
            Assert.Equal(2, statistics.Transactions - statisticsBefore.Transactions);
            Assert.Equal(1, statistics.Reruns - statisticsBefore.Reruns);
        }

        // What a new connection sees on disk: every acknowledged write once, nothing of the failed one.
        using var reader = new SqliteDb(path, writer: false);
        var notes = new List<string>();
        using (var rows = reader.Command("SELECT note FROM t ORDER BY id;").ExecuteReader())
        {
            while (rows.Read())
            {
                notes.Add(rows.GetString(0));
            }
        }

        Assert.Equal(["first", "before", "after"], notes);
    }

    [Fact]
    public async Task A_lone_write_that_throws_leaves_nothing_and_the_next_group_commits()
    {
        var path = directory.File("lone.db");
        using var db = new SqliteDb(path, writer: true);
        db.Execute("CREATE TABLE t (id INTEGER PRIMARY KEY);");
        await using var queue = new SqliteWriteQueue(db, maxBatch: 128, NullLogger.Instance);

        await Assert.ThrowsAsync<InvalidOperationException>(() => queue.WriteAsync<int>(d =>
        {
            d.Command("INSERT INTO t (id) VALUES (1);").ExecuteNonQuery();
            throw new InvalidOperationException("refused");
        }));
        Assert.Equal(1, await queue.WriteAsync(d => d.Command("INSERT INTO t (id) VALUES (2);").ExecuteNonQuery()));

        var ids = await queue.WriteAsync(d => (long)d.Command("SELECT group_concat(id) IS '2' FROM t;").ExecuteScalar()!);
        Assert.Equal(1, ids);
        Assert.Equal(0, queue.Statistics.Reruns);
    }
}
