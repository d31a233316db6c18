using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Events;

/// <summary>
/// The app as a child process killed (SIGKILL) right after a ticket's write, before anything relays its event; the app
/// restarted on the same database must still put the event in the feed.
/// </summary>
public class EventKillTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_ticket_created_just_before_a_crash_still_appears_in_the_feed_after_the_restart()
    {
        var directory = TempDirectory.Create();
        await using (var process = AppProcess.StartStandalone(directory, "ticket-created"))
        {
            var address = await process.ListeningAddressAsync();
            var key = AuthOptions.DefaultDevKeyPath(Path.Combine(directory, "itsm.db"));
            using var sam = new HttpClient { BaseAddress = address };
            sam.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", DevTokens.Mint(key, "sam", [AppRoles.Agent], "contoso", "Sam Agent"));

            // The process dies right after the ticket's transaction, before its event is placed in the log.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => sam.PostAsync("/api/tickets", new StringContent("""{"type":"Incident","title":"Disk full"}""", Encoding.UTF8, "application/json")));
            await process.ExitAsync(Patience);
        }

        // Restarted with its clock past the follow-up sweep's age, so the sweep places the event at once.
        await using var app = await StandaloneApp.StartAsync(directory: directory, clock: new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(2)));
        var agent = app.As("sam", "contoso", AppRoles.Agent);
        var deadline = DateTime.UtcNow + Patience;
        JsonElement[] items;
        while (true)
        {
            var response = await agent.GetAsync("/api/events");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            items = [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray()];
            if (items.Length > 0)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the event of the ticket written before the crash never reached the feed");
            await Task.Delay(100);
        }

        var created = Assert.Single(items);
        Assert.Equal("ticket.created", created.GetProperty("type").GetString());
        Assert.Equal("Disk full", created.GetProperty("data").GetProperty("title").GetString());
        Assert.Equal(1, created.GetProperty("position").GetInt64());
    }
}
