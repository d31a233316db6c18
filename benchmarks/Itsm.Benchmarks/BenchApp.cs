using Itsm.Functions.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Itsm.Benchmarks;

/// <summary>
/// The real standalone app in this process, built by the app's own composition root, on a loopback port with a fresh
/// database in a temporary folder (deleted on dispose), and an HTTP client for it.
/// </summary>
internal sealed class BenchApp : IAsyncDisposable
{
    private BenchApp(WebApplication app, string directory, HttpClient http)
    {
        App = app;
        Directory = directory;
        Http = http;
    }

    public WebApplication App { get; }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "itsm.db");

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<BenchApp> StartAsync(string name, int connections, IDictionary<string, string?>? settings = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory($"itsm-{name}-bench-").FullName;
        var all = new Dictionary<string, string?>
        {
            ["Itsm:Sqlite:Path"] = Path.Combine(directory, "itsm.db"),
            ["Itsm:Standalone:Urls"] = "http://127.0.0.1:0",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = ItsmApp.BuildStandalone([], builder => builder.Configuration.AddInMemoryCollection(all));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(2) };
        return new BenchApp(app, directory, http);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
