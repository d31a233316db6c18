using System.Diagnostics;
using System.Globalization;
using DurableTask.Core;
using Itsm.DurableTask.Sqlite;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Benchmarks;

/// <summary>
/// DurableTask.Core's <see cref="TaskHubWorker"/> running the same 3-activity chain N times, first on Microsoft's
/// in-memory provider, then on the SQLite provider (a temp file, the real clock), all started then all awaited.
/// <code>
/// durable-chain [--orchestrations 2000] [--providers in-memory,sqlite] [--rounds 1]
/// </code>
/// Each round measures every provider named, in that order; the process's CPU time during the measured batch and,
/// for SQLite, what the one writer did (transactions, writes, busy time, commit time) are printed with the rate.
/// </summary>
internal static class DurableChainCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(Measure.Machine());
        var count = Measure.IntOption(args, "--orchestrations", 2000);
        var rounds = Measure.IntOption(args, "--rounds", 1);
        var providers = (Measure.Option(args, "--providers") ?? "in-memory,sqlite").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var failed = false;
        for (var round = 1; round <= rounds; round++)
        {
            double inMemory = double.NaN, sqlite = double.NaN;
            foreach (var provider in providers)
            {
                switch (provider)
                {
                    case "in-memory":
                        inMemory = await MeasureAsync("in-memory", new InMemoryOrchestrationService(NullLoggerFactory.Instance), count);
                        failed |= double.IsNaN(inMemory);
                        break;
                    case "sqlite":
                        sqlite = await MeasureSqliteAsync(count);
                        failed |= double.IsNaN(sqlite);
                        break;
                    default:
                        Console.Error.WriteLine($"unknown provider '{provider}' (in-memory, sqlite)");
                        return 2;
                }
            }

            if (!double.IsNaN(inMemory) && !double.IsNaN(sqlite))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: ratio sqlite / in-memory: {sqlite / inMemory:F2}"));
            }
        }

        return failed ? 1 : 0;
    }

    private static async Task<double> MeasureSqliteAsync(int count)
    {
        var directory = Directory.CreateTempSubdirectory("itsm-bench-durable-").FullName;
        try
        {
            var path = Path.Combine(directory, "durable.db");
            await using var service = new SqliteOrchestrationService(new SqliteOrchestrationServiceSettings(path));
            var rate = await MeasureAsync("sqlite", service, count);
            Console.WriteLine($"after: {Measure.Memory()}, {Measure.FileSizes(path)}; load average {Measure.LoadAverage()}");
            return rate;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<double> MeasureAsync(string label, IOrchestrationService service, int count)
    {
        var shims = new DurableTaskShimFactory();
        using var worker = new TaskHubWorker(service, NullLoggerFactory.Instance) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        worker.AddTaskOrchestrations(new Creator<TaskOrchestration>(nameof(BenchChainOrchestrator), () => shims.CreateOrchestration(new TaskName(nameof(BenchChainOrchestrator)), new BenchChainOrchestrator(), parent: null)));
        worker.AddTaskActivities(new Creator<global::DurableTask.Core.TaskActivity>(nameof(BenchStepActivity), () => shims.CreateActivity(new TaskName(nameof(BenchStepActivity)), new BenchStepActivity())));
        await service.CreateIfNotExistsAsync();
        await worker.StartAsync();
        var client = new DurableTaskCoreClient((IOrchestrationServiceClient)service);

        // A short warm-up run so JIT compilation is not measured.
        await RunBatchAsync(client, "warm-up", 50);
        var writerBefore = (service as SqliteOrchestrationService)?.WriterStatistics;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var (completed, started) = await RunBatchAsync(client, label, count);
        var elapsed = watch.Elapsed;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var writerAfter = (service as SqliteOrchestrationService)?.WriterStatistics;
        await worker.StopAsync(isForced: true);
        var rate = completed / elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: {count} orchestrations x 3 activities, completed {completed}; starts {started.TotalSeconds:F2} s, all done {elapsed.TotalSeconds:F2} s: {rate:F0} orchestrations/s; " +
            $"CPU {cpu.TotalSeconds:F2} s ({cpu.TotalMilliseconds * 1000 / count:F0} µs per orchestration); load average {Measure.LoadAverage()}"));
        if (writerBefore is not null && writerAfter is not null)
        {
            var transactions = writerAfter.Transactions - writerBefore.Transactions;
            var writes = writerAfter.Writes - writerBefore.Writes;
            var busy = writerAfter.Busy - writerBefore.Busy;
            var commit = writerAfter.Commit - writerBefore.Commit;
            var reruns = writerAfter.Reruns - writerBefore.Reruns;
            var statements = writerAfter.Statements - writerBefore.Statements;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  writer: {transactions} transactions, {writes} writes ({(double)writes / count:F1} per orchestration, {(double)writes / Math.Max(1, transactions):F1} per transaction), {(double)statements / count:F1} SQL statements per orchestration; " +
                $"busy {busy.TotalSeconds:F2} s = {busy / elapsed:P0} of the run, {busy.TotalMilliseconds / Math.Max(1, transactions):F3} ms per transaction, of which COMMIT {commit.TotalMilliseconds / Math.Max(1, transactions):F3} ms; {reruns} batches run again with savepoints"));
        }
        return completed == count ? rate : double.NaN;
    }

    private static async Task<(int Completed, TimeSpan Started)> RunBatchAsync(DurableTaskCoreClient client, string prefix, int count)
    {
        var watch = Stopwatch.StartNew();
        var ids = await Task.WhenAll(Enumerable.Range(0, count).Select(i =>
            client.ScheduleNewOrchestrationInstanceAsync(nameof(BenchChainOrchestrator), i, new StartOrchestrationOptions($"{prefix}-{i:D7}"))));
        var started = watch.Elapsed;
        var results = await Task.WhenAll(ids.Select(id => client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true)));
        var completed = results.Count(r => r.RuntimeStatus == OrchestrationRuntimeStatus.Completed && r.ReadOutputAs<int>() == r.ReadInputAs<int>() + 3);
        return (completed, started);
    }

    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = string.Empty;
            this.create = create;
        }

        public override T Create() => create();
    }
}

internal sealed class BenchChainOrchestrator : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var value = input;
        for (var i = 0; i < 3; i++)
        {
            value = await context.CallActivityAsync<int>(nameof(BenchStepActivity), value);
        }

        return value;
    }
}

internal sealed class BenchStepActivity : Microsoft.DurableTask.TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input + 1);
}
