using System.Net;
using System.Security.Cryptography;
using System.Text;
using Itsm.Functions.Events;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.Functions.Tests.Events;

/// <summary>Webhook rules (signature, targets, backoff) and the dispatcher against local subscribers, on a fake clock.</summary>
public class WebhookDeliveryTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private const string WorkedSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string WorkedBody = """{"id":"evt-1","position":1,"type":"ticket.created"}""";

    [Fact]
    public void The_worked_example_of_docs_events_md_signs_and_verifies()
    {
        var body = Encoding.UTF8.GetBytes(WorkedBody);

        var signature = WebhookSignature.Sign(WorkedSecret, 1772438400, body);

        Assert.Equal("v1=73d228db1ebcd1f870c142088c3116897d8fe99d6822514c6fa9e59597691a37", signature);
        Assert.True(WebhookSignature.Verify(WorkedSecret, "1772438400", signature, body, Now.AddMinutes(4)));
    }

    [Fact]
    public void A_forged_body_a_wrong_secret_a_moved_timestamp_or_a_replay_after_the_tolerance_is_detected()
    {
        var body = Encoding.UTF8.GetBytes(WorkedBody);
        var signature = WebhookSignature.Sign(WorkedSecret, 1772438400, body);

        Assert.False(WebhookSignature.Verify(WorkedSecret, "1772438400", signature, Encoding.UTF8.GetBytes(WorkedBody.Replace("created", "updated", StringComparison.Ordinal)), Now));
        Assert.False(WebhookSignature.Verify("whsec_other", "1772438400", signature, body, Now));
        Assert.False(WebhookSignature.Verify(WorkedSecret, "1772438460", signature, body, Now));
        Assert.False(WebhookSignature.Verify(WorkedSecret, "1772438400", signature, body, Now.AddMinutes(6)));
        Assert.False(WebhookSignature.Verify(WorkedSecret, null, signature, body, Now));
    }

    [Theory]
    [InlineData("http://hooks.example.com/x", "https")]
    [InlineData("https://127.0.0.1/x", "loopback")]
    [InlineData("https://localhost:8443/x", "loopback")]
    [InlineData("https://[::1]/x", "loopback")]
    [InlineData("https://169.254.169.254/metadata/instance", "internal")]
    [InlineData("https://10.1.2.3/x", "internal")]
    [InlineData("https://172.20.0.5/x", "internal")]
    [InlineData("https://192.168.1.10/x", "internal")]
    [InlineData("https://100.64.0.1/x", "internal")]
    [InlineData("https://168.63.129.16/x", "internal")]
    [InlineData("https://[fd00::1]/x", "internal")]
    [InlineData("https://[fe80::1]/x", "internal")]
    [InlineData("https://[::ffff:10.0.0.1]/x", "internal")]
    [InlineData("https://user:pw@8.8.8.8/x", "credentials")]
    [InlineData("ftp://8.8.8.8/x", "https")]
    public async Task Internal_or_insecure_targets_are_refused_with_the_reason(string url, string reason)
    {
        var refusal = await WebhookTargets.RefusalAsync(url, allowLocal: false, CancellationToken.None);

        Assert.NotNull(refusal);
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_https_address_is_accepted()
    {
        Assert.Null(await WebhookTargets.RefusalAsync("https://8.8.8.8/hooks/itsm?x=1", allowLocal: false, CancellationToken.None));
    }

    [Fact]
    public async Task A_delivery_never_connects_to_an_internal_address_even_when_the_name_resolves_there_later()
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => WebhookTargets.ConnectAsync("localhost", 9, allowLocal: false, CancellationToken.None).AsTask());

        Assert.Contains("internal", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backoff_doubles_from_the_initial_wait_up_to_the_cap_and_the_limit_marks_the_delivery_failed()
    {
        var settings = new ItsmOptions.WebhookSettings { InitialBackoff = TimeSpan.FromSeconds(30), MaxBackoff = TimeSpan.FromMinutes(5), MaxAttempts = 3 };
        var delivery = Delivery();

        Assert.Equal(
            [TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(120), TimeSpan.FromSeconds(240), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)],
            Enumerable.Range(1, 6).Select(n => WebhookBackoff.After(n, settings)));
        var once = WebhookBackoff.Failed(delivery, Now, 500, "HTTP 500", settings);
        var thrice = WebhookBackoff.Failed(WebhookBackoff.Failed(once, Now, 500, "HTTP 500", settings), Now, null, "timeout", settings);
        Assert.Equal((DeliveryStatus.Pending, 1, Now.AddSeconds(30)), (once.Status, once.Attempts, once.NextAttemptAt));
        Assert.Equal((DeliveryStatus.Failed, 3, "timeout"), (thrice.Status, thrice.Attempts, thrice.LastError));
    }

    [Fact]
    public async Task A_failing_subscriber_is_retried_only_when_the_backoff_has_passed_then_marked_failed_and_can_be_redelivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = 500;
        var (clock, log, store, dispatcher) = Harness(new ItsmOptions.WebhookSettings { MaxAttempts = 3, InitialBackoff = TimeSpan.FromSeconds(30), AllowLocalTargets = true });
        await store.CreateAsync(Subscription("s1", receiver.Url()), CancellationToken.None);
        await log.AppendAsync(Event("a"), CancellationToken.None);

        await dispatcher.RunAsync(CancellationToken.None);
        await dispatcher.RunAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(29));
        await dispatcher.RunAsync(CancellationToken.None);
        var beforeBackoff = receiver.Drain().Count;
        clock.Advance(TimeSpan.FromSeconds(1));
        await dispatcher.RunAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(60));
        await dispatcher.RunAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(2));
        await dispatcher.RunAsync(CancellationToken.None);
        var afterLimit = receiver.Drain().Count;
        var failed = Assert.Single((await store.DeliveriesAsync("contoso", "s1", null, 10, null, CancellationToken.None)).Items);

        receiver.Status = 200;
        await store.ReplaceDeliveryAsync(failed.Document with { Status = DeliveryStatus.Pending, Attempts = 0, NextAttemptAt = clock.GetUtcNow() }, failed.ETag, CancellationToken.None);
        await dispatcher.RunAsync(CancellationToken.None);
        var redelivered = Assert.Single((await store.DeliveriesAsync("contoso", "s1", null, 10, null, CancellationToken.None)).Items).Document;

        Assert.Equal(1, beforeBackoff);
        Assert.Equal(2, afterLimit);
        Assert.Equal(DeliveryStatus.Failed, failed.Document.Status);
        Assert.Equal(3, failed.Document.Attempts);
        Assert.Equal(500, failed.Document.LastStatusCode);
        Assert.Single(receiver.Drain());
        Assert.Equal(DeliveryStatus.Succeeded, redelivered.Status);
    }

    [Fact]
    public async Task A_subscriber_outage_loses_nothing_and_after_it_every_event_arrives_in_log_order()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Status = 503;
        var (clock, log, store, dispatcher) = Harness(new ItsmOptions.WebhookSettings { MaxAttempts = 10, InitialBackoff = TimeSpan.FromSeconds(10), AllowLocalTargets = true });
        await store.CreateAsync(Subscription("s1", receiver.Url()), CancellationToken.None);

        foreach (var name in new[] { "a", "b", "c" })
        {
            await log.AppendAsync(Event(name), CancellationToken.None);
            await dispatcher.RunAsync(CancellationToken.None);
            clock.Advance(TimeSpan.FromSeconds(10));
        }

        receiver.Drain();
        receiver.Status = 204;
        clock.Advance(TimeSpan.FromMinutes(5));
        await dispatcher.RunAsync(CancellationToken.None);
        var received = receiver.Drain();

        Assert.Equal(["a", "b", "c"], received.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("data").GetProperty("name").GetString()));
        Assert.Equal(["1", "2", "3"], received.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("position").GetRawText()));
        Assert.All(received, r => Assert.True(WebhookSignature.Verify("whsec_s1", r.Headers[WebhookSignature.TimestampHeader], r.Headers[WebhookSignature.SignatureHeader], r.Body, clock.GetUtcNow())));
    }

    [Fact]
    public async Task A_slow_subscriber_does_not_hold_up_another_and_its_delivery_times_out_and_stays_due()
    {
        await using var slow = await WebhookReceiver.StartAsync();
        await using var fast = await WebhookReceiver.StartAsync();
        slow.Status = null;
        var (_, log, store, dispatcher) = Harness(new ItsmOptions.WebhookSettings { Timeout = TimeSpan.FromSeconds(3), AllowLocalTargets = true });
        await store.CreateAsync(Subscription("slow", slow.Url()), CancellationToken.None);
        await store.CreateAsync(Subscription("fast", fast.Url()), CancellationToken.None);
        await log.AppendAsync(Event("a"), CancellationToken.None);

        var round = dispatcher.RunAsync(CancellationToken.None);
        await slow.NextAsync();
        var fastGot = await fast.NextAsync();
        var roundStillWaitingForTheSlowOne = !round.IsCompleted;
        await round;
        var slowDelivery = Assert.Single((await store.DeliveriesAsync("contoso", "slow", null, 10, null, CancellationToken.None)).Items).Document;

        Assert.True(roundStillWaitingForTheSlowOne);
        Assert.Equal("1", System.Text.Json.JsonDocument.Parse(fastGot.Body).RootElement.GetProperty("position").GetRawText());
        Assert.Equal(DeliveryStatus.Pending, slowDelivery.Status);
        Assert.Equal(1, slowDelivery.Attempts);
        Assert.Contains("no answer within 3 s", slowDelivery.LastError, StringComparison.Ordinal);
    }

    private static (FakeTimeProvider Clock, EventLog Log, WebhookStore Store, WebhookDispatcher Dispatcher) Harness(ItsmOptions.WebhookSettings settings)
    {
        var documents = new SqliteDocumentStore(new SqliteDatabase(Path.Combine(TempDirectory.Create(), "hooks.db")));
        var clock = new FakeTimeProvider(Now);
        var log = new EventLog(documents, clock);
        var store = new WebhookStore(documents);
        var options = new ItsmOptions { Events = new ItsmOptions.EventSettings { Webhooks = settings } };
        return (clock, log, store, new WebhookDispatcher(store, log, options, clock, NullLogger<WebhookDispatcher>.Instance));
    }

    private static WebhookSubscription Subscription(string id, string url) => new()
    {
        Id = id,
        TenantId = "contoso",
        Url = url,
        Secret = "whsec_" + id,
        CreatedAt = Now,
        CreatedBy = "root",
    };

    private static FeedEvent Event(string name) =>
        EventSequencer.NewEvent("contoso", "ci.updated", new EventSubject("ci", name), name, Now, new { name });

    private static WebhookDelivery Delivery() => new()
    {
        Id = "d",
        TenantId = "contoso",
        SubscriptionId = "s",
        EventId = "e",
        EventType = "ci.updated",
        Position = 1,
        Body = "{}",
        Status = DeliveryStatus.Pending,
        NextAttemptAt = Now,
        CreatedAt = Now,
    };
}
