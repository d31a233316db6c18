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

/// <summary>What the Functions host on Flex Consumption (Linux, runtime <c>custom</c>) finds in the package.</summary>
public class PublishLayoutTests(PublishedApp package) : IClassFixture<PublishedApp>
{
    private static readonly string[] DurableTriggerTypes = ["orchestrationTrigger", "activityTrigger", "entityTrigger"];

    [Fact]
    public void The_custom_handler_is_a_linux_x64_elf_executable_with_its_execute_bit()
    {
        var path = package.PathOf(package.ExecutableName);
        Assert.True(File.Exists(path), $"{package.ExecutableName} is missing from the publish output.");

        if (!OperatingSystem.IsWindows())
        {
            // Windows has no mode bits to look at; everywhere else the publish must have set the execute bit.
            var mode = File.GetUnixFileMode(path);
            Assert.True(mode.HasFlag(UnixFileMode.UserExecute), $"{package.ExecutableName} has mode {mode}: no execute bit for its owner.");
        }

        var header = new byte[20];
        using (var stream = File.OpenRead(path))
        {
            stream.ReadExactly(header);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        Assert.Equal(2, header[4]);      // EI_CLASS: 64-bit
        Assert.Equal(1, header[5]);      // EI_DATA: little-endian
        Assert.Equal(0x3E, header[18]);  // e_machine (low byte): x86-64
        Assert.Equal(0, header[19]);
    }

    [Fact]
    public void Host_json_at_the_root_starts_the_executable_with_the_bundle_and_the_task_hub()
    {
        var text = File.ReadAllText(package.PathOf("host.json"));
        var host = JsonNode.Parse(text)!;

        Assert.Equal(Repository.ReadText("host.json"), text);
        Assert.Equal("2.0", host["version"]?.GetValue<string>());
        Assert.Equal(package.ExecutableName, host["customHandler"]?["description"]?["defaultExecutablePath"]?.GetValue<string>());
        Assert.False(host["customHandler"]?["enableForwardingHttpRequest"]?.GetValue<bool>() ?? true, "customHandler.enableForwardingHttpRequest must be false: the app reads invocation envelopes.");
        Assert.Equal("Microsoft.Azure.Functions.ExtensionBundle", host["extensionBundle"]?["id"]?.GetValue<string>());
        Assert.Equal("[4.*, 5.0.0)", host["extensionBundle"]?["version"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(host["extensions"]?["durableTask"]?["hubName"]?.GetValue<string>()), "host.json names no Durable task hub.");
    }

    [Fact]
    public void Every_declared_function_has_its_folder_with_the_function_json_the_declaration_produces()
    {
        var catalog = ItsmFunctions.CreateCatalog();
        foreach (var function in catalog.Functions)
        {
            var path = package.PathOf(function.Name, "function.json");
            Assert.True(File.Exists(path), $"{function.Name}/function.json is missing from the publish output.");
            Assert.True(FunctionJson.Serialize(function) == File.ReadAllText(path), $"{function.Name}/function.json in the package differs from FunctionJson.Serialize:\n{File.ReadAllText(path)}");
        }

        var folders = Directory.EnumerateDirectories(package.Root)
            .Where(d => File.Exists(Path.Combine(d, "function.json")))
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal);
        Assert.Equal(catalog.Functions.Select(f => f.Name).Order(StringComparer.Ordinal), folders);
    }

    [Fact]
    public void No_durable_trigger_declares_a_return_binding()
    {
        foreach (var path in Directory.EnumerateFiles(package.Root, "function.json", SearchOption.AllDirectories))
        {
            var bindings = JsonNode.Parse(File.ReadAllText(path))!["bindings"]!.AsArray();
            if (bindings.Any(b => DurableTriggerTypes.Contains(b?["type"]?.GetValue<string>())))
            {
                Assert.DoesNotContain(bindings, b => b?["name"]?.GetValue<string>() == "$return");
            }
        }
    }

    [Fact]
    public void The_package_is_self_contained_for_linux_x64()
    {
        foreach (var file in new[] { "libcoreclr.so", "libhostfxr.so", "libclrjit.so", "System.Private.CoreLib.dll", "Microsoft.AspNetCore.dll" })
        {
            Assert.True(File.Exists(package.PathOf(file)), $"{file} is missing: the package must carry its own .NET runtime (the host's image has no .NET 10).");
        }

        var runtimeConfig = JsonNode.Parse(File.ReadAllText(package.PathOf($"{package.ExecutableName}.runtimeconfig.json")))!["runtimeOptions"]!;
        Assert.NotNull(runtimeConfig["includedFrameworks"]);
        Assert.Null(runtimeConfig["frameworks"]);
        Assert.Null(runtimeConfig["framework"]);

        var deps = JsonNode.Parse(File.ReadAllText(package.PathOf($"{package.ExecutableName}.deps.json")))!;
        Assert.EndsWith("/linux-x64", deps["runtimeTarget"]?["name"]?.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(package.Root, "*.exe"));
    }
}
