using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Standalone;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;

namespace Itsm.Functions.Tests.Support;

/// <summary>
/// The real app, built by the same composition root as Program, on an in-memory server with a temporary
/// database and a fake clock. Tests may add classes with more functions, and settings.
/// </summary>
public sealed class StandaloneApp : IAsyncDisposable
{
    private StandaloneApp(WebApplication app, string directory, FakeTimeProvider clock, bool kestrel)
    {
        _kestrel = kestrel;
        App = app;
        Directory = directory;
        Clock = clock;
        BaseAddress = kestrel ? new Uri(app.Urls.First()) : new Uri("http://localhost/");
        Client = kestrel ? new HttpClient { BaseAddress = BaseAddress } : app.GetTestClient();
    }

    private readonly bool _kestrel;

    /// <summary>Where the app listens: a loopback port when started with Kestrel, else the test server's address.</summary>
    public Uri BaseAddress { get; }

    public static readonly DateTimeOffset Epoch = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    public WebApplication App { get; }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "itsm.db");

    public FakeTimeProvider Clock { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<StandaloneApp> StartAsync(
        IEnumerable<Type>? functions = null,
        IDictionary<string, string?>? settings = null,
        string? directory = null,
        FakeTimeProvider? clock = null,
        Action<IServiceCollection>? services = null,
        bool kestrel = false)
    {
        directory ??= TempDirectory.Create();
        clock ??= new FakeTimeProvider(Epoch);
        var all = new Dictionary<string, string?>
        {
            ["Itsm:Sqlite:Path"] = Path.Combine(directory, "itsm.db"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (kestrel)
        {
            all["Itsm:Standalone:Urls"] = "http://127.0.0.1:0";
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        var app = ItsmApp.BuildStandalone(
            [],
            builder =>
            {
                builder.Configuration.AddInMemoryCollection(all);
                if (!kestrel)
                {
                    builder.WebHost.UseTestServer();
                }
                builder.Services.AddSingleton<TimeProvider>(clock);
                services?.Invoke(builder.Services);
            },
            functions);
        await app.StartAsync();
        return new StandaloneApp(app, directory, clock, kestrel);
    }

    /// <summary>Waits until no orchestration or activity work is due at the fake clock's instant and none is running.</summary>
    public Task WaitForDurableIdleAsync(TimeSpan? patience = null) =>
        Services.GetRequiredService<StandaloneDurableWorker>().WaitForIdleAsync(CancellationToken.None).WaitAsync(patience ?? TimeSpan.FromSeconds(30));

    /// <summary>A client that calls as the given user: a dev token signed with this app's dev key.</summary>
    public HttpClient As(string userId, string tenantId = "contoso", params string[] roles)
    {
        var token = Itsm.Functions.Security.DevTokens.Mint(
            Itsm.Functions.Security.AuthOptions.DefaultDevKeyPath(DatabasePath), userId, roles, tenantId, name: userId, now: Clock.GetUtcNow());
        var client = _kestrel ? new HttpClient { BaseAddress = BaseAddress } : App.GetTestClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Client.Dispose();
    }
}

public static class TempDirectory
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "itsm-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(path);
        return path;
    }
}
