using System.Text;
using System.Text.Json;
using Itsm.Functions.Events;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Events;

/// <summary>The Service Bus publisher at the SDK boundary: a fake sender behind <see cref="IEventTopicSender"/>, the app through the standalone host.</summary>
public class TopicPublisherTests
{
    /// <summary>Records what would go to the topic; throws while <see cref="Down"/> (a Service Bus outage).</summary>
    private sealed class FakeTopic : IEventTopicSender
    {
        public List<TopicMessage> Sent { get; } = [];

        public bool Down { get; set; }

        public int Calls { get; private set; }

        public Task SendAsync(IReadOnlyList<TopicMessage> messages, CancellationToken cancellationToken)
        {
            Calls++;
            if (Down)
            {
                throw new InvalidOperationException("Service Bus is unavailable (test).");
            }

            Sent.AddRange(messages);
            return Task.CompletedTask;
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<string> CreateTicketAsync(HttpClient client, string title)
    {
        var response = await client.PostAsync("/api/tickets", Json($$"""{"type":"Incident","title":"{{title}}"}"""));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Events_go_to_the_topic_in_log_order_with_the_ticket_as_session_and_an_outage_loses_none()
    {
        var topic = new FakeTopic();
        await using var app = await StandaloneApp.StartAsync(services: s => s.AddSingleton<IEventTopicSender>(topic));
        var sam = app.As("sam", "contoso", AppRoles.Agent);
        var publisher = app.Services.GetRequiredService<TopicPublisher>();
        var first = await CreateTicketAsync(sam, "One");
        await publisher.RunAsync(CancellationToken.None);

        topic.Down = true;
        var second = await CreateTicketAsync(sam, "Two");
        var third = await CreateTicketAsync(sam, "Three");
        await app.As("fay", "fabrikam", AppRoles.Agent).PostAsync("/api/cis", Json("""{"class":"server","name":"other-tenant"}"""));
        var duringOutage = await publisher.RunAsync(CancellationToken.None);
        topic.Down = false;
        var afterOutage = await publisher.RunAsync(CancellationToken.None);
        var nothingLeft = await publisher.RunAsync(CancellationToken.None);

        Assert.Equal(0, duringOutage);
        Assert.Equal(3, afterOutage);
        Assert.Equal(0, nothingLeft);
        var contoso = topic.Sent.Where(m => m.TenantId == "contoso").ToArray();
        Assert.Equal([first, second, third], contoso.Select(m => m.SessionId));
        Assert.Equal([1L, 2L, 3L], contoso.Select(m => m.Position));
        Assert.All(contoso, m => Assert.Equal("ticket.created", m.Subject));
        Assert.Equal(contoso.Length, contoso.Select(m => m.MessageId).Distinct().Count());
        Assert.Equal("Three", JsonDocument.Parse(contoso[2].Body).RootElement.GetProperty("data").GetProperty("title").GetString());
        Assert.Single(topic.Sent, m => m.TenantId == "fabrikam");
    }

    [Fact]
    public void A_topic_message_carries_the_event_id_session_type_and_tenant_to_the_service_bus_sdk()
    {
        var message = new TopicMessage("evt-1", "ticket-7", "change.updated", """{"id":"evt-1"}""", "contoso", 42);

        var sdk = ServiceBusTopicSender.ToMessage(message);

        Assert.Equal("evt-1", sdk.MessageId);
        Assert.Equal("ticket-7", sdk.SessionId);
        Assert.Equal("change.updated", sdk.Subject);
        Assert.Equal("application/json", sdk.ContentType);
        Assert.Equal("""{"id":"evt-1"}""", sdk.Body.ToString());
        Assert.Equal("contoso", sdk.ApplicationProperties["tenantId"]);
        Assert.Equal(42L, sdk.ApplicationProperties["position"]);
    }
}
