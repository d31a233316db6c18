using System.Net;
using System.Net.Sockets;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>What a person starting the app sees when it cannot start.</summary>
public class StartupMessagesTests
{
    [Fact]
    public async Task A_port_in_use_is_one_line_naming_the_port_and_the_setting_with_exit_code_2_and_no_stack_trace()
    {
        using var occupant = new TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var directory = TempDirectory.Create();

        await using var process = AppProcess.Start(new Dictionary<string, string>
        {
            ["Itsm__Sqlite__Path"] = Path.Combine(directory, "itsm.db"),
            ["Itsm__Standalone__Urls"] = $"http://127.0.0.1:{port}",
        });
        var (exitCode, lines) = await process.ExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var line = Assert.Single(lines, l => l.Trim().Length > 0);
        Assert.Contains($"Port {port} is already in use", line, StringComparison.Ordinal);
        Assert.Contains("Itsm__Standalone__Urls", line, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "itsm.db")), "nothing is created when the app cannot listen");
    }
}
