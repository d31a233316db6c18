using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Tests.Support;
using static Itsm.Functions.Tests.Intake.IntakeFixture;

namespace Itsm.Functions.Tests.Intake;

/// <summary>The tenant of intake comes from the source's configuration; sizes are bounded.</summary>
public class IntakeIsolationTests
{
    private static readonly Dictionary<string, string?> Fabrikam = new()
    {
        ["Itsm:Intake:Sources:4:Name"] = "help@fabrikam.com",
        ["Itsm:Intake:Sources:4:TenantId"] = "fabrikam",
    };

    [Fact]
    public async Task A_tag_naming_another_tenants_ticket_does_not_reach_it()
    {
        await using var app = await StartAsync(Fabrikam);
        var fabrikamTicket = await app.ProcessAsync(Mail("f-1@fabrikam.com", "fred@fabrikam.com", "Fabrikam printer", "Jammed.", mailbox: "help@fabrikam.com"));

        var contoso = await app.ProcessAsync(Mail("c-1@contoso.com", "ana@contoso.com", $"RE: [{fabrikamTicket.TicketNumber}] Fabrikam printer", "Let me in.") with
        {
            InReplyTo = "<f-1@fabrikam.com>",
        });

        Assert.Equal(IntakeOutcomeKind.TicketCreated, contoso.Kind);
        Assert.Single(await app.TicketsAsync("contoso"));
        var fabrikam = Assert.Single(await app.TicketsAsync("fabrikam"));
        Assert.Empty(await app.CommentsAsync(fabrikam.Id, "fabrikam"));
    }

    [Fact]
    public async Task An_oversized_message_goes_to_the_poison_queue_and_raises_nothing()
    {
        await using var app = await StartAsync();
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        var body = System.Text.Json.JsonSerializer.Serialize(Mail("big@contoso.com", "ana@contoso.com", "Huge", new string('x', IntakeMessage.MaxBodyLength + 1)), Itsm.Functions.Hosting.HttpResults.Json);

        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(body, "broker-1"));
        await app.DrainIntakeAsync(async () => (await queue.GetDeadLettersAsync(IntakeFunctions.QueueName)).Count == 1);

        Assert.Equal(body, Assert.Single(await queue.GetDeadLettersAsync(IntakeFunctions.QueueName)).Body);
        Assert.Empty(await app.TicketsAsync());
    }

    [Fact]
    public void The_alert_key_is_the_rule_and_the_resources_whatever_their_order_and_case()
    {
        static string Key(string rule, params string[] targets) =>
            AzureMonitorAlert.Parse(
                System.Text.Json.JsonSerializer.Serialize(new { schemaId = AzureMonitorAlert.SchemaId, data = new { essentials = new { alertId = "a", alertRule = rule, monitorCondition = "Fired", alertTargetIDs = targets } } }),
                "s",
                StandaloneApp.Epoch).Message!.CorrelationKey!;

        Assert.Equal(Key("cpu", "/vm/A", "/vm/b"), Key("cpu", "/vm/B", "/vm/a"));
        Assert.NotEqual(Key("cpu", "/vm/a"), Key("cpu", "/vm/b"));
        Assert.NotEqual(Key("cpu", "/vm/a"), Key("disk", "/vm/a"));
    }

    [Theory]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertRule":"cpu","monitorCondition":"Fired"}}}""", "data.essentials.alertId")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"cpu","monitorCondition":"Flapping"}}}""", "data.essentials.monitorCondition")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema"}""", "data.essentials")]
    [InlineData("""[1,2]""", "schemaId")]
    public void Malformed_alerts_name_the_field(string json, string field)
    {
        var (message, errors) = AzureMonitorAlert.Parse(json, "s", StandaloneApp.Epoch);
        Assert.Null(message);
        Assert.Contains(field, errors!.Keys);
    }
}
