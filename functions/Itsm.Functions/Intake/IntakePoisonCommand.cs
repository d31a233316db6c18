using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Storage.Sqlite;

namespace Itsm.Functions.Intake;

/// <summary>
/// <c>Itsm.Functions intake poison list|resubmit [--db PATH]</c>: the standalone <c>intake-poison</c> queue, listed
/// (when each message got there and why) or moved back to <c>intake</c> as new messages, once what made them fail
/// is fixed (a source configured, a mailbox reachable). In Azure the same is done on the Storage queues (docs/intake.md).
/// Safe while the app runs: the app picks the moved messages up within its idle poll.
/// </summary>
public static class IntakePoisonCommand
{
    public const string Usage = "usage: Itsm.Functions intake poison list|resubmit [--db <database path>]";

    public static bool TryRun(string[] args, out int exitCode)
    {
        return TryRun(args, ItsmCommands.Configuration(), Console.Out, Console.Error, out exitCode);
    }

    public static bool TryRun(string[] args, IConfiguration configuration, TextWriter output, TextWriter error, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] != "intake")
        {
            return false;
        }

        var database = configuration.GetSection(ItsmOptions.SectionName).Get<ItsmOptions>()?.Sqlite.Path ?? new ItsmOptions().Sqlite.Path;
        var rest = args.Skip(1).ToList();
        if (rest.IndexOf("--db") is var at and >= 0)
        {
            if (at + 1 >= rest.Count)
            {
                error.WriteLine(Usage);
                exitCode = 2;
                return true;
            }

            database = rest[at + 1];
            rest.RemoveRange(at, 2);
        }

        if (rest is not ["poison", "list" or "resubmit"])
        {
            error.WriteLine(Usage);
            exitCode = 2;
            return true;
        }

        if (!File.Exists(database))
        {
            error.WriteLine($"No database at {Path.GetFullPath(database)} (Itsm:Sqlite:Path or --db).");
            exitCode = 2;
            return true;
        }

        var queue = new EmbeddedQueue(new SqliteDatabase(database), TimeProvider.System, new ItsmOptions().Queues.ToQueueOptions());
        if (rest[1] == "list")
        {
            var poisoned = queue.GetDeadLettersAsync(IntakeFunctions.QueueName).GetAwaiter().GetResult();
            foreach (var message in poisoned)
            {
                output.WriteLine($"{message.DeadLetteredAt:O}\t{message.MessageId}\t{(message.Description.Length > 0 ? message.Description : "can never succeed as it is (see the app's log)")}\t{message.Body}");
            }

            error.WriteLine($"{poisoned.Count} messages in {IntakeFunctions.PoisonQueueName}.");
        }
        else
        {
            var moved = queue.ResubmitPoisonAsync(IntakeFunctions.QueueName).GetAwaiter().GetResult();
            error.WriteLine($"Moved {moved} messages from {IntakeFunctions.PoisonQueueName} back to {IntakeFunctions.QueueName}.");
        }

        return true;
    }
}
