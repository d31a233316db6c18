using System.Globalization;
using DurableTask.Core;
using Itsm.DurableTask.Sqlite;
using Itsm.DurableTask.Sqlite.KillHost;
using Itsm.DurableTask.Sqlite.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

// A child process for the kill -9 tests. It speaks over stdout, one line per fact, and runs until it is killed
// or (in "resume" mode) until every expected instance has completed.
//   chains  --db D --results R --count N            start N chain orchestrations, then report "progress K"
//   slow    --db D --results R [--block]            one orchestration whose activity reports "activity-running" (and hangs with --block)
//   timers  --db D --results R --count N --lead-ms L --spread-ms S   N timers due over S ms from now + L ms; "timers-waiting" once all wait
//   resume  --db D --results R --count N --prefix P  run until the N instances P0000.. are complete: "all-completed"
var mode = args[0];
string Option(string name) => args[Array.IndexOf(args, name) + 1];
int IntOption(string name) => int.Parse(Option(name), CultureInfo.InvariantCulture);

var results = new ResultStore(Option("--results"));
KillActivities.Results = results;
KillActivities.Block = args.Contains("--block");
await using var service = new SqliteOrchestrationService(new SqliteOrchestrationServiceSettings(Option("--db")));
await using var host = await WorkerHost.StartAsync(service, KillActivities.Orchestrators, KillActivities.Activities);
var client = host.Client;
if (mode == "resume")
{
    // One timer and one activity through the whole path first, so the JIT and the serializers are warm before the
    // due timers arrive (without it the first ~100 timers after a restart ran up to ~250 ms late on a loaded machine).
    var warmUp = await client.ScheduleNewOrchestrationInstanceAsync(
        nameof(KillAlarmOrchestrator), DateTime.UtcNow, new StartOrchestrationOptions($"warm-up-{Guid.NewGuid():N}"));
    await client.WaitForInstanceCompletionAsync(warmUp);
    await client.PurgeInstanceAsync(warmUp);
}

Console.WriteLine($"ready {DateTime.UtcNow.Ticks}");

switch (mode)
{
    case "chains":
    {
        var count = IntOption("--count");
        for (var i = 0; i < count; i++)
        {
            await client.ScheduleNewOrchestrationInstanceAsync(nameof(KillChainOrchestrator), i, new StartOrchestrationOptions($"chain-{i:D4}"));
        }

        Console.WriteLine("started");
        var last = -1;
        while (true)
        {
            var done = results.CountRecords();
            if (done != last)
            {
                Console.WriteLine($"progress {done}");
                last = done;
            }

            await Task.Delay(5);
        }
    }

    case "slow":
        await client.ScheduleNewOrchestrationInstanceAsync(nameof(KillSlowOrchestrator), "INC-1", new StartOrchestrationOptions("slow-0000"));
        await Task.Delay(Timeout.Infinite);
        break;

    case "timers":
    {
        var count = IntOption("--count");
        var first = DateTime.UtcNow.AddMilliseconds(IntOption("--lead-ms"));
        var spread = IntOption("--spread-ms");
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => client.ScheduleNewOrchestrationInstanceAsync(
            nameof(KillAlarmOrchestrator), first.AddMilliseconds((double)spread * i / count), new StartOrchestrationOptions($"timer-{i:D4}"))));
        await service.WaitForIdleAsync(CancellationToken.None);
        var waiting = 0;
        for (var i = 0; i < count; i++)
        {
            waiting += (await client.GetInstanceAsync($"timer-{i:D4}"))?.RuntimeStatus == OrchestrationRuntimeStatus.Running ? 1 : 0;
        }

        Console.WriteLine($"timers-waiting {waiting} first-due {first.Ticks}");
        await Task.Delay(Timeout.Infinite);
        break;
    }

    case "resume":
    {
        var count = IntOption("--count");
        var prefix = Option("--prefix");
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => client.WaitForInstanceCompletionAsync($"{prefix}{i:D4}")));
        Console.WriteLine("all-completed");
        break;
    }

    default:
        Console.Error.WriteLine($"unknown mode {mode}");
        return 2;
}

return 0;
