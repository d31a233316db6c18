using System.Diagnostics;
using Azure;
using Azure.Storage.Queues;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// The same build output under the real Azure Functions host, with Azurite as its storage account: Core Tools
/// (<c>func host start</c>) when <c>func</c> is on the PATH, else the host built from source by
/// <c>../shared/functions-host/start.sh</c> (the folder beside the clone). Durable timers and queue messages are polled
/// every second (<c>maxQueuePollingInterval</c>), as the local host's README advises. When neither host is available,
/// or Node.js is missing (Azurite), the scenarios are skipped with the reason.
/// </summary>
public sealed class FunctionsHostTarget() : AppTarget("functions host", "functions")
{
    private static readonly Lazy<Task<HostLauncher>> Launcher = new(HostLauncher.FindAsync);

    private Azurite? _azurite;
    private ProcessGroup? _host;
    private int _port;

    public Azurite Storage => _azurite ?? throw new InvalidOperationException("Azurite is not started.");

    /// <summary>Which host runs the app: "func" or the path of start.sh.</summary>
    public string HostCommand { get; private set; } = "";

    protected override async Task<string?> WhyUnavailableAsync() => (await Launcher.Value).SkipReason;

    protected override async Task StartAppAsync()
    {
        _azurite = await Azurite.StartAsync(Directory);
        _port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{_port}/");
        await LaunchAsync();
    }

    public override async Task RestartAsync()
    {
        await Poll.UntilAsync(() => Task.FromResult(FreePort.IsFree(_port)), TimeSpan.FromSeconds(30), $"port {_port} to be free");
        await LaunchAsync();
    }

    private async Task LaunchAsync()
    {
        var launcher = await Launcher.Value;
        HostCommand = launcher.Executable;
        var settings = new Dictionary<string, string>(AppSettings)
        {
            ["AzureWebJobsStorage"] = Storage.ConnectionString,
            ["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated",

            // Timers and queue messages of the task hub are seen within a second, not five (host.json).
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__maxQueuePollingInterval"] = "00:00:01",

            // After a kill -9, the messages the dead worker had dequeued (an activity's work item, an orchestration's
            // events) come back when their visibility timeout ends: five minutes by default, one (the least it accepts) here.
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__controlQueueVisibilityTimeout"] = "00:01:00",
            ["AzureFunctionsJobHost__extensions__durableTask__storageProvider__workItemQueueVisibilityTimeout"] = "00:01:00",

            // The storage SDK logs every request at Information: thousands of lines a minute.
            ["AzureFunctionsJobHost__logging__logLevel__Azure.Core"] = "Warning",
            ["AzureFunctionsJobHost__logging__logLevel__Azure.Core.1"] = "Warning",
        };
        var stopwatch = Stopwatch.StartNew();
        _host = await ProcessGroup.StartAsync(launcher.Executable, launcher.Arguments(Repository.AppOutput, _port), launcher.WorkingDirectory(Repository.AppOutput), settings, Path.Combine(Directory, "host.log"));
        await WaitUntilAnsweringAsync(_host, stopwatch, TimeSpan.FromSeconds(180));
    }

    public override async Task KillAsync() => await _host!.KillAsync();

    protected override async Task StopAppAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        if (_azurite is not null)
        {
            await _azurite.DisposeAsync();
        }
    }

    public override async Task SendIntakeAsync(string body)
    {
        var queue = Storage.Queue("intake");
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(body);
    }

    public override async Task<int> IntakeBacklogAsync()
    {
        try
        {
            return (await Storage.Queue("intake").GetPropertiesAsync()).Value.ApproximateMessagesCount;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return 0;
        }
    }

    public override async Task<IReadOnlyList<string>> PoisonedIntakeAsync()
    {
        try
        {
            var peeked = await Storage.Queue("intake-poison").PeekMessagesAsync(32);
            return peeked.Value.Select(m => m.Body.ToString()).ToList();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }
    }

    public override string LogTail(int lines) => _host?.Tail(lines) ?? "(not started)";

    /// <summary>How to start the host here, found once per test run, or why it cannot be.</summary>
    private sealed record HostLauncher(string Executable, bool IsCoreTools, string? SkipReason)
    {
        public IEnumerable<string> Arguments(string appOutput, int port) =>
            IsCoreTools ? ["host", "start", "--port", $"{port}"] : [appOutput, $"{port}"];

        // Core Tools runs in the app's folder; start.sh takes the folder as an argument.
        public string WorkingDirectory(string appOutput) => IsCoreTools ? appOutput : Repository.Root;

        public static async Task<HostLauncher> FindAsync()
        {
            if (Support.Command.OnPath("node") is null || Support.Command.OnPath("npm") is null)
            {
                return new("", false, "Node.js (node and npm) is not on the PATH: Azurite, the host's storage account, cannot run.");
            }

            if (Support.Command.OnPath("func") is { } func)
            {
                return new(func, true, null);
            }

            var start = Repository.SharedHostStartScript;
            if (!File.Exists(start))
            {
                return new("", false, $"Neither Azure Functions Core Tools ('func' on the PATH) nor the local Functions host ({start}) is available.");
            }

            // Built once here, before any host starts: two start.sh racing on a cold cache would build twice.
            var build = await Support.Command.RunAsync("bash", [Path.Combine(Path.GetDirectoryName(start)!, "build.sh")], Repository.Root, TimeSpan.FromMinutes(15));
            if (build.ExitCode != 0 || !File.Exists(build.StandardOutput.Trim().Split('\n')[^1].Trim()))
            {
                return new("", false, $"The local Functions host could not be built (build.sh exited {build.ExitCode}): {build.Tail(15)}");
            }

            return new(start, false, null);
        }
    }
}
