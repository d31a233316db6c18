using System.Diagnostics;
using System.Globalization;

namespace Itsm.Functions.HostTests.Support;

/// <summary>
/// A command started with <c>setsid</c> in a process group of its own (through <c>detach.sh</c>), its output in a log
/// file. Stopping kills the whole group (<c>kill -KILL -- -PGID</c>): the Functions host's worker is a child process
/// that outlives a kill of the host alone. The group also dies by itself when the test process is gone.
/// </summary>
public sealed class ProcessGroup : IAsyncDisposable
{
    private readonly Process _leader;

    private ProcessGroup(Process leader, string logPath)
    {
        _leader = leader;
        LogPath = logPath;
    }

    public string LogPath { get; }

    public int GroupId => _leader.Id;

    public bool HasExited => _leader.HasExited;

    /// <summary>Starts <paramref name="command"/> with <paramref name="arguments"/> in <paramref name="workingDirectory"/>, with these environment variables added.</summary>
    public static async Task<ProcessGroup> StartAsync(string command, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, string logPath)
    {
        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Support", "detach.sh"));
        start.ArgumentList.Add(logPath);
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        File.AppendAllText(logPath, $"--- {DateTimeOffset.UtcNow:O} {command} {string.Join(' ', start.ArgumentList.Skip(4))}{Environment.NewLine}");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");

        // setsid runs in place (the child of a .NET process is no group leader), so the pid becomes the group id
        // once setsid has run; the kill of the group must not be sent before that, or it would miss.
        var group = new ProcessGroup(process, logPath);
        await Poll.UntilAsync(() => Task.FromResult(process.HasExited || ReadGroupId(process.Id) == process.Id), TimeSpan.FromSeconds(10), $"process {process.Id} to lead its own group");
        return group;
    }

    /// <summary>SIGKILL to every process of the group (no shutdown code runs anywhere), then waits until the leader is gone.</summary>
    public async Task KillAsync()
    {
        if (!_leader.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-KILL", "--", "-" + GroupId.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false, RedirectStandardError = true })!;
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _leader.WaitForExitAsync(timeout.Token);

        // The group's other members (host, worker) are reparented and reaped; wait until none is left.
        await Poll.UntilAsync(() => Task.FromResult(!GroupAlive()), TimeSpan.FromSeconds(30), $"process group {GroupId} to end");
    }

    public string Tail(int lines)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException ex)
        {
            return $"(log {LogPath} unreadable: {ex.Message})";
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _leader.Dispose();
    }

    private bool GroupAlive()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadGroupId(pid) == GroupId && !IsZombie(pid))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Field 5 of <c>/proc/PID/stat</c> (after the parenthesised command name, which may hold spaces).</summary>
    private static int? ReadGroupId(int pid) =>
        StatFields(pid) is { Length: > 2 } fields && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pgid) ? pgid : null;

    private static bool IsZombie(int pid) => StatFields(pid) is { Length: > 0 } fields && fields[0] is "Z" or "X";

    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
