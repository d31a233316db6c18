using System.Text.Json;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tickets;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>Fault tests: the standalone app killed with SIGKILL in the middle of queue processing.</summary>
public class ProcessKillTests
{
    [Fact]
    public async Task Killing_the_process_during_queue_processing_loses_no_message_and_stores_none_twice()
    {
        const int messageCount = 3000;
        var directory = TempDirectory.Create();
        var databasePath = Path.Combine(directory, "itsm.db");
        var database = new SqliteDatabase(databasePath);
        var queue = new EmbeddedQueue(database, TimeProvider.System, new QueueOptions());
        for (var i = 0; i < messageCount; i++)
        {
            var body = JsonSerializer.Serialize(new { channel = "email", externalId = $"m-{i}", sender = "ana@contoso.com", subject = $"Request {i}", receivedAt = "2026-03-02T07:59:00Z", source = "desk@contoso.com" });
            await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(body, $"broker-{i}"));
        }

        var environment = new Dictionary<string, string>
        {
            ["Itsm__Sqlite__Path"] = databasePath,
            ["Itsm__Standalone__Urls"] = "http://127.0.0.1:0",
            ["Itsm__Queues__LockDuration"] = "00:00:02",
            ["Itsm__Queues__MaxConcurrentCalls"] = "8",
            ["Logging__LogLevel__Default"] = "Information",
            ["Itsm__Intake__Sources__0__Name"] = "desk@contoso.com",
            ["Itsm__Intake__Sources__0__TenantId"] = "contoso",
        };

        int lockedAtKill;
        await using (var first = AppProcess.Start(environment))
        {
            await first.WaitForLinesAsync("Stored intake message", 1, TimeSpan.FromSeconds(60));
            await first.KillAsync();
            lockedAtKill = CountLocked(database);
        }

        var remainingAfterKill = await queue.CountActiveAsync(IntakeFunctions.QueueName);
        Assert.True(remainingAfterKill > 0, "the kill came too late to interrupt processing");

        await using (var second = AppProcess.Start(environment))
        {
            // Every message is eventually completed: those locked by the dead process come back when their lock
            // expires. Another process owns the work, so this re-checks on each output line or every 250 ms. The
            // test asserts that the queue drains, not how fast: it fails only when no message completes for 60 s
            // (a loaded CI machine slows the whole drain, a stuck queue stops it).
            var active = await queue.CountActiveAsync(IntakeFunctions.QueueName);
            var stalledSince = DateTime.UtcNow;
            while (active > 0)
            {
                Assert.True(DateTime.UtcNow - stalledSince < TimeSpan.FromSeconds(60), $"the restarted app stopped draining the queue with {active} messages left");
                await Task.WhenAny(second.Output.Reader.ReadAsync().AsTask(), Task.Delay(250));
                var now = await queue.CountActiveAsync(IntakeFunctions.QueueName);
                if (now < active)
                {
                    stalledSince = DateTime.UtcNow;
                }

                active = now;
            }
        }

        var inbox = new IntakeInbox(database, TimeProvider.System);
        var stored = await inbox.ListAsync(CancellationToken.None);
        Assert.Equal(messageCount, stored.Count);
        Assert.Equal(messageCount, stored.Select(s => s.ExternalId).Distinct().Count());
        Assert.Empty(await queue.GetDeadLettersAsync(IntakeFunctions.QueueName));

        // Each message raised exactly one ticket, killed or not.
        var store = new SqliteDocumentStore(database);
        var tickets = 0;
        string? continuation = null;
        do
        {
            var page = await store.QueryAsync<JsonElement>(TicketStore.Tickets, new DocumentQuery("contoso", [new QueryFilter("docType", FilterOperator.Equals, Ticket.DocumentType)], null, 1000, continuation), CancellationToken.None);
            tickets += page.Items.Count;
            continuation = page.ContinuationToken;
        }
        while (continuation is not null);
        Assert.Equal(messageCount, tickets);
        Assert.True(lockedAtKill > 0, "no message was in flight when the process was killed");
    }

    private static int CountLocked(SqliteDatabase database)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM queue_messages WHERE lock_token IS NOT NULL";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
