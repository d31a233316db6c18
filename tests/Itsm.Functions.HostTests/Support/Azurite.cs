using Azure.Storage.Queues;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// Azurite, the Azure Storage emulator, installed from <c>tests/azurite/package.json</c> (<c>npm ci</c> on first use)
/// and started on free loopback ports with its data in a folder of the test's own. It is the Functions host's storage
/// account: task hub, host state, and the <c>intake</c> queue.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    // The emulator's well-known development account (documented by Microsoft; not a secret).
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly Lazy<Task> Installation = new(InstallAsync);

    private readonly ProcessGroup _process;

    private Azurite(ProcessGroup process, int blobPort, int queuePort, int tablePort)
    {
        _process = process;
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
            $"BlobEndpoint=http://127.0.0.1:{blobPort}/{Account};QueueEndpoint=http://127.0.0.1:{queuePort}/{Account};TableEndpoint=http://127.0.0.1:{tablePort}/{Account};";
    }

    public static string PackageDirectory => Path.Combine(Repository.Root, "tests", "azurite");

    public string ConnectionString { get; }

    public string LogPath => _process.LogPath;

    /// <summary>A client of a queue, with the host's default message encoding (base64).</summary>
    public QueueClient Queue(string name) => new(ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    public static async Task<Azurite> StartAsync(string directory)
    {
        await Installation.Value;
        var location = Path.Combine(directory, "azurite");
        Directory.CreateDirectory(location);
        var (blob, queue, table) = (FreePort.Next(), FreePort.Next(), FreePort.Next());
        var process = await ProcessGroup.StartAsync(
            "node",
            [Path.Combine(PackageDirectory, "node_modules", "azurite", "dist", "src", "azurite.js"), "--silent", "--location", location,
             "--blobPort", $"{blob}", "--queuePort", $"{queue}", "--tablePort", $"{table}", "--skipApiVersionCheck"],
            PackageDirectory,
            new Dictionary<string, string>(),
            Path.Combine(directory, "azurite.log"));
        var azurite = new Azurite(process, blob, queue, table);
        try
        {
            var service = new QueueServiceClient(azurite.ConnectionString, new QueueClientOptions { Retry = { MaxRetries = 0 } });
            await Poll.UntilAsync(
                async () =>
                {
                    if (process.HasExited)
                    {
                        throw new InvalidOperationException("Azurite exited: " + process.Tail(20));
                    }

                    try
                    {
                        await service.GetPropertiesAsync();
                        return true;
                    }
                    catch (Exception ex) when (ex is Azure.RequestFailedException or AggregateException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(60),
                "Azurite to answer");
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return azurite;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static async Task InstallAsync()
    {
        if (File.Exists(Path.Combine(PackageDirectory, "node_modules", "azurite", "dist", "src", "azurite.js")))
        {
            return;
        }

        // A clean clone (CI): the pinned version from the lock file.
        var install = await Command.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], PackageDirectory, TimeSpan.FromMinutes(5));
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"'npm ci' in {PackageDirectory} failed ({install.ExitCode}): {install.Tail(30)}");
        }
    }
}
