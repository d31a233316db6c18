using System.Diagnostics;
using System.Text.RegularExpressions;
using Itsm.Functions.Storage.Cosmos;
using Microsoft.Azure.Cosmos;

namespace Itsm.Functions.Tests.Storage;

/// <summary>
/// The Cosmos DB endpoint the Cosmos contract tests run against. With <c>ITSM_COSMOS_ENDPOINT</c> and
/// <c>ITSM_COSMOS_KEY</c> set (the official emulator, or a real account that allows keys), that endpoint, in a
/// database of its own that is deleted afterwards. Otherwise <c>@vercel/cosmosdb-server</c> from
/// <c>tests/cosmos-server</c> (installed with npm on first use), started as a node process on a free loopback port.
/// </summary>
public sealed partial class CosmosServerFixture : IAsyncLifetime
{
    public const string EndpointVariable = "ITSM_COSMOS_ENDPOINT";
    public const string KeyVariable = "ITSM_COSMOS_KEY";

    private Process? _server;

    public static bool UsesRealEndpoint =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(EndpointVariable)) && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(KeyVariable));

    public CosmosClient Client { get; private set; } = null!;

    public string DatabaseName { get; } = "itsm-tests-" + Guid.NewGuid().ToString("N")[..8];

    [GeneratedRegex(@"connections at .*:(\d+)")]
    private static partial Regex ReadyLine();

    public async Task InitializeAsync()
    {
        string endpoint;
        string key;
        if (UsesRealEndpoint)
        {
            endpoint = Environment.GetEnvironmentVariable(EndpointVariable)!;
            key = Environment.GetEnvironmentVariable(KeyVariable)!;
        }
        else
        {
            endpoint = await StartTestServerAsync();
            key = "dGVzdCBrZXkgZm9yIHRoZSBjb3Ntb3NkYi1zZXJ2ZXI=";
        }

        Client = CosmosDocumentStore.CreateClient(new CosmosStoreOptions
        {
            AccountEndpoint = endpoint,
            DatabaseName = DatabaseName,
            Key = key,
            AllowInsecureEmulatorCertificate = true,
        });
    }

    public async Task DisposeAsync()
    {
        if (UsesRealEndpoint && Client is not null)
        {
            try
            {
                await Client.GetDatabase(DatabaseName).DeleteAsync();
            }
            catch (CosmosException)
            {
                // Nothing was created.
            }
        }

        Client?.Dispose();
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync();
        }

        _server?.Dispose();
    }

    private async Task<string> StartTestServerAsync()
    {
        var directory = FindServerDirectory();
        var cli = Path.Combine(directory, "node_modules", "@vercel", "cosmosdb-server", "lib", "cli.js");
        if (!File.Exists(cli))
        {
            // A clean clone (CI): install the pinned server from the lock file.
            var install = File.Exists(Path.Combine(directory, "package-lock.json")) ? "ci" : "install";
            await RunAsync("npm", $"{install} --no-audit --no-fund", directory, TimeSpan.FromMinutes(5));
        }

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { cli, "--port", "0", "--host", "127.0.0.1" })
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException("Could not start node for the Cosmos test server.");
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await _server.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (ReadyLine().Match(line) is { Success: true } match)
            {
                // Keep draining its output so the server never blocks on a full pipe.
                _ = _server.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return $"https://127.0.0.1:{match.Groups[1].Value}/";
            }
        }

        throw new InvalidOperationException("The Cosmos test server exited before it was ready.");
    }

    private static string FindServerDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "cosmos-server");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/cosmos-server/package.json was not found above " + AppContext.BaseDirectory);
    }

    private static async Task RunAsync(string file, string arguments, string directory, TimeSpan limit)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{file} {arguments}' failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}
