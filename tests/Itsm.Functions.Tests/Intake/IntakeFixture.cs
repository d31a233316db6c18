using System.Security.Cryptography;
using System.Text;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Storage;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Intake;

/// <summary>Intake settings used by the tests: a service-desk mailbox, a strict mailbox, a Teams webhook and an alert endpoint, all for contoso.</summary>
public static class IntakeFixture
{
    public const string Mailbox = "servicedesk@contoso.com";
    public const string StrictMailbox = "strict@contoso.com";
    public const string ClientState = "graph-client-state-1";
    public const string AlertToken = "alert-token-1";
    public static readonly string TeamsSecret = Convert.ToBase64String(Encoding.UTF8.GetBytes("teams-shared-secret-0123456789ab"));
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static Dictionary<string, string?> Settings(Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Itsm:Intake:Sources:0:Name"] = Mailbox,
            ["Itsm:Intake:Sources:0:TenantId"] = "contoso",
            ["Itsm:Intake:Sources:0:Secret"] = ClientState,
            ["Itsm:Intake:Sources:0:OwnAddresses:0"] = "notify@contoso.com",
            ["Itsm:Intake:Sources:1:Name"] = StrictMailbox,
            ["Itsm:Intake:Sources:1:TenantId"] = "contoso",
            ["Itsm:Intake:Sources:1:UnknownSenders"] = "Reject",
            ["Itsm:Intake:Sources:1:KnownSenderDomains:0"] = "contoso.com",
            ["Itsm:Intake:Sources:2:Name"] = "teams-desk",
            ["Itsm:Intake:Sources:2:TenantId"] = "contoso",
            ["Itsm:Intake:Sources:2:Secret"] = TeamsSecret,
            ["Itsm:Intake:Sources:3:Name"] = "azure-monitor",
            ["Itsm:Intake:Sources:3:TenantId"] = "contoso",
            ["Itsm:Intake:Sources:3:Secret"] = AlertToken,
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    public static Task<StandaloneApp> StartAsync(Dictionary<string, string?>? extra = null, Action<IServiceCollection>? services = null) =>
        StandaloneApp.StartAsync(settings: Settings(extra), services: services);

    public static IntakeMessage Mail(string id, string sender, string subject, string body, string mailbox = Mailbox) =>
        new("email", id, sender, subject, body, StandaloneApp.Epoch) { Source = mailbox, InternetMessageId = $"<{id}>" };

    public static Task<IntakeOutcome> ProcessAsync(this StandaloneApp app, IntakeMessage message) =>
        app.Services.GetRequiredService<IntakeProcessor>().ProcessAsync(message, null, CancellationToken.None);

    public static async Task<List<Ticket>> TicketsAsync(this StandaloneApp app, string tenant = "contoso")
    {
        var page = await app.Services.GetRequiredService<TicketStore>().QueryTicketsAsync(tenant, [], new QuerySort("number", false), 100, null, CancellationToken.None);
        return page.Items.Select(i => i.Document).ToList();
    }

    public static async Task<List<TicketComment>> CommentsAsync(this StandaloneApp app, string ticketId, string tenant = "contoso")
    {
        var page = await app.Services.GetRequiredService<TicketStore>().QueryPartitionAsync<TicketComment>(tenant, ticketId, TicketComment.DocumentType, 100, null, CancellationToken.None);
        return page.Items.Select(i => i.Document).ToList();
    }

    public static async Task<List<OutboxNotification>> OutboxAsync(this StandaloneApp app, string tenant = "contoso")
    {
        var page = await app.Services.GetRequiredService<NotificationOutbox>().ListAsync(tenant, null, 200, null, CancellationToken.None);
        return page.Items.Select(i => i.Document).ToList();
    }

    /// <summary>Waits until the intake queue is empty and nothing is in flight.</summary>
    public static async Task DrainIntakeAsync(this StandaloneApp app, Func<Task<bool>>? until = null)
    {
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            var changed = queue.Signal(IntakeFunctions.QueueName).WaitAsync();
            if (await queue.CountActiveAsync(IntakeFunctions.QueueName) == 0 && (until is null || await until()))
            {
                return;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    public static string TeamsSignature(string body) =>
        "HMAC " + Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(TeamsSecret), Encoding.UTF8.GetBytes(body)));
}
