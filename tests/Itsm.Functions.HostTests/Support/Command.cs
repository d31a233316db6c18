using System.Diagnostics;

namespace Itsm.Functions.HostTests.Support;

/// <summary>Short-lived commands the harness runs (npm, the host's build script), with their output.</summary>
public static class Command
{
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError = "")
    {
        public string Tail(int lines) => string.Join('\n', (StandardOutput + StandardError).Split('\n').TakeLast(lines));
    }

    /// <summary>Runs <paramref name="file"/>; a command that cannot be started at all answers exit code 127, like a shell.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, string? workingDirectory, TimeSpan limit)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new Result(127, "", $"{file}: {ex.Message}");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(limit);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return new Result(124, await output, $"{file} did not finish within {limit.TotalSeconds:0} s.\n{await error}");
            }

            return new Result(process.ExitCode, await output, await error);
        }
    }

    /// <summary>The full path of <paramref name="name"/> on the PATH, or null.</summary>
    public static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
