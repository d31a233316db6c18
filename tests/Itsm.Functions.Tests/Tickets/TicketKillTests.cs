using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>
/// The app as a child process, killed (SIGKILL) at a named point between two writes (<see cref="CrashPoints"/>), then
/// restarted on the same database: what the crash left behind must be whole once the app has run again.
/// </summary>
public partial class TicketKillTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_comment_written_just_before_a_crash_still_notifies_the_requester_after_the_restart()
    {
        var directory = TempDirectory.Create();
        string ticketId;
        await using (var process = Start(directory, "ticket-written:comment"))
        {
            var (ana, sam) = await ClientsAsync(process, directory);
            var created = await ana.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Laptop will not boot"}"""));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            ticketId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

            // The process dies right after the comment's write, before anything else runs.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => sam.PostAsync($"/api/tickets/{ticketId}/actions/comment", Json("""{"body":"We are on it."}""")));
            await process.ExitAsync(Patience);
        }

        await using var app = await RestartAsync(directory);
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var comments = await app.As("sam", "contoso", AppRoles.Agent).GetFromJsonAsync<JsonElement>($"/api/tickets/{ticketId}/comments");
        Assert.Equal("We are on it.", Assert.Single(comments.GetProperty("items").EnumerateArray()).GetProperty("body").GetString());

        var notice = await PollAsync(async () =>
            (await admin.GetFromJsonAsync<JsonElement>("/api/manage/notifications/outbox")).GetProperty("items").EnumerateArray()
                .Where(n => n.GetProperty("eventKind").GetString() == "ticket.commented").ToArray() is { Length: > 0 } found ? found : null);
        var commented = Assert.Single(notice);
        Assert.Equal("ana@contoso.com", commented.GetProperty("recipient").GetProperty("email").GetString());
        Assert.Contains("We are on it.", commented.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    private static AppProcess Start(string directory, string crashPoint) => AppProcess.Start(new Dictionary<string, string>
    {
        ["Itsm__Sqlite__Path"] = Path.Combine(directory, "itsm.db"),
        ["Itsm__Standalone__Urls"] = "http://127.0.0.1:0",
        ["Logging__LogLevel__Default"] = "Warning",
        [CrashPoints.Variable] = crashPoint,
    });

    /// <summary>The app again on the same database, its clock past the killed process's timers (so the missed sweeps run at once).</summary>
    private static Task<StandaloneApp> RestartAsync(string directory) =>
        StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(2)));

    private static async Task<(HttpClient Ana, HttpClient Sam)> ClientsAsync(AppProcess process, string directory)
    {
        var address = await AddressAsync(process);
        var key = AuthOptions.DefaultDevKeyPath(Path.Combine(directory, "itsm.db"));
        HttpClient Client(string token) => new() { BaseAddress = address, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        return (Client(DevTokens.Mint(key, "ana", [], "contoso", "Ana Silva", "ana@contoso.com")), Client(DevTokens.Mint(key, "sam", [AppRoles.Agent], "contoso", "Sam Agent")));
    }

    /// <summary>Asks again every 100 ms until <paramref name="probe"/> finds something, for at most <see cref="Patience"/>.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T?>> probe)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < deadline, "nothing completed what the crash left behind in time");
            await Task.Delay(100);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<Uri> AddressAsync(AppProcess process)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var line in process.Output.Reader.ReadAllAsync(timeout.Token))
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
}
