using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Itsm.Functions.Security;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// One way of running the app's build output as a process, as a class fixture of the scenarios: its settings (SQLite in
/// a temp folder, dev tokens, policy minutes of one second, an intake source, Graph at a fake), its address, callers
/// with dev tokens, the <c>intake</c> queue, and kill/restart. A target that cannot run on this machine says why in
/// <see cref="SkipReason"/>, and its scenarios report themselves skipped with that reason.
/// </summary>
public abstract class AppTarget : IAsyncLifetime
{
    public const string IntakeSource = "servicedesk@contoso.com";
    public const string IntakeTenant = "intake";
    public const string SenderMailbox = "notify@contoso.com";

    private static readonly SocketsHttpHandler Handler = new() { PooledConnectionLifetime = TimeSpan.FromMinutes(1) };

    protected AppTarget(string name, string mode)
    {
        Name = name;
        Mode = mode;
        Directory = Path.Combine(Path.GetTempPath(), "itsm-host-tests", $"{name.Replace(' ', '-')}-{Guid.NewGuid():N}"[..40]);
    }

    /// <summary>"standalone" or "functions host", for test output.</summary>
    public string Name { get; }

    /// <summary>What <c>/api/health</c> answers as the mode under this target.</summary>
    public string Mode { get; }

    public string? SkipReason { get; private set; }

    /// <summary>The target's own folder: database, dev key, Azurite's data, logs.</summary>
    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "itsm.db");

    public Uri BaseAddress { get; protected set; } = new("http://127.0.0.1/");

    public FakeGraph Graph { get; private set; } = null!;

    /// <summary>From starting the process to the first 200 of <c>/api/health</c>, for each start.</summary>
    public List<TimeSpan> StartTimes { get; } = [];

    /// <summary>Every setting the app process gets as an environment variable, the same for both hosts.</summary>
    protected IReadOnlyDictionary<string, string> AppSettings => new Dictionary<string, string>(Graph.Settings(SenderMailbox))
    {
        ["Itsm__Store__Provider"] = "Sqlite",
        ["Itsm__Sqlite__Path"] = DatabasePath,
        ["Itsm__Auth__Mode"] = "DevTokens",
        ["Itsm__Policies__MinuteLength"] = "00:00:01",
        ["Itsm__Approvals__PublicBaseUrl"] = BaseAddress.ToString().TrimEnd('/'),
        ["Itsm__Intake__Sources__0__Name"] = IntakeSource,
        ["Itsm__Intake__Sources__0__TenantId"] = IntakeTenant,
        ["Itsm__Intake__Sources__0__OwnAddresses__0"] = SenderMailbox,
    };

    public async Task InitializeAsync()
    {
        SkipReason = await WhyUnavailableAsync();
        if (SkipReason is not null)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(Directory);
        Graph = await FakeGraph.StartAsync();

        // The dev signing key is created next to the database before the app starts; the app and the tests share it.
        DevTokens.Mint(AuthOptions.DefaultDevKeyPath(DatabasePath), "harness");
        await StartAppAsync();
    }

    public async Task DisposeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        await StopAppAsync();
        await Graph.DisposeAsync();
        if (Environment.GetEnvironmentVariable("ITSM_KEEP_HOST_TEST_FILES") is not "1")
        {
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by a dying process: the temp folder is cleaned up by the system.
            }
        }
    }

    /// <summary>Null when the target can run here, else the reason its scenarios are skipped.</summary>
    protected abstract Task<string?> WhyUnavailableAsync();

    protected abstract Task StartAppAsync();

    protected abstract Task StopAppAsync();

    /// <summary>SIGKILL to the app's whole process group (for the Functions host: host and worker).</summary>
    public abstract Task KillAsync();

    /// <summary>Starts the app again with the same settings and storage, and waits until it answers.</summary>
    public abstract Task RestartAsync();

    /// <summary>Puts a message on the <c>intake</c> queue the way other systems do (for the Functions host: a Storage queue message, base64).</summary>
    public abstract Task SendIntakeAsync(string body);

    /// <summary>Messages on the <c>intake</c> queue that are not yet done with (waiting or being handled).</summary>
    public abstract Task<int> IntakeBacklogAsync();

    /// <summary>The bodies of the messages in <c>intake-poison</c>.</summary>
    public abstract Task<IReadOnlyList<string>> PoisonedIntakeAsync();

    /// <summary>The last lines the app (and the host) wrote, for failure reports.</summary>
    public abstract string LogTail(int lines);

    public HttpClient Anonymous => new(Handler, disposeHandler: false) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public string Token(string user, string tenant, params string[] roles) =>
        DevTokens.Mint(AuthOptions.DefaultDevKeyPath(DatabasePath), user, roles, tenant);

    public HttpClient As(string user, string tenant, params string[] roles)
    {
        var client = Anonymous;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(user, tenant, roles));
        return client;
    }

    /// <summary>Polls <c>/api/health</c> until it answers 200 in this target's mode; fails early with the log when the process ends.</summary>
    protected async Task WaitUntilAnsweringAsync(ProcessGroup process, Stopwatch sinceStart, TimeSpan patience)
    {
        using var client = Anonymous;
        client.Timeout = TimeSpan.FromSeconds(10);
        await Poll.UntilAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"The {Name} process ended before it answered:\n{LogTail(60)}");
                }

                using var response = await client.GetAsync("/api/health");
                return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("mode").GetString() == Mode;
            },
            patience,
            $"the {Name} at {BaseAddress} to answer /api/health in mode '{Mode}' (log: {process.LogPath})");
        StartTimes.Add(sinceStart.Elapsed);
    }

    public override string ToString() => Name;
}
