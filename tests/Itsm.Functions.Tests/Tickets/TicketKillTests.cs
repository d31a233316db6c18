using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>
/// The app as a child process, killed (SIGKILL) at a named point between two writes (<see cref="CrashPoints"/>), then
/// restarted on the same database: what the crash left behind must be whole once the app has run again.
/// </summary>
public class TicketKillTests
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

    [Fact]
    public async Task A_merge_cut_short_by_a_crash_is_completed_after_the_restart_and_never_left_half_done()
    {
        var directory = TempDirectory.Create();
        string duplicateId, survivorId;
        await using (var process = Start(directory, "merge:first-write"))
        {
            var (ana, sam) = await ClientsAsync(process, directory);
            duplicateId = await CreateAsync(ana, "VPN down again");
            survivorId = await CreateAsync(sam, "VPN down for the whole floor");

            await Assert.ThrowsAnyAsync<HttpRequestException>(() => sam.PostAsync($"/api/tickets/{duplicateId}/actions/merge", Json($$"""{"into":"{{survivorId}}"}""")));
            await process.ExitAsync(Patience);
        }

        await using var app = await RestartAsync(directory);
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        // Once the app has run again the merge is whole: the duplicate closed as such, the survivor watched by its requester.
        var survivor = await PollAsync(async () =>
        {
            var read = await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{survivorId}");
            return read.GetProperty("watchers").EnumerateArray().Any(w => w.GetString() == "ana") ? (JsonElement?)read : null;
        });
        var duplicate = await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{duplicateId}");
        Assert.Equal("Closed", duplicate.GetProperty("state").GetString());
        Assert.Contains(duplicate.GetProperty("links").EnumerateArray(), l => l.GetProperty("kind").GetString() == "DuplicateOf" && l.GetProperty("ticketId").GetString() == survivorId);
        Assert.Equal(["ana"], survivor!.Value.GetProperty("watchers").EnumerateArray().Select(w => w.GetString()));
        Assert.Single(await ActionsAsync(agent, survivorId), a => a == "merged-in");
        Assert.Single(await ActionsAsync(agent, duplicateId), a => a == "merge");
    }

    [Fact]
    public async Task A_create_whose_answer_a_crash_cut_off_is_answered_again_not_repeated_when_sent_again_with_its_key()
    {
        var directory = TempDirectory.Create();
        const string body = """{"type":"Incident","title":"Badge reader dead"}""";
        await using (var process = Start(directory, "ticket-created"))
        {
            var (ana, _) = await ClientsAsync(process, directory);
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => ana.SendAsync(Keyed(body, "retry-me")));
            await process.ExitAsync(Patience);
        }

        await using var app = await RestartAsync(directory);
        var ana2 = app.As("ana", "contoso");
        var again = await ana2.SendAsync(Keyed(body, "retry-me"));

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        var tickets = (await app.As("sam", "contoso", AppRoles.Agent).GetFromJsonAsync<JsonElement>("/api/tickets")).GetProperty("items");
        Assert.Equal((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(), Assert.Single(tickets.EnumerateArray()).GetProperty("id").GetString());
    }

    private static HttpRequestMessage Keyed(string body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/tickets") { Content = Json(body) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return request;
    }

    private static AppProcess Start(string directory, string crashPoint) => AppProcess.StartStandalone(directory, crashPoint);

    /// <summary>The app again on the same database, its clock past the killed process's timers (so the missed sweeps run at once).</summary>
    private static Task<StandaloneApp> RestartAsync(string directory) =>
        StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(2)));

    private static async Task<(HttpClient Ana, HttpClient Sam)> ClientsAsync(AppProcess process, string directory)
    {
        var address = await process.ListeningAddressAsync();
        var key = AuthOptions.DefaultDevKeyPath(Path.Combine(directory, "itsm.db"));
        HttpClient Client(string token) => new() { BaseAddress = address, DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", token) } };
        return (Client(DevTokens.Mint(key, "ana", [], "contoso", "Ana Silva", "ana@contoso.com")), Client(DevTokens.Mint(key, "sam", [AppRoles.Agent], "contoso", "Sam Agent")));
    }

    private static async Task<string> CreateAsync(HttpClient client, string title)
    {
        var created = await client.PostAsync("/api/tickets", Json($$"""{"type":"Incident","title":"{{title}}"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<string[]> ActionsAsync(HttpClient agent, string ticketId) =>
        (await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{ticketId}/history")).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()!).ToArray();

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
}
