using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Hosting;

public class EmbeddedQueueTests
{
    private readonly FakeTimeProvider _clock = new(StandaloneApp.Epoch);

    private EmbeddedQueue CreateQueue(QueueOptions? options = null, string? path = null) =>
        new(new SqliteDatabase(path ?? Path.Combine(TempDirectory.Create(), "q.db")), _clock, options ?? new QueueOptions());

    [Fact]
    public async Task A_received_message_is_invisible_until_its_lock_expires_then_delivered_again()
    {
        var queue = CreateQueue(new QueueOptions { LockDuration = TimeSpan.FromSeconds(30) });
        await queue.SendAsync("intake", new OutgoingQueueMessage("hello", "m-1"));

        var first = await queue.ReceiveAsync("intake");
        _clock.Advance(TimeSpan.FromSeconds(29));
        var whileLocked = await queue.ReceiveAsync("intake");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var afterExpiry = await queue.ReceiveAsync("intake");

        Assert.NotNull(first);
        Assert.Equal(1, first.DeliveryCount);
        Assert.Null(whileLocked);
        Assert.NotNull(afterExpiry);
        Assert.Equal("m-1", afterExpiry.MessageId);
        Assert.Equal(2, afterExpiry.DeliveryCount);
        Assert.False(await queue.CompleteAsync(first), "the expired lock must not complete the redelivered message");
        Assert.True(await queue.CompleteAsync(afterExpiry));
        Assert.Equal(0, await queue.CountActiveAsync("intake"));
    }

    [Fact]
    public async Task An_abandoned_message_is_retried_after_a_growing_back_off()
    {
        var queue = CreateQueue(new QueueOptions { RetryDelay = TimeSpan.FromSeconds(1) });
        await queue.SendAsync("intake", new OutgoingQueueMessage("hello"));

        await queue.AbandonAsync((await queue.ReceiveAsync("intake"))!, "transient");
        Assert.Null(await queue.ReceiveAsync("intake"));
        _clock.Advance(TimeSpan.FromSeconds(1));
        var second = await queue.ReceiveAsync("intake");
        await queue.AbandonAsync(second!, "transient again");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var tooEarly = await queue.ReceiveAsync("intake");
        _clock.Advance(TimeSpan.FromSeconds(1));
        var third = await queue.ReceiveAsync("intake");

        Assert.Equal(2, second!.DeliveryCount);
        Assert.Null(tooEarly);
        Assert.Equal(3, third!.DeliveryCount);
    }

    [Fact]
    public async Task A_message_failing_on_every_delivery_is_dead_lettered_with_the_reason_after_the_maximum()
    {
        var queue = CreateQueue(new QueueOptions { MaxDeliveryCount = 3, RetryDelay = TimeSpan.Zero });
        await queue.SendAsync("intake", new OutgoingQueueMessage("poison", "m-poison"));

        for (var delivery = 1; delivery <= 3; delivery++)
        {
            var message = await queue.ReceiveAsync("intake");
            Assert.Equal(delivery, message!.DeliveryCount);
            await queue.AbandonAsync(message, "the body is not an intake message");
        }

        Assert.Null(await queue.ReceiveAsync("intake"));
        var dead = Assert.Single(await queue.GetDeadLettersAsync("intake"));
        Assert.Equal("m-poison", dead.MessageId);
        Assert.Equal("MaxDeliveryCountExceeded", dead.Reason);
        Assert.Equal("the body is not an intake message", dead.Description);
        Assert.Equal(3, dead.DeliveryCount);
    }

    [Fact]
    public async Task A_message_whose_handler_crashed_on_every_delivery_is_dead_lettered_when_its_last_lock_expires()
    {
        var queue = CreateQueue(new QueueOptions { MaxDeliveryCount = 2, LockDuration = TimeSpan.FromSeconds(10) });
        await queue.SendAsync("intake", new OutgoingQueueMessage("crashes the handler"));

        await queue.ReceiveAsync("intake");
        _clock.Advance(TimeSpan.FromSeconds(10));
        await queue.ReceiveAsync("intake");
        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Null(await queue.ReceiveAsync("intake"));
        Assert.Single(await queue.GetDeadLettersAsync("intake"));
    }

    [Fact]
    public async Task A_duplicate_message_id_within_the_window_is_dropped_and_accepted_again_after_it()
    {
        var queue = CreateQueue(new QueueOptions { DuplicateDetectionWindow = TimeSpan.FromMinutes(10) });

        var first = await queue.SendAsync("intake", new OutgoingQueueMessage("a", "ext-1"));
        _clock.Advance(TimeSpan.FromMinutes(9));
        var duplicate = await queue.SendAsync("intake", new OutgoingQueueMessage("a again", "ext-1"));
        var otherQueue = await queue.SendAsync("other", new OutgoingQueueMessage("a", "ext-1"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        var afterWindow = await queue.SendAsync("intake", new OutgoingQueueMessage("a later", "ext-1"));

        Assert.False(first.Duplicate);
        Assert.True(duplicate.Duplicate);
        Assert.False(otherQueue.Duplicate);
        Assert.False(afterWindow.Duplicate);
        Assert.Equal(2, await queue.CountActiveAsync("intake"));
    }

    [Fact]
    public async Task Messages_survive_reopening_the_database()
    {
        var path = Path.Combine(TempDirectory.Create(), "q.db");
        await CreateQueue(path: path).SendAsync("intake", new OutgoingQueueMessage("persisted", "m-9"));

        var reopened = CreateQueue(path: path);
        var message = await reopened.ReceiveAsync("intake");

        Assert.Equal("persisted", message!.Body);
    }

    [Fact]
    public async Task A_renewed_lock_keeps_a_slow_message_invisible()
    {
        var queue = CreateQueue(new QueueOptions { LockDuration = TimeSpan.FromSeconds(10) });
        await queue.SendAsync("intake", new OutgoingQueueMessage("slow"));
        var message = await queue.ReceiveAsync("intake");

        _clock.Advance(TimeSpan.FromSeconds(8));
        Assert.True(await queue.RenewLockAsync(message!));
        _clock.Advance(TimeSpan.FromSeconds(8));

        Assert.Null(await queue.ReceiveAsync("intake"));
        Assert.True(await queue.CompleteAsync(message!));
    }
}
