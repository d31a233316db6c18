using System.Threading.Channels;
using Azure.Storage.Queues.Models;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Intake;
using Itsm.Functions.Tests.Support;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>Queue and timer triggers of the standalone host, delivered to <c>[QueueTrigger]</c> and <c>[TimerTrigger]</c> functions.</summary>
public class StandaloneTriggerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_queue_function_failing_twice_is_retried_and_the_message_completed_on_the_third_delivery()
    {
        var probe = new Probe();
        var deliveries = probe.Deliveries;
        await using var app = await StandaloneApp.StartAsync(
            [typeof(QueueFunctions)],
            new Dictionary<string, string?> { ["Itsm:Queues:RetryDelay"] = "00:00:00" },
            services: s => s.AddSingleton(probe));
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();

        await queue.SendAsync("flaky", new OutgoingQueueMessage("{\"n\":1}", "m-1"));

        for (var expected = 1; expected <= 3; expected++)
        {
            var delivery = await deliveries.Reader.ReadAsync().AsTask().WaitAsync(Patience);
            Assert.Equal(("{\"n\":1}", expected, "m-1"), delivery);
        }

        await WaitUntilAsync(queue, "flaky", async () => await queue.CountActiveAsync("flaky") == 0);
        Assert.Empty(await queue.GetDeadLettersAsync("flaky"));
    }

    [Fact]
    public async Task A_message_that_always_fails_ends_in_the_poison_queue_with_the_functions_reason()
    {
        var probe = new Probe();
        await using var app = await StandaloneApp.StartAsync(
            [typeof(QueueFunctions)],
            new Dictionary<string, string?> { ["Itsm:Queues:RetryDelay"] = "00:00:00", ["Itsm:Queues:MaxDeliveryCount"] = "3" },
            services: s => s.AddSingleton(probe));
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();

        await queue.SendAsync("poisoned", new OutgoingQueueMessage("x", "m-poison"));

        await WaitUntilAsync(queue, "poisoned", async () => (await queue.GetDeadLettersAsync("poisoned")).Count == 1);
        var dead = Assert.Single(await queue.GetDeadLettersAsync("poisoned"));
        Assert.Equal(3, probe.PoisonedCalls);
        Assert.Equal(3, dead.DeliveryCount);
        Assert.Contains("never works", dead.Description, StringComparison.Ordinal);
        Assert.Equal(0, await queue.CountActiveAsync("poisoned"));
        Assert.Equal(1, await queue.CountActiveAsync("poisoned" + EmbeddedQueue.PoisonSuffix));

        // Resubmitted, it is delivered again from a dequeue count of zero.
        Assert.Equal(1, await queue.ResubmitPoisonAsync("poisoned"));
        await WaitUntilAsync(queue, "poisoned", async () => (await queue.GetDeadLettersAsync("poisoned")).Count == 1 && probe.PoisonedCalls == 6);
    }

    [Fact]
    public async Task Stopping_the_app_lets_a_message_being_handled_finish_and_be_completed()
    {
        var probe = new Probe();
        var (started, release) = (probe.SlowStarted, probe.SlowRelease);
        var app = await StandaloneApp.StartAsync([typeof(QueueFunctions)], services: s => s.AddSingleton(probe));
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        await queue.SendAsync("slow", new OutgoingQueueMessage("work", "m-slow"));
        await started.Task.WaitAsync(Patience);

        var stopping = app.App.StopAsync();
        Assert.False(stopping.IsCompleted, "the app stopped without waiting for the message being handled");
        release.SetResult();
        await stopping.WaitAsync(Patience);
        await app.DisposeAsync();

        Assert.Equal(0, await queue.CountActiveAsync("slow"));
        Assert.Empty(await queue.GetDeadLettersAsync("slow"));
    }

    [Fact]
    public async Task The_intake_function_stores_a_message_delivered_twice_only_once()
    {
        await using var app = await StandaloneApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Itsm:Intake:Sources:0:Name"] = "desk@contoso.com",
            ["Itsm:Intake:Sources:0:TenantId"] = "contoso",
        });
        var queue = app.Services.GetRequiredService<EmbeddedQueue>();
        var inbox = app.Services.GetRequiredService<IntakeInbox>();
        var body = """{"channel":"email","externalId":"<m-1@contoso.com>","sender":"ana@contoso.com","subject":"VPN down","body":"Since 8am","receivedAt":"2026-03-02T07:59:00Z","source":"desk@contoso.com"}""";

        // Two different broker message ids carrying the same external message: only the inbox can catch it.
        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(body, "broker-1"));
        await queue.SendAsync(IntakeFunctions.QueueName, new OutgoingQueueMessage(body, "broker-2"));

        await WaitUntilAsync(queue, IntakeFunctions.QueueName, async () => await queue.CountActiveAsync(IntakeFunctions.QueueName) == 0);
        var stored = await inbox.ListAsync(CancellationToken.None);
        Assert.Equal([("email", "<m-1@contoso.com>")], stored);
    }

    [Fact]
    public async Task A_timer_function_fires_at_its_scheduled_instant_with_the_schedule_status()
    {
        var probe = new Probe();
        var fired = probe.Fired;
        await using var app = await StandaloneApp.StartAsync([typeof(EveryFiveMinutesFunction)], services: s => s.AddSingleton(probe));
        var firstOccurrence = StandaloneApp.Epoch.AddMinutes(5);

        await app.Clock.WhenTimerScheduled(at => at == firstOccurrence).WaitAsync(Patience);
        app.Clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(59));
        Assert.False(fired.Reader.TryRead(out _), "fired before its occurrence");
        app.Clock.Advance(TimeSpan.FromSeconds(1));

        var firing = await fired.Reader.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(firstOccurrence, firing.At);
        Assert.False(firing.PastDue);
        Assert.Equal(StandaloneApp.Epoch.AddMinutes(10), firing.Next);
        await app.Clock.WhenTimerScheduled(at => at == StandaloneApp.Epoch.AddMinutes(10)).WaitAsync(Patience);
    }

    [Fact]
    public async Task An_occurrence_missed_while_the_app_was_down_runs_once_at_start_marked_past_due()
    {
        var directory = TempDirectory.Create();
        var probe = new Probe();
        var fired = probe.HourlyPastDue;
        Type[] declare = [typeof(HourlyFunction)];
        void Probe(IServiceCollection services) => services.AddSingleton(probe);

        var clock = new FakeTimeProvider(StandaloneApp.Epoch);
        await using (var first = await StandaloneApp.StartAsync(declare, directory: directory, clock: clock, services: Probe))
        {
            await clock.WhenTimerScheduled(at => at == StandaloneApp.Epoch.AddHours(1)).WaitAsync(Patience);
        }

        // Down across three occurrences; it runs once, not three times.
        clock.Advance(TimeSpan.FromHours(3) + TimeSpan.FromMinutes(10));
        await using var second = await StandaloneApp.StartAsync(declare, directory: directory, clock: clock, services: Probe);

        Assert.True(await fired.Reader.ReadAsync().AsTask().WaitAsync(Patience));
        await clock.WhenTimerScheduled(at => at == StandaloneApp.Epoch.AddHours(4)).WaitAsync(Patience);
        Assert.False(fired.Reader.TryRead(out _));
    }

    /// <summary>Re-checks the condition each time the queue signals a send or a finished delivery.</summary>
    private static async Task WaitUntilAsync(EmbeddedQueue queue, string queueName, Func<Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (true)
        {
            var changed = queue.Signal(queueName).WaitAsync();
            if (await condition())
            {
                return;
            }

            await changed.WaitAsync(timeout.Token);
        }
    }

    public sealed class Probe
    {
        public Channel<(string Body, int DeliveryCount, string? MessageId)> Deliveries { get; } = Channel.CreateUnbounded<(string, int, string?)>();

        private int _poisonedCalls;

        public int PoisonedCalls => Volatile.Read(ref _poisonedCalls);

        public void CountPoisoned() => Interlocked.Increment(ref _poisonedCalls);

        public TaskCompletionSource SlowStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource SlowRelease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Channel<(DateTimeOffset At, bool PastDue, DateTimeOffset? Next)> Fired { get; } = Channel.CreateUnbounded<(DateTimeOffset, bool, DateTimeOffset?)>();

        public Channel<bool> HourlyPastDue { get; } = Channel.CreateUnbounded<bool>();
    }

    public sealed class QueueFunctions(Probe probe)
    {
        [Function("Flaky")]
        public async Task Flaky([QueueTrigger("flaky")] QueueMessage message)
        {
            await probe.Deliveries.Writer.WriteAsync((message.Body.ToString(), (int)message.DequeueCount, message.MessageId));
            if (message.DequeueCount < 3)
            {
                throw new InvalidOperationException("transient failure");
            }
        }

        [Function("Poisoned")]
        public void Poisoned([QueueTrigger("poisoned")] string message)
        {
            probe.CountPoisoned();
            throw new InvalidOperationException("never works");
        }

        [Function("Slow")]
        public async Task Slow([QueueTrigger("slow")] string message)
        {
            probe.SlowStarted.TrySetResult();
            await probe.SlowRelease.Task;
        }
    }

    public sealed class EveryFiveMinutesFunction(Probe probe, TimeProvider clock)
    {
        [Function("EveryFiveMinutes")]
        public async Task EveryFiveMinutes([TimerTrigger("0 */5 * * * *")] TimerInfo timer) =>
            await probe.Fired.Writer.WriteAsync((clock.GetUtcNow(), timer.IsPastDue, new DateTimeOffset(timer.ScheduleStatus!.Next, TimeSpan.Zero)));
    }

    public sealed class HourlyFunction(Probe probe)
    {
        [Function("Hourly")]
        public async Task Hourly([TimerTrigger("0 0 * * * *")] TimerInfo timer) => await probe.HourlyPastDue.Writer.WriteAsync(timer.IsPastDue);
    }
}
