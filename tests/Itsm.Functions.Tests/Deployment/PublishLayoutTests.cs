using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Deployment;

/// <summary>
/// The package <c>azd deploy</c> uploads: the plain <c>dotnet publish</c> azd runs, done once for the class.
/// Its bin and obj folders go to a temporary artifacts path (<c>--artifacts-path</c>), so the publish neither
/// reuses nor disturbs the build the tests run from; restore therefore runs too (from the local package cache:
/// <c>--no-restore</c> would fail on the fresh folder).
/// </summary>
public sealed class PublishedApp : IAsyncLifetime
{
    private readonly string _work = TempDirectory.Create();

    public string Root => Path.Combine(_work, "publish");

    public string ExecutableName { get; } = typeof(ItsmApp).Assembly.GetName().Name!;


    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in (string[])
            [
                "publish", Path.Combine("functions", "Itsm.Functions"), "-c", "Release", "-o", Root,
                "--artifacts-path", Path.Combine(_work, "artifacts"), "--nologo",
                // No build servers or reusable nodes: nothing may outlive the publish and hold its output pipes open.
                "-nodeReuse:false", "-p:UseSharedCompilation=false",
            ])
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables must not steer the child build.
        foreach (var variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "MSBuildLoadMicrosoftTargetsReadOnly" })
        {
            start.Environment.Remove(variable);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet publish did not start.");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("dotnet publish took longer than 5 minutes.");
        }

        output.Append(await stdout).Append(await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed with exit code {process.ExitCode}:\n{output}");
        }
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is not worth failing the run for.
        }

        return Task.CompletedTask;
    }
}

/// <summary>What the Functions host on Flex Consumption (runtime <c>dotnet-isolated</c> 10.0) finds in the package.</summary>
public class PublishLayoutTests(PublishedApp package) : IClassFixture<PublishedApp>
{
    [Fact]
    public void Worker_config_starts_the_app_as_a_dotnet_isolated_worker()
    {
        var description = JsonNode.Parse(File.ReadAllText(package.PathOf("worker.config.json")))!["description"]!;

        Assert.Equal("dotnet-isolated", description["language"]?.GetValue<string>());
        Assert.Equal($"{package.ExecutableName}.dll", description["defaultWorkerPath"]?.GetValue<string>());
        Assert.True(File.Exists(package.PathOf($"{package.ExecutableName}.dll")));
    }

    [Fact]
    public void Host_json_at_the_root_is_a_standard_isolated_host_json_with_the_task_hub_and_queue_settings()
    {
        var text = File.ReadAllText(package.PathOf("host.json"));
        var host = JsonNode.Parse(text)!;

        Assert.Equal(Repository.ReadText("host.json"), text);
        Assert.Equal("2.0", host["version"]?.GetValue<string>());
        Assert.Null(host["customHandler"]);
        Assert.Null(host["extensionBundle"]);
        Assert.Equal("api", host["extensions"]?["http"]?["routePrefix"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(host["extensions"]?["durableTask"]?["hubName"]?.GetValue<string>()), "host.json names no Durable task hub.");
        Assert.Equal(5, host["extensions"]?["queues"]?["maxDequeueCount"]?.GetValue<int>());
    }

    [Fact]
    public void Functions_metadata_lists_every_function_the_app_declares_with_its_trigger()
    {
        var metadata = JsonNode.Parse(File.ReadAllText(package.PathOf("functions.metadata")))!.AsArray();
        var published = metadata.Select(f => (
                Name: f!["name"]!.GetValue<string>(),
                Trigger: f["bindings"]!.AsArray().Single(b => b!["direction"]!.GetValue<string>() == "In" && b["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal))!["type"]!.GetValue<string>()))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();
        var declared = FunctionIndex.ForApp().Functions
            .Select(f => (f.Name, Trigger: f.Kind switch
            {
                TriggerKind.Http => "httpTrigger",
                TriggerKind.Queue => "queueTrigger",
                TriggerKind.Timer => "timerTrigger",
                TriggerKind.Orchestration => "orchestrationTrigger",
                _ => "activityTrigger",
            }))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(declared, published);
        Assert.Equal(["activityTrigger", "httpTrigger", "orchestrationTrigger", "queueTrigger", "timerTrigger"], published.Select(f => f.Trigger).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_host_side_extensions_for_durable_and_queues_are_in_the_package()
    {
        // Timers and HTTP are built into the host; Durable and Storage queues come from the package.
        var extensions = package.PathOf(".azurefunctions");
        foreach (var assembly in new[] { "Microsoft.Azure.WebJobs.Extensions.DurableTask.dll", "Microsoft.Azure.WebJobs.Extensions.Storage.Queues.dll" })
        {
            Assert.True(File.Exists(Path.Combine(extensions, assembly)), $"{assembly} is missing from .azurefunctions: the host could not load the bindings.");
        }
    }

    [Fact]
    public void The_package_is_framework_dependent_on_the_platforms_dotnet_10()
    {
        var runtimeConfig = JsonNode.Parse(File.ReadAllText(package.PathOf($"{package.ExecutableName}.runtimeconfig.json")))!["runtimeOptions"]!;
        Assert.Null(runtimeConfig["includedFrameworks"]);
        Assert.Equal("net10.0", runtimeConfig["tfm"]?.GetValue<string>());
        Assert.False(File.Exists(package.PathOf("libcoreclr.so")), "the package carries its own runtime; runtime dotnet-isolated 10.0 provides it.");
    }
}
