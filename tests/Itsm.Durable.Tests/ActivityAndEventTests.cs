using Microsoft.Extensions.Logging;
using Itsm.Durable.Protocol;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class ActivityAndEventTests
{
    private static readonly DateTime T0 = History.T0;

    [Fact]
    public void Activity_results_flow_into_the_next_call_and_the_output()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<string, string>("Chain", async (context, ticket) =>
        {
            var assignee = await context.CallActivityAsync<string>("FindAssignee", ticket);
            await context.CallActivityAsync("NotifyAssignee", new { ticket, assignee });
            return assignee;
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(["#0 activity FindAssignee \"INC-1\""], driver.Start("Chain", "INC-1").Describe());
        Assert.Equal(
            ["#1 activity NotifyAssignee {\"ticket\":\"INC-1\",\"assignee\":\"ada\"}"],
            driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, "\"ada\"")).Describe());
        Assert.Equal(["#2 completed \"ada\""], driver.Episode(T0.AddSeconds(2), History.TaskCompleted(1, null)).Describe());
    }

    [Fact]
    public void Actions_already_in_history_are_never_sent_again()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("FanOut", async (context, _) =>
        {
            await context.CallActivityAsync("A");
            await context.CallActivityAsync("B");
            return 1;
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("FanOut");

        var second = driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null));

        Assert.Equal(["#1 activity B (no input)"], second.Describe());
    }

    [Fact]
    public void Activity_input_is_a_single_json_value_not_an_array()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, object?>("Inputs", async (context, _) =>
        {
            await context.CallActivityAsync("Text", "order-42");
            await context.CallActivityAsync("Number", 42);
            await context.CallActivityAsync("Record", new Ticket("INC-7", 2));
            await context.CallActivityAsync("Nothing");
            return null;
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Inputs");
        driver.Episode(T0, History.TaskCompleted(0, null));
        driver.Episode(T0, History.TaskCompleted(1, null));
        var last = driver.Episode(T0, History.TaskCompleted(2, null));

        var inputs = driver.CommittedHistory.Where(e => e.TaskScheduled is not null).Select(e => (string?)e.TaskScheduled.Input).ToList();
        Assert.Equal(["\"order-42\"", "42", "{\"number\":\"INC-7\",\"priority\":2}", null], inputs);
        Assert.Equal(["#3 activity Nothing (no input)"], last.Describe());
    }

    [Fact]
    public void Task_WhenAll_fans_out_in_one_episode_and_fans_in_whatever_the_completion_order()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<int[], int>("Sum", async (context, numbers) =>
        {
            var squares = await Task.WhenAll(numbers.Select(n => context.CallActivityAsync<int>("Square", n)));
            return squares.Sum();
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(
            ["#0 activity Square 1", "#1 activity Square 2", "#2 activity Square 3"],
            driver.Start("Sum", new[] { 1, 2, 3 }).Describe());
        Assert.Empty(driver.Episode(T0.AddSeconds(1), History.TaskCompleted(2, "9")).Actions);
        Assert.Equal(
            ["#3 completed 14"],
            driver.Episode(T0.AddSeconds(2), History.TaskCompleted(0, "1"), History.TaskCompleted(1, "4")).Describe());
    }

    [Fact]
    public void Event_raised_before_activity_completes_is_buffered()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Wait", async (context, _) =>
        {
            var diagnosis = await context.CallActivityAsync<string>("Diagnose");
            var decision = await context.WaitForExternalEvent<string>("Decision");
            return $"{diagnosis}/{decision}";
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Wait");
        Assert.Empty(driver.Episode(T0.AddSeconds(1), History.EventRaised("Decision", "\"approve\"")).Actions);

        var response = driver.Episode(T0.AddSeconds(2), History.TaskCompleted(0, "\"disk full\""));

        Assert.Equal(["#1 completed \"disk full/approve\""], response.Describe());
    }

    [Fact]
    public void Event_names_match_case_insensitively()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, bool>("Wait", (context, _) =>
            context.WaitForExternalEvent<bool>("Approval"));
        var driver = new OrchestrationDriver(registry);
        driver.Start("Wait");

        Assert.Equal(["#0 completed true"], driver.Episode(T0.AddSeconds(1), History.EventRaised("APPROVAL", "true")).Describe());
    }

    [Fact]
    public void Oldest_waiter_receives_the_event_first()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("TwoVotes", async (context, _) =>
        {
            var first = context.WaitForExternalEvent<string>("Vote");
            var second = context.WaitForExternalEvent<string>("vote");
            var winner = await Task.WhenAny(first, second);
            return winner == first ? $"first:{await first}" : $"second:{await second}";
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("TwoVotes");

        Assert.Equal(["#0 completed \"first:ada\""], driver.Episode(T0.AddSeconds(1), History.EventRaised("Vote", "\"ada\"")).Describe());
    }

    [Fact]
    public void Buffered_events_are_consumed_in_arrival_order()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Votes", async (context, _) =>
        {
            await context.CallActivityAsync("Prepare");
            var a = await context.WaitForExternalEvent<string>("Vote");
            var b = await context.WaitForExternalEvent<string>("Vote");
            return a + b;
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Votes");

        var response = driver.Episode(
            T0.AddSeconds(1),
            History.EventRaised("Vote", "\"1\""),
            History.EventRaised("vote", "\"2\""),
            History.TaskCompleted(0, null));

        Assert.Equal(["#1 completed \"12\""], response.Describe());
    }

    [Fact]
    public void Send_event_takes_the_next_action_id_and_replays_against_event_sent()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Notify", async (context, _) =>
        {
            context.SendEvent("sla-INC-1", "Responded", new { by = "ada" });
            return await context.CallActivityAsync<string>("Log");
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(
            ["#0 send Responded to sla-INC-1 {\"by\":\"ada\"}", "#1 activity Log (no input)"],
            driver.Start("Notify").Describe());
        Assert.Equal(["#2 completed \"ok\""], driver.Episode(T0.AddSeconds(1), History.TaskCompleted(1, "\"ok\"")).Describe());
    }

    [Fact]
    public void Clock_is_the_episode_start_time_and_guids_repeat_on_replay()
    {
        var seen = new List<(DateTime Now, Guid Id, bool Replaying)>();
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Clock", async (context, _) =>
        {
            seen.Add((context.CurrentUtcDateTime, context.NewGuid(), context.IsReplaying));
            await context.CallActivityAsync("A");
            seen.Add((context.CurrentUtcDateTime, context.NewGuid(), context.IsReplaying));
            return context.NewGuid().ToString();
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Clock", at: T0);
        var first = seen.Single();
        seen.Clear();

        var response = driver.Episode(T0.AddMinutes(5), History.TaskCompleted(0, null));

        Assert.Equal(first, seen[0] with { Replaying = false });
        Assert.True(seen[0].Replaying);
        Assert.Equal((T0.AddMinutes(5), false), (seen[1].Now, seen[1].Replaying));
        Assert.NotEqual(seen[0].Id, seen[1].Id);
        Assert.Equal(5, seen[1].Id.Version);
        Assert.Equal(DateTimeKind.Utc, seen[1].Now.Kind);
        Assert.Equal(OrchestrationStatus.Completed, response.Completion().OrchestrationStatus);
    }

    [Fact]
    public void Orchestrator_code_resumes_on_the_thread_that_runs_the_episode()
    {
        var threads = new List<int>();
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Threads", async (context, _) =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.WhenAll(context.CallActivityAsync("A"), context.CreateTimer(TimeSpan.FromMinutes(1), CancellationToken.None));
            threads.Add(Environment.CurrentManagedThreadId);
            await Task.Yield();
            threads.Add(Environment.CurrentManagedThreadId);
            return threads.Count;
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Threads");
        threads.Clear();

        var response = driver.Episode(T0.AddMinutes(1), History.TaskCompleted(0, null), History.TimerFired(1, T0.AddMinutes(1)));

        Assert.Equal(["#2 completed 3"], response.Describe());
        Assert.All(threads, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void Replay_safe_logger_writes_each_message_once_across_episodes()
    {
        var logger = new ListLogger();
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Logged", async (context, _) =>
        {
            var log = context.CreateReplaySafeLogger(logger);
            log.LogInformation("starting");
            await context.CallActivityAsync("A");
            log.LogInformation("finished");
            return 0;
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Logged");
        driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null));

        Assert.Equal(["starting", "finished"], logger.Messages);
    }

    private sealed record Ticket(string Number, int Priority);
}
