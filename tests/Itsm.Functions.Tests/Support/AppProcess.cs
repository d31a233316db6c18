using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading.Channels;

namespace Itsm.Functions.Tests.Support;

/// <summary>The app's own build output, and the app started from it as a separate process (for kill tests).</summary>
public sealed partial class AppProcess : IAsyncDisposable
{
    private readonly Process _process;

    private AppProcess(Process process)
    {
        _process = process;
    }

    public static string BuildOutputDirectory
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
            return Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "functions", "Itsm.Functions", "bin", configuration, "net10.0"));
        }
    }

    /// <summary>Every line the process writes to standard output.</summary>
    public Channel<string> Output { get; } = Channel.CreateUnbounded<string>();

    public static AppProcess Start(IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(BuildOutputDirectory, "Itsm.Functions.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start };
        var app = new AppProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                app.Output.Writer.TryComplete();
            }
            else
            {
                app.Output.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                app.Output.Writer.TryWrite("stderr: " + e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return app;
    }

    /// <summary>The standalone app on a database in <paramref name="directory"/>, on a free loopback port, dying at <paramref name="crashPoint"/>.</summary>
    public static AppProcess StartStandalone(string directory, string crashPoint) => Start(new Dictionary<string, string>
    {
        ["Itsm__Sqlite__Path"] = Path.Combine(directory, "itsm.db"),
        ["Itsm__Standalone__Urls"] = "http://127.0.0.1:0",
        ["Logging__LogLevel__Default"] = "Warning",
        [Itsm.Functions.Hosting.CrashPoints.Variable] = crashPoint,
    });

    /// <summary>Where the app listens, read from its "listening on" line (at most a minute).</summary>
    public async Task<Uri> ListeningAddressAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var line in Output.Reader.ReadAllAsync(timeout.Token))
        {
            if (ListeningOn().Match(line) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException("The app ended before it listened.");
    }

    [GeneratedRegex(@"listening on (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();

    /// <summary>Waits for <paramref name="count"/> output lines containing <paramref name="text"/>.</summary>
    public async Task WaitForLinesAsync(string text, int count, TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        var seen = 0;
        await foreach (var line in Output.Reader.ReadAllAsync(timeout.Token))
        {
            if (line.Contains(text, StringComparison.Ordinal) && ++seen >= count)
            {
                return;
            }
        }

        throw new InvalidOperationException($"The process ended after {seen} of {count} lines containing '{text}'.");
    }

    /// <summary>Waits for the process to end by itself and returns its exit code, with every line it wrote.</summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Lines)> ExitAsync(TimeSpan patience)
    {
        using var timeout = new CancellationTokenSource(patience);
        await _process.WaitForExitAsync(timeout.Token);
        var lines = new List<string>();
        await foreach (var line in Output.Reader.ReadAllAsync(timeout.Token))
        {
            lines.Add(line);
        }

        return (_process.ExitCode, lines);
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }
}
