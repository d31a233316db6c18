using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Events;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Events;

/// <summary>Webhooks end to end through the standalone host: subscribe, receive signed events, list and redeliver, survive a restart.</summary>
public class WebhookApiTests
{
    private static readonly Dictionary<string, string?> LocalTargets = new() { ["Itsm:Events:Webhooks:AllowLocalTargets"] = "true" };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> BodyAsync(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<(string Id, string Secret)> SubscribeAsync(HttpClient admin, string url, string types = "")
    {
        var body = await BodyAsync(await admin.PostAsync("/api/webhooks", Json($$"""{"url":"{{url}}"{{types}}}""")));
        return (body.GetProperty("subscription").GetProperty("id").GetString()!, body.GetProperty("secret").GetString()!);
    }

    /// <summary>What an integrator's receiver does (docs/events.md), written from the documentation, not from the app's code.</summary>
    private static bool VerifiedAsDocumented(string secret, WebhookReceiver.Received request, DateTimeOffset now)
    {
        var timestamp = request.Headers["Itsm-Webhook-Timestamp"];
        if (Math.Abs(now.ToUnixTimeSeconds() - long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture)) > 300)
        {
            return false;
        }

        var signed = Encoding.UTF8.GetBytes(timestamp + ".").Concat(request.Body).ToArray();
        var expected = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(request.Headers["Itsm-Webhook-Signature"]));
    }

    [Fact]
    public async Task An_admin_subscribes_and_the_next_ticket_change_arrives_signed_with_the_secret_shown_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var app = await StandaloneApp.StartAsync(settings: LocalTargets);
        var admin = app.As("root", "contoso", AppRoles.Admin);
        await BodyAsync(await admin.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Before the webhook"}""")));

        var (id, secret) = await SubscribeAsync(admin, receiver.Url(), ""","eventTypes":["ticket.created"]""");
        await BodyAsync(await admin.PostAsync("/api/cis", Json("""{"class":"server","name":"not-subscribed"}""")));
        await BodyAsync(await admin.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"After the webhook"}""")));
        await app.Services.GetRequiredService<WebhookDispatcher>().RunAsync(CancellationToken.None);
        var request = await receiver.NextAsync();
        var shown = await BodyAsync(await admin.GetAsync($"/api/webhooks/{id}"));
        var listed = await BodyAsync(await admin.GetAsync("/api/webhooks"));
        var deliveries = await BodyAsync(await admin.GetAsync($"/api/webhooks/{id}/deliveries"));

        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("ticket.created", body.GetProperty("type").GetString());
        Assert.Equal("After the webhook", body.GetProperty("data").GetProperty("title").GetString());
        Assert.Equal(3, body.GetProperty("position").GetInt64());
        Assert.Equal("ticket.created", request.Headers["Itsm-Event-Type"]);
        Assert.StartsWith(id, request.Headers["Itsm-Webhook-Id"], StringComparison.Ordinal);
        Assert.True(VerifiedAsDocumented(secret, request, app.Clock.GetUtcNow()));
        Assert.False(VerifiedAsDocumented(secret, request with { Body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(request.Body).Replace("After", "Forged", StringComparison.Ordinal)) }, app.Clock.GetUtcNow()));
        Assert.False(VerifiedAsDocumented(secret, request, app.Clock.GetUtcNow().AddMinutes(10)));
        Assert.False(shown.TryGetProperty("secret", out _));
        Assert.DoesNotContain(secret, listed.GetRawText(), StringComparison.Ordinal);
        var delivery = Assert.Single(deliveries.GetProperty("items").EnumerateArray());
        Assert.Equal("Succeeded", delivery.GetProperty("status").GetString());
        Assert.Empty(receiver.Drain());
    }

    [Fact]
    public async Task Admins_only_bad_targets_and_event_types_are_named_and_tenants_do_not_see_each_others_webhooks()
    {
        await using var app = await StandaloneApp.StartAsync();
        var admin = app.As("root", "contoso", AppRoles.Admin);

        var agent = await app.As("sam", "contoso", AppRoles.Agent).PostAsync("/api/webhooks", Json("""{"url":"https://8.8.8.8/hook"}"""));
        var bad = await admin.PostAsync("/api/webhooks", Json("""{"url":"http://169.254.169.254/latest","eventTypes":["ticket.exploded"],"extra":1}"""));
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        var internalHttps = await admin.PostAsync("/api/webhooks", Json("""{"url":"https://10.0.0.4/hook"}"""));
        var (id, _) = await SubscribeAsync(admin, "https://8.8.8.8/hook");
        var otherTenant = await app.As("fay", "fabrikam", AppRoles.Admin).GetAsync($"/api/webhooks/{id}");
        var deleted = await admin.DeleteAsync($"/api/webhooks/{id}");
        var gone = await admin.GetAsync($"/api/webhooks/{id}");

        Assert.Equal(HttpStatusCode.Forbidden, agent.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("https", problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("errors").TryGetProperty("eventTypes", out _));
        Assert.True(problem.GetProperty("errors").TryGetProperty("extra", out _));
        Assert.Equal(HttpStatusCode.BadRequest, internalHttps.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_failed_delivery_is_listed_as_failed_and_an_admin_redelivers_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = 500;
        var settings = new Dictionary<string, string?>(LocalTargets) { ["Itsm:Events:Webhooks:MaxAttempts"] = "1" };
        await using var app = await StandaloneApp.StartAsync(settings: settings);
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var (id, _) = await SubscribeAsync(admin, receiver.Url());
        await BodyAsync(await admin.PostAsync("/api/cis", Json("""{"class":"server","name":"web-01"}""")));
        var dispatcher = app.Services.GetRequiredService<WebhookDispatcher>();

        await dispatcher.RunAsync(CancellationToken.None);
        var failed = Assert.Single((await BodyAsync(await admin.GetAsync($"/api/webhooks/{id}/deliveries?status=Failed"))).GetProperty("items").EnumerateArray());
        receiver.Status = 204;
        var redeliver = await admin.PostAsync($"/api/webhooks/{id}/deliveries/{failed.GetProperty("id").GetString()}/redeliver", null);
        await dispatcher.RunAsync(CancellationToken.None);
        var after = Assert.Single((await BodyAsync(await admin.GetAsync($"/api/webhooks/{id}/deliveries"))).GetProperty("items").EnumerateArray());
        var badStatus = await admin.GetAsync($"/api/webhooks/{id}/deliveries?status=Lost");

        Assert.Equal(500, failed.GetProperty("lastStatusCode").GetInt32());
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal("Succeeded", after.GetProperty("status").GetString());
        Assert.Equal(2, receiver.Drain().Count);
        Assert.Equal(HttpStatusCode.BadRequest, badStatus.StatusCode);
    }

    [Fact]
    public async Task A_change_written_before_the_host_went_down_undelivered_is_delivered_after_the_restart()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var directory = TempDirectory.Create();
        string id;
        await using (var app = await StandaloneApp.StartAsync(settings: LocalTargets, directory: directory))
        {
            var admin = app.As("root", "contoso", AppRoles.Admin);
            (id, _) = await SubscribeAsync(admin, receiver.Url());
            await BodyAsync(await admin.PostAsync("/api/tickets", Json("""{"type":"Incident","title":"Written, never delivered"}""")));
        }

        await using var restarted = await StandaloneApp.StartAsync(settings: LocalTargets, directory: directory);
        await restarted.Services.GetRequiredService<WebhookDispatcher>().RunAsync(CancellationToken.None);
        var request = await receiver.NextAsync();

        Assert.Equal("Written, never delivered", JsonDocument.Parse(request.Body).RootElement.GetProperty("data").GetProperty("title").GetString());
        Assert.StartsWith(id, request.Headers["Itsm-Webhook-Id"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_retention_purge_deletes_finished_deliveries_and_keeps_pending_ones()
    {
        await using var up = await WebhookReceiver.StartAsync();
        await using var down = await WebhookReceiver.StartAsync();
        down.Status = 503;
        // The down subscriber's retry is due only after the purge: advancing the fake clock two days fires the dispatch
        // timer at every step in between, which with the default backoff would exhaust the attempts and fail it.
        var settings = new Dictionary<string, string?>(LocalTargets)
        {
            ["Itsm:Events:Retention"] = "1.00:00:00",
            ["Itsm:Events:Webhooks:InitialBackoff"] = "3.00:00:00",
            ["Itsm:Events:Webhooks:MaxBackoff"] = "3.00:00:00",
        };
        await using var app = await StandaloneApp.StartAsync(settings: settings);
        var admin = app.As("root", "contoso", AppRoles.Admin);
        var (upId, _) = await SubscribeAsync(admin, up.Url());
        var (downId, _) = await SubscribeAsync(admin, down.Url());
        await BodyAsync(await admin.PostAsync("/api/cis", Json("""{"class":"server","name":"web-01"}""")));

        // A dispatch round that stops (a busy database on a loaded machine) is resumed by the next one: run rounds until
        // the up subscriber has its delivery and the down one its pending delivery, as the timer would.
        async Task<string[]> StatusesAsync(string subscription) =>
            (await BodyAsync(await admin.GetAsync($"/api/webhooks/{subscription}/deliveries"))).GetProperty("items").EnumerateArray().Select(d => d.GetProperty("status").GetString()!).ToArray();
        for (var round = 0; round < 5; round++)
        {
            await app.Services.GetRequiredService<WebhookDispatcher>().RunAsync(CancellationToken.None);
            if ((await StatusesAsync(upId)).SequenceEqual(["Succeeded"]) && (await StatusesAsync(downId)).Length == 1)
            {
                break;
            }
        }

        Assert.Equal(["Succeeded"], await StatusesAsync(upId));
        app.Clock.Advance(TimeSpan.FromDays(2));
        await ActivatorUtilities.CreateInstance<EventFunctions>(app.Services).EventsPurge(null!, CancellationToken.None);
        var later = app.As("root", "contoso", AppRoles.Admin);
        var upDeliveries = await BodyAsync(await later.GetAsync($"/api/webhooks/{upId}/deliveries"));
        var downDeliveries = await BodyAsync(await later.GetAsync($"/api/webhooks/{downId}/deliveries"));

        Assert.Empty(upDeliveries.GetProperty("items").EnumerateArray());
        Assert.Equal("Pending", Assert.Single(downDeliveries.GetProperty("items").EnumerateArray()).GetProperty("status").GetString());
    }
}
