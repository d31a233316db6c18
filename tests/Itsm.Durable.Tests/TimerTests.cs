using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class TimerTests
{
    private static readonly DateTime T0 = History.T0;

    [Fact]
    public void Timer_longer_than_three_days_is_split_into_hops_across_episodes()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Week", async (context, _) =>
        {
            await context.CreateTimer(TimeSpan.FromDays(7), CancellationToken.None);
            return "woke";
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(["#0 timer 2025-01-04T00:00:00Z"], driver.Start("Week").Describe());

        var secondHopAt = T0.AddDays(3).AddSeconds(1);
        Assert.Equal(["#1 timer 2025-01-07T00:00:01Z"], driver.Episode(secondHopAt, History.TimerFired(0, T0.AddDays(3))).Describe());

        var lastHopAt = T0.AddDays(6).AddSeconds(2);
        Assert.Equal(["#2 timer 2025-01-08T00:00:00Z"], driver.Episode(lastHopAt, History.TimerFired(1, T0.AddDays(6).AddSeconds(1))).Describe());

        Assert.Equal(["#3 completed \"woke\""], driver.Episode(T0.AddDays(7), History.TimerFired(2, T0.AddDays(7))).Describe());
    }

    [Fact]
    public void Timer_of_exactly_three_days_is_a_single_timer()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("ThreeDays", async (context, _) =>
        {
            await context.CreateTimer(T0.AddDays(3), CancellationToken.None);
            return "done";
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(["#0 timer 2025-01-04T00:00:00Z"], driver.Start("ThreeDays").Describe());
        Assert.Equal(["#1 completed \"done\""], driver.Episode(T0.AddDays(3), History.TimerFired(0, T0.AddDays(3))).Describe());
    }

    [Fact]
    public void Cancelled_timer_stops_the_awaiting_code_from_waiting()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Reminder", async (context, _) =>
        {
            using var cancellation = new CancellationTokenSource();
            var reminder = context.CreateTimer(TimeSpan.FromHours(4), cancellation.Token);
            await context.WaitForExternalEvent<string>("Responded");
            cancellation.Cancel();
            try
            {
                await reminder;
                return "reminder sent";
            }
            catch (TaskCanceledException)
            {
                return "reminder cancelled";
            }
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Reminder");

        var response = driver.Episode(T0.AddMinutes(10), History.EventRaised("Responded", "\"ada\""));

        Assert.Equal(["#1 completed \"reminder cancelled\""], response.Describe());
    }

    [Fact]
    public void Cancelling_a_long_timer_between_hops_stops_the_chain()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("LongReminder", async (context, _) =>
        {
            using var cancellation = new CancellationTokenSource();
            var timer = context.CreateTimer(TimeSpan.FromDays(10), cancellation.Token);
            var winner = await Task.WhenAny(timer, context.WaitForExternalEvent<bool>("Stop"));
            if (winner != timer)
            {
                cancellation.Cancel();
            }

            return timer.IsCanceled ? "stopped" : "expired";
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("LongReminder");

        var response = driver.Episode(T0.AddDays(1), History.EventRaised("Stop", "true"));

        Assert.Equal(["#1 completed \"stopped\""], response.Describe());
    }

    [Fact]
    public void Wait_for_event_with_timeout_throws_TimeoutException_when_the_timer_fires_first()
    {
        var driver = new OrchestrationDriver(ApprovalWithTimeout());

        Assert.Equal(["#0 timer 2025-01-02T00:00:00Z"], driver.Start("Approval").Describe());
        Assert.Equal(["#1 completed \"timed out\""], driver.Episode(T0.AddDays(1), History.TimerFired(0, T0.AddDays(1))).Describe());
    }

    [Fact]
    public void Wait_for_event_with_timeout_returns_the_event_when_it_arrives_in_time()
    {
        var driver = new OrchestrationDriver(ApprovalWithTimeout());
        driver.Start("Approval");

        Assert.Equal(["#1 completed \"approved by ada\""], driver.Episode(T0.AddHours(1), History.EventRaised("Approval", "\"ada\"")).Describe());
    }

    [Fact]
    public void Late_event_after_a_timeout_is_kept_for_the_next_wait()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Retry", async (context, _) =>
        {
            try
            {
                return await context.WaitForExternalEvent<string>("Approval", TimeSpan.FromHours(1));
            }
            catch (TimeoutException)
            {
                await context.CallActivityAsync("Remind");
                return "after reminder: " + await context.WaitForExternalEvent<string>("Approval");
            }
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Retry");
        driver.Episode(T0.AddHours(1), History.TimerFired(0, T0.AddHours(1)));
        driver.Episode(T0.AddHours(2), History.EventRaised("Approval", "\"ada\""));

        var response = driver.Episode(T0.AddHours(3), History.TaskCompleted(1, null));

        Assert.Equal(["#2 completed \"after reminder: ada\""], response.Describe());
    }

    [Fact]
    public void Wait_with_timeout_creates_no_timer_when_the_event_is_already_buffered()
    {
        var driver = new OrchestrationDriver(new DurableFunctionRegistry().AddOrchestrator<object?, string>("Approval", async (context, _) =>
        {
            await context.CallActivityAsync("Prepare");
            return await context.WaitForExternalEvent<string>("Approval", TimeSpan.FromDays(1));
        }));
        driver.Start("Approval");

        var response = driver.Episode(T0.AddHours(1), History.EventRaised("Approval", "\"ada\""), History.TaskCompleted(0, null));

        Assert.Equal(["#1 completed \"ada\""], response.Describe());
    }

    private static DurableFunctionRegistry ApprovalWithTimeout() =>
        new DurableFunctionRegistry().AddOrchestrator<object?, string>("Approval", async (context, _) =>
        {
            try
            {
                return "approved by " + await context.WaitForExternalEvent<string>("Approval", TimeSpan.FromDays(1));
            }
            catch (TimeoutException)
            {
                return "timed out";
            }
        });
}
