using System.Net;
using System.Text;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Storage;

/// <summary>The database holds everything (tickets, people, tokens' key beside it): only its owner may read it.</summary>
public class DatabaseFilePermissionTests
{
    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    [Fact]
    public async Task The_database_folder_and_every_database_file_are_created_owner_only()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = TempDirectory.Create();
        var folder = Path.Combine(root, "data", ".itsm");
        await using (var app = await StandaloneApp.StartAsync(settings: new Dictionary<string, string?> { ["Itsm:Sqlite:Path"] = Path.Combine(folder, "itsm.db") }, directory: folder))
        {
            var created = await app.As("sam", "contoso", AppRoles.Agent).PostAsync("/api/tickets", new StringContent("""{"type":"Incident","title":"Disk full"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await app.WaitForDurableIdleAsync();

            var files = Directory.GetFiles(folder);
            Assert.Contains(files, f => f.EndsWith("itsm.db", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("itsm.db-wal", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith(".durable.db", StringComparison.Ordinal));
            Assert.All(files, f => Assert.True((Mode(f) & GroupOrOthers) == 0, $"{Path.GetFileName(f)} is {Mode(f)}"));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Mode(folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Mode(Path.GetDirectoryName(folder)!));
        }
    }

    private static UnixFileMode Mode(string path) => OperatingSystem.IsWindows() ? 0 : File.GetUnixFileMode(path);
}
