using Itsm.Durable.Engine;
using Microsoft.Data.Sqlite;

namespace Itsm.Durable.Tests.Engine;

/// <summary>
/// One engine on a fresh database file, a fake clock and a <see cref="RegistryInvoker"/> over
/// <see cref="SampleOrchestrations"/>. <see cref="RestartAsync"/> abandons the running engine like
/// a killed process and starts a new one on the same file.
/// </summary>
public sealed class EngineHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2025, 1, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private EngineHarness(EmbeddedEngineOptions options, DurableFunctionRegistry registry)
    {
        Options = options;
        Invoker = new RegistryInvoker(registry);
        Engine = new EmbeddedDurableEngine(options, Invoker, Clock, Log);
    }

    public FakeTimeProvider Clock { get; } = new(Start);

    public EngineLog Log { get; } = new();

    public ActivityGate Gate { get; private init; } = new();

    public EmbeddedEngineOptions Options { get; }

    public RegistryInvoker Invoker { get; }

    public EmbeddedDurableEngine Engine { get; private set; }

    public static async Task<EngineHarness> StartAsync(Func<EmbeddedEngineOptions, EmbeddedEngineOptions>? configure = null, bool start = true)
    {
        var path = Path.Combine(Path.GetTempPath(), "itsm-durable-tests", $"{Guid.NewGuid():N}.db");
        var options = new EmbeddedEngineOptions(path);
        options = configure?.Invoke(options) ?? options;
        var gate = new ActivityGate();
        var harness = new EngineHarness(options, SampleOrchestrations.Registry(gate)) { Gate = gate };
        if (start)
        {
            await harness.Engine.StartAsync(CancellationToken.None);
        }

        return harness;
    }

    /// <summary>Abandons the running engine (in-flight work is cancelled, nothing more committed) and starts a new one on the same database.</summary>
    public async Task RestartAsync()
    {
        await Engine.DisposeAsync();
        Engine = new EmbeddedDurableEngine(Options, Invoker, Clock, Log);
        await Engine.StartAsync(CancellationToken.None);
    }

    public async Task IdleAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        Assert.True(await Engine.WaitForIdleAsync(timeout.Token), "The engine is not running.");
        Assert.True(Log.Errors.IsEmpty, string.Join(Environment.NewLine, Log.Errors));
    }

    public async Task AdvanceAsync(TimeSpan delta)
    {
        Clock.Advance(delta);
        await IdleAsync();
    }

    /// <summary>Starts an instance and waits until nothing is runnable.</summary>
    public async Task<StartOrchestrationResult> RunAsync(string orchestrator, string instanceId, object? input)
    {
        var result = await Engine.StartAsync(orchestrator, instanceId, DurableJson.Serialize(input), CancellationToken.None);
        await IdleAsync();
        return result;
    }

    public async Task<OrchestrationInstanceStatus> StatusAsync(string instanceId)
    {
        var status = await Engine.GetStatusAsync(instanceId, includeInputsAndOutputs: true, CancellationToken.None);
        Assert.NotNull(status);
        return status;
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
        {
            try
            {
                File.Delete(Options.DatabasePath + suffix);
            }
            catch (IOException)
            {
                // A connection still closing; the temp folder is cleaned elsewhere.
            }
        }
    }
}
