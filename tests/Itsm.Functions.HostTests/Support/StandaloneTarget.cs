using System.Diagnostics;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Storage.Sqlite;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// The standalone app: <c>dotnet Itsm.Functions.dll</c> from the app's build output, in a process group of its own,
/// on a free port. Its <c>intake</c> queue is the embedded one, in the same database file; another process writes to
/// it through the same code (the app notices within its idle poll interval).
/// </summary>
public sealed class StandaloneTarget() : AppTarget("standalone", "standalone")
{
    private ProcessGroup? _process;
    private int _port;
    private EmbeddedQueue? _queue;

    private EmbeddedQueue Queue => _queue ??= new EmbeddedQueue(new SqliteDatabase(DatabasePath), TimeProvider.System, new QueueOptions());

    protected override Task<string?> WhyUnavailableAsync() => Task.FromResult<string?>(null);

    protected override async Task StartAppAsync()
    {
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
        var settings = new Dictionary<string, string>(AppSettings) { ["Itsm__Standalone__Urls"] = BaseAddress.ToString().TrimEnd('/') };
        var stopwatch = Stopwatch.StartNew();
        _process = await ProcessGroup.StartAsync("dotnet", [Path.Combine(Repository.AppOutput, "Itsm.Functions.dll")], Directory, settings, Path.Combine(Directory, "app.log"));
        await WaitUntilAnsweringAsync(_process, stopwatch, TimeSpan.FromSeconds(90));
    }

    public override async Task KillAsync() => await _process!.KillAsync();

    protected override async Task StopAppAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
    }

    public override async Task SendIntakeAsync(string body) => await Queue.SendAsync("intake", new OutgoingQueueMessage(body));

    public override Task<int> IntakeBacklogAsync() => Queue.CountActiveAsync("intake");

    public override async Task<IReadOnlyList<string>> PoisonedIntakeAsync() =>
        (await Queue.GetDeadLettersAsync("intake")).Select(m => m.Body).ToList();

    public override string LogTail(int lines) => _process?.Tail(lines) ?? "(not started)";
}
