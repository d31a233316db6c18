using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Tickets;

/// <summary>Features that react to ticket writes see each stored write once, and cannot break or undo it.</summary>
public class TicketObserverTests
{
    private sealed class Recorder : ITicketChangeObserver
    {
        public List<TicketChange> Changes { get; } = [];

        public Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken)
        {
            lock (Changes)
            {
                Changes.Add(change);
            }

            return Task.CompletedTask;
        }
    }

    private sealed class Broken : ITicketChangeObserver
    {
        public Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("the notification service is down");
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Each_stored_write_reaches_every_observer_even_when_one_before_it_fails()
    {
        var recorder = new Recorder();
        await using var app = await StandaloneApp.StartAsync(services: s => s.AddSingleton<ITicketChangeObserver, Broken>().AddSingleton<ITicketChangeObserver>(recorder));
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        var created = await agent.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Mail down","impact":1,"urgency":1}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await agent.PostAsync($"/api/tickets/{id}/actions/start", Json("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await agent.PostAsync($"/api/tickets/{id}/actions/reopen", Json("{}"))).StatusCode);

        Assert.Equal(2, recorder.Changes.Count);
        Assert.True(recorder.Changes[0].Created);
        Assert.Equal((TicketState.New, TicketState.InProgress), (recorder.Changes[1].Before!.State, recorder.Changes[1].After.State));
        Assert.Equal((1, 2), (recorder.Changes[0].After.Revision, recorder.Changes[1].After.Revision));
        Assert.NotNull(recorder.Changes[1].Durable);
        Assert.Equal("sam", recorder.Changes[1].Actor.UserId);
        var stored = await agent.GetFromJsonAsync<JsonElement>($"/api/tickets/{id}");
        Assert.Equal("InProgress", stored.GetProperty("state").GetString());
    }
}
