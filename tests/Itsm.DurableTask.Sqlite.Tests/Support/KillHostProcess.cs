using System.Diagnostics;
using System.Threading.Channels;

namespace Itsm.DurableTask.Sqlite.Tests.Support;

/// <summary>The kill host as a child process (<c>dotnet Itsm.DurableTask.Sqlite.KillHost.dll</c>), read line by line.</summary>
internal sealed class KillHostProcess : IDisposable
{
    private readonly Process process;
    private readonly Channel<string> lines = Channel.CreateUnbounded<string>();

    private KillHostProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                lines.Writer.TryComplete();
            }
            else
            {
                lines.Writer.TryWrite(e.Data);
            }
        };
    }

    public List<string> Errors { get; } = [];

    public static KillHostProcess Start(params string[] arguments)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.GetFullPath(Path.Combine(
            AppContext.BaseDirectory, "..", "..", "..", "..", "Itsm.DurableTask.Sqlite.KillHost", "bin", configuration, "net10.0", "Itsm.DurableTask.Sqlite.KillHost.dll"));
        Assert.True(File.Exists(dll), $"The kill host is built with the tests; not found at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var host = new KillHostProcess(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (host.Errors)
                {
                    host.Errors.Add(e.Data);
                }
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>The next line that matches, within the timeout.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (await lines.Reader.WaitToReadAsync(deadline.Token))
            {
                while (lines.Reader.TryRead(out var line))
                {
                    if (match(line))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        string errors;
        lock (Errors)
        {
            errors = string.Join('\n', Errors.TakeLast(20));
        }

        throw new TimeoutException($"The kill host did not print the expected line within {timeout}. Exited: {process.HasExited}. stderr:\n{errors}");
    }

    /// <summary>SIGKILL, as a crash or the OOM killer would.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            Kill();
        }

        process.Dispose();
    }
}
