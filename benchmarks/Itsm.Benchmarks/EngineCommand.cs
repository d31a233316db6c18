using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Itsm.Durable;
using Itsm.Durable.Engine;

namespace Itsm.Benchmarks;

/// <summary>
/// The embedded durable engine on a temp SQLite file with the real clock. The invoker calls
/// <see cref="OrchestrationRunner.RunBase64"/> and <see cref="ActivityRunner.RunAsync"/> directly: the app's
/// invoker also wraps each call in an invocation envelope (a JSON round trip), which is not measured here.
/// <code>
/// engine throughput [--instances 5000] [--activities 3]
/// engine timers [--instances 100000] [--timers 5000] [--lead 5] [--spread 10]
/// </code>
/// </summary>
internal static class EngineCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(Measure.Machine());
        return args switch
        {
            ["throughput", .. var rest] => await ThroughputAsync(rest),
            ["timers", .. var rest] => await TimersAsync(rest),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: engine throughput [--instances 5000] [--activities 3] | engine timers [--instances 100000] [--timers 5000] [--lead 5] [--spread 10]");
        return 2;
    }

    private static DurableFunctionRegistry Registry() => new DurableFunctionRegistry()
        .AddOrchestrator<int, int>("Chain", async (context, count) =>
        {
            var sum = 0;
            for (var i = 0; i < count; i++)
            {
                sum += await context.CallActivityAsync<int>("Step", new StepInput(i, context.InstanceId));
            }

            return sum;
        })
        .AddActivity<StepInput, int>("Step", (_, input) => Task.FromResult(input.Index + 1))
        .AddOrchestrator<double, int>("Sleeper", async (context, hours) =>
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddHours(hours), CancellationToken.None);
            return 0;
        })
        .AddOrchestrator<double, AlarmResult>("Alarm", async (context, delayMs) =>
        {
            // The due time is fixed in the first episode; after the timer, CurrentUtcDateTime is the start of the
            // episode that received TimerFired, i.e. when the engine acted on the timer.
            var due = context.CurrentUtcDateTime.AddMilliseconds(delayMs);
            await context.CreateTimer(due, CancellationToken.None);
            return new AlarmResult(due, context.CurrentUtcDateTime);
        });

    /// <summary>(b) Orchestrations started and completed per second: a burst of starts, then until all are done.</summary>
    private static async Task<int> ThroughputAsync(string[] args)
    {
        var instances = Measure.IntOption(args, "--instances", 5000);
        var activities = Measure.IntOption(args, "--activities", 3);
        await using var run = await EngineRun.StartAsync(Registry());
        var input = activities.ToString(CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < instances; i++)
        {
            await run.Engine.StartAsync("Chain", $"chain-{i:D7}", input, CancellationToken.None);
        }

        var started = watch.Elapsed;
        await run.Engine.WaitForIdleAsync(CancellationToken.None);
        var done = watch.Elapsed;
        var completed = 0;
        for (var i = 0; i < instances; i++)
        {
            var status = await run.Engine.GetStatusAsync($"chain-{i:D7}", includeInputsAndOutputs: false, CancellationToken.None);
            completed += status?.RuntimeStatus == OrchestrationRuntimeStatus.Completed ? 1 : 0;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {instances} instances x {activities} activities ({activities + 1} episodes each), completed {completed}; " +
            $"starts {started.TotalSeconds:F1} s ({instances / started.TotalSeconds:F0}/s), all done {done.TotalSeconds:F1} s: " +
            $"{completed / done.TotalSeconds:F0} orchestrations/s, {completed * (activities + 1) / done.TotalSeconds:F0} episodes/s, {completed * activities / done.TotalSeconds:F0} activities/s"));
        Console.WriteLine($"after: {Measure.Memory()}, {Measure.FileSizes(run.DatabasePath)}; load average {Measure.LoadAverage()}");
        return completed == instances ? 0 : 1;
    }

    /// <summary>(c) Memory with many instances waiting on timers; (d) lateness of timers firing while they wait.</summary>
    private static async Task<int> TimersAsync(string[] args)
    {
        var instances = Measure.IntOption(args, "--instances", 100_000);
        var timers = Measure.IntOption(args, "--timers", 5000);
        var lead = Measure.DoubleOption(args, "--lead", 5);
        var spread = Measure.DoubleOption(args, "--spread", 10);
        await using var run = await EngineRun.StartAsync(Registry());
        Console.WriteLine($"engine started, empty: {Measure.Memory()}");

        var watch = Stopwatch.StartNew();
        for (var i = 0; i < instances; i++)
        {
            await run.Engine.StartAsync("Sleeper", $"sleeper-{i:D7}", "24", CancellationToken.None);
            if ((i + 1) % 20_000 == 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i + 1} started at {watch.Elapsed.TotalSeconds:F1} s"));
            }
        }

        var started = watch.Elapsed;
        await run.Engine.WaitForIdleAsync(CancellationToken.None);
        var waiting = watch.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{instances} instances started in {started.TotalSeconds:F1} s ({instances / started.TotalSeconds:F0}/s); all waiting on their timer (first episode done) at {waiting.TotalSeconds:F1} s ({instances / waiting.TotalSeconds:F0} instances/s)"));
        Console.WriteLine($"{instances} waiting: {Measure.Memory()}, {Measure.FileSizes(run.DatabasePath)}; load average {Measure.LoadAverage()}");

        // Lateness: timers due lead..lead+spread seconds after each instance's first episode, while the others wait.
        var random = new Random(42);
        var lateWatch = Stopwatch.StartNew();
        for (var i = 0; i < timers; i++)
        {
            var delayMs = (lead + (random.NextDouble() * spread)) * 1000;
            await run.Engine.StartAsync("Alarm", $"alarm-{i:D7}", delayMs.ToString("R", CultureInfo.InvariantCulture), CancellationToken.None);
        }

        var alarmsStarted = lateWatch.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{timers} alarm instances started in {alarmsStarted.TotalSeconds:F1} s"));

        // Read the results only once the last due time has passed and the engine is idle, so polling adds no load meanwhile.
        var untilDue = alarmsStarted + TimeSpan.FromSeconds(lead + spread + 1) - lateWatch.Elapsed;
        await Task.Delay(untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero);
        var lateness = new List<double>(timers);
        var pending = Enumerable.Range(0, timers).ToList();
        while (pending.Count > 0 && lateWatch.Elapsed < TimeSpan.FromSeconds(lead + spread + 180))
        {
            await run.Engine.WaitForIdleAsync(CancellationToken.None);
            var still = new List<int>();
            foreach (var i in pending)
            {
                var status = await run.Engine.GetStatusAsync($"alarm-{i:D7}", includeInputsAndOutputs: true, CancellationToken.None);
                if (status?.RuntimeStatus == OrchestrationRuntimeStatus.Completed)
                {
                    var result = JsonSerializer.Deserialize<AlarmResult>(status.OutputJson!, JsonSerializerOptions.Web)!;
                    lateness.Add((result.FiredAt - result.Due).TotalMilliseconds);
                }
                else
                {
                    still.Add(i);
                }
            }

            pending = still;
            if (pending.Count > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }

        Console.WriteLine($"timer lateness (episode start minus due time), {timers} timers due over {spread} s while {instances} others wait: {Measure.Summary(lateness, " ms")}, not fired {pending.Count}");
        Console.WriteLine($"after: {Measure.Memory()}, {Measure.FileSizes(run.DatabasePath)}; load average {Measure.LoadAverage()}");
        return pending.Count == 0 ? 0 : 1;
    }

    private sealed class EngineRun : IAsyncDisposable
    {
        private readonly string directory;

        private EngineRun(string directory, EmbeddedDurableEngine engine)
        {
            this.directory = directory;
            Engine = engine;
        }

        public EmbeddedDurableEngine Engine { get; }

        public string DatabasePath => Path.Combine(directory, "durable.db");

        public static async Task<EngineRun> StartAsync(DurableFunctionRegistry registry)
        {
            var directory = Directory.CreateTempSubdirectory("itsm-bench-").FullName;
            var engine = new EmbeddedDurableEngine(new EmbeddedEngineOptions(Path.Combine(directory, "durable.db")), new DirectInvoker(registry), TimeProvider.System);
            await engine.StartAsync(CancellationToken.None);
            return new EngineRun(directory, engine);
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Engine.StopAsync(timeout.Token);
            await Engine.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Runs episodes and activities in process, without the envelope JSON the app's invoker adds.</summary>
    private sealed class DirectInvoker(DurableFunctionRegistry registry) : IDurableFunctionInvoker, IServiceProvider
    {
        public Task<string> InvokeOrchestratorAsync(string orchestratorName, string base64OrchestratorRequest, CancellationToken cancellationToken) =>
            Task.FromResult(OrchestrationRunner.RunBase64(base64OrchestratorRequest, registry, this));

        public Task<ActivityResult> InvokeActivityAsync(string activityName, string instanceId, string? rawInputJson, CancellationToken cancellationToken) =>
            ActivityRunner.RunAsync(activityName, rawInputJson, registry, this, instanceId, cancellationToken);

        public object? GetService(Type serviceType) => null;
    }
}

internal sealed record AlarmResult(DateTime Due, DateTime FiredAt);
