using Itsm.Durable.Protocol;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class LifecycleTests
{
    private static readonly DateTime T0 = History.T0;

    [Fact]
    public void Terminate_drops_new_actions_and_reports_the_reason()
    {
        var driver = new OrchestrationDriver(TwoStepRegistry());
        driver.Start("TwoSteps");

        var response = driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null), History.ExecutionTerminated("duplicate ticket"));

        Assert.Equal(["#2 terminated duplicate ticket"], response.Describe());
    }

    [Fact]
    public void Suspended_instance_sends_no_actions_and_resumes_with_the_held_events()
    {
        var driver = new OrchestrationDriver(TwoStepRegistry());
        driver.Start("TwoSteps");
        Assert.Empty(driver.Episode(T0.AddSeconds(1), History.ExecutionSuspended("change freeze")).Actions);

        var whileSuspended = driver.Episode(T0.AddSeconds(2), History.TaskCompleted(0, null));
        Assert.Empty(whileSuspended.Actions);

        var resumed = driver.Episode(T0.AddSeconds(3), History.ExecutionResumed());
        Assert.Equal(["#1 activity Second (no input)"], resumed.Describe());

        Assert.Equal(["#2 completed \"done\""], driver.Episode(T0.AddSeconds(4), History.TaskCompleted(1, null)).Describe());
    }

    [Fact]
    public void Actions_created_just_before_a_suspension_are_sent_after_resume()
    {
        var driver = new OrchestrationDriver(TwoStepRegistry());
        driver.Start("TwoSteps");
        Assert.Empty(driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null), History.ExecutionSuspended()).Actions);

        Assert.Equal(["#1 activity Second (no input)"], driver.Episode(T0.AddSeconds(2), History.ExecutionResumed()).Describe());
    }

    [Fact]
    public void Terminate_while_suspended_still_ends_the_instance()
    {
        var driver = new OrchestrationDriver(TwoStepRegistry());
        driver.Start("TwoSteps");
        driver.Episode(T0.AddSeconds(1), History.ExecutionSuspended());

        var response = driver.Episode(T0.AddSeconds(2), History.ExecutionTerminated("cancelled"));

        Assert.Equal(OrchestrationStatus.Terminated, response.Completion().OrchestrationStatus);
    }

    [Fact]
    public void Custom_status_is_sent_every_episode_until_it_changes()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Status", async (context, _) =>
        {
            context.SetCustomStatus(new { stage = "triage" });
            await context.CallActivityAsync("Triage");
            await context.CallActivityAsync("Log");
            context.SetCustomStatus(null);
            return "done";
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal("{\"stage\":\"triage\"}", driver.Start("Status").CustomStatus);
        Assert.Equal("{\"stage\":\"triage\"}", driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null)).CustomStatus);
        Assert.Null(driver.Episode(T0.AddSeconds(2), History.TaskCompleted(1, null)).CustomStatus);
    }

    [Fact]
    public void Continue_as_new_restarts_with_the_new_input_and_carries_unconsumed_events_over()
    {
        var registry = CounterRegistry(preserveEvents: true);
        var driver = new OrchestrationDriver(registry);
        driver.Start("Counter", 0);

        var response = driver.Episode(
            T0.AddSeconds(1),
            History.EventRaised("Other", "\"kept\""),
            History.EventRaised("Tick", "1"));

        var completion = response.Completion();
        Assert.Equal(["#0 continued-as-new 1"], response.Describe());
        var carried = Assert.Single(completion.CarryoverEvents);
        Assert.Equal(("Other", "\"kept\""), (carried.EventRaised.Name, carried.EventRaised.Input));
    }

    [Fact]
    public void Continue_as_new_without_preserving_events_carries_nothing_over()
    {
        var driver = new OrchestrationDriver(CounterRegistry(preserveEvents: false));
        driver.Start("Counter", 0);

        var response = driver.Episode(T0.AddSeconds(1), History.EventRaised("Other", "1"), History.EventRaised("Tick", "1"));

        Assert.Empty(response.Completion().CarryoverEvents);
    }

    [Fact]
    public void New_generation_after_continue_as_new_sees_its_carried_over_events()
    {
        // Section 4.1: pastEvents = [], newEvents = [OrchestratorStarted, ExecutionStarted, carryover..., OrchestratorCompleted].
        var request = new OrchestratorRequestBuilder()
            .New()
            .OrchestratorStarted(T0.AddSeconds(1))
            .ExecutionStarted("Counter", "1", T0.AddSeconds(1))
            .EventRaised("Tick", "1")
            .OrchestratorCompleted(T0.AddSeconds(1))
            .Build();

        var response = OrchestrationRunner.Run(request, CounterRegistry(preserveEvents: true));

        Assert.Equal(["#0 continued-as-new 2"], response.Describe());
    }

    [Fact]
    public void Sub_orchestration_gets_a_deterministic_child_id_and_returns_its_output()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<string, string>("Parent", async (context, change) =>
        {
            var cab = await context.CallSubOrchestratorAsync<string>("CabApproval", change);
            var owner = await context.CallSubOrchestratorAsync<string>("OwnerApproval", change, instanceId: $"{change}-owner");
            return $"{cab}+{owner}";
        });
        var driver = new OrchestrationDriver(registry);

        Assert.Equal(["#0 sub-orchestration CabApproval as abc123:0000 \"CHG-1\""], driver.Start("Parent", "CHG-1").Describe());
        Assert.Equal(
            ["#1 sub-orchestration OwnerApproval as CHG-1-owner \"CHG-1\""],
            driver.Episode(T0.AddSeconds(1), History.SubOrchestrationCompleted(0, "\"cab-ok\"")).Describe());
        Assert.Equal(
            ["#2 completed \"cab-ok+owner-ok\""],
            driver.Episode(T0.AddSeconds(2), History.SubOrchestrationCompleted(1, "\"owner-ok\"")).Describe());
    }

    [Fact]
    public void Failed_sub_orchestration_surfaces_as_SubOrchestrationFailedException()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Parent", async (context, _) =>
        {
            try
            {
                return await context.CallSubOrchestratorAsync<string>("Child");
            }
            catch (SubOrchestrationFailedException failed)
            {
                return failed.FailureDetails.ErrorMessage;
            }
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Parent");

        var response = driver.Episode(T0.AddSeconds(1), History.SubOrchestrationFailed(0, "System.Exception", "child broke"));

        Assert.Equal(["#1 completed \"child broke\""], response.Describe());
    }

    [Fact]
    public void Retry_policy_retries_after_durable_back_off_timers_with_new_action_ids()
    {
        var driver = new OrchestrationDriver(RetryRegistry());
        driver.Start("Retrying");

        Assert.Equal(
            ["#1 timer 2025-01-01T00:00:06Z"],
            driver.Episode(T0.AddSeconds(1), History.TaskFailed(0, "System.Net.Http.HttpRequestException", "503")).Describe());
        Assert.Equal(
            ["#2 activity Notify \"INC-1\""],
            driver.Episode(T0.AddSeconds(6), History.TimerFired(1, T0.AddSeconds(6))).Describe());
        Assert.Equal(
            ["#3 timer 2025-01-01T00:00:17Z"],
            driver.Episode(T0.AddSeconds(7), History.TaskFailed(2, "System.Net.Http.HttpRequestException", "503")).Describe());
        Assert.Equal(
            ["#4 activity Notify \"INC-1\""],
            driver.Episode(T0.AddSeconds(17), History.TimerFired(3, T0.AddSeconds(17))).Describe());
        Assert.Equal(["#5 completed \"sent\""], driver.Episode(T0.AddSeconds(18), History.TaskCompleted(4, "\"sent\"")).Describe());
    }

    [Fact]
    public void Retry_policy_gives_up_after_the_last_attempt()
    {
        var driver = new OrchestrationDriver(RetryRegistry());
        driver.Start("Retrying");
        driver.Episode(T0.AddSeconds(1), History.TaskFailed(0, "System.Exception", "1"));
        driver.Episode(T0.AddSeconds(6), History.TimerFired(1, T0.AddSeconds(6)));
        driver.Episode(T0.AddSeconds(7), History.TaskFailed(2, "System.Exception", "2"));
        driver.Episode(T0.AddSeconds(17), History.TimerFired(3, T0.AddSeconds(17)));

        var completion = driver.Episode(T0.AddSeconds(18), History.TaskFailed(4, "System.Exception", "3")).Completion();

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Equal("3", completion.FailureDetails.InnerFailure.ErrorMessage);
    }

    [Fact]
    public void Retry_policy_does_not_retry_a_failure_its_filter_rejects()
    {
        var policy = new RetryPolicy(3, TimeSpan.FromSeconds(5)) { HandleFailure = failure => !failure.IsCausedBy<ArgumentException>() };
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Filtered", (context, _) =>
            context.CallActivityAsync<string>("Notify", null, TaskOptions.FromRetryPolicy(policy)));
        var driver = new OrchestrationDriver(registry);
        driver.Start("Filtered");

        var response = driver.Episode(T0.AddSeconds(1), History.TaskFailed(0, "System.ArgumentException", "bad address"));

        Assert.Equal(OrchestrationStatus.Failed, response.Completion().OrchestrationStatus);
    }

    [Fact]
    public void Retry_delays_grow_by_the_backoff_coefficient_up_to_the_maximum()
    {
        var policy = new RetryPolicy(10, TimeSpan.FromSeconds(5), backoffCoefficient: 2, maxRetryInterval: TimeSpan.FromSeconds(30));

        Assert.Equal(
            [5, 10, 20, 30, 30],
            Enumerable.Range(1, 5).Select(n => policy.GetDelay(n).TotalSeconds));
    }

    private static DurableFunctionRegistry TwoStepRegistry() =>
        new DurableFunctionRegistry().AddOrchestrator<object?, string>("TwoSteps", async (context, _) =>
        {
            await context.CallActivityAsync("First");
            await context.CallActivityAsync("Second");
            return "done";
        });

    private static DurableFunctionRegistry CounterRegistry(bool preserveEvents) =>
        new DurableFunctionRegistry().AddOrchestrator<int, int>("Counter", async (context, count) =>
        {
            var step = await context.WaitForExternalEvent<int>("Tick");
            context.ContinueAsNew(count + step, preserveEvents);
            return count;
        });

    private static DurableFunctionRegistry RetryRegistry()
    {
        var policy = new RetryPolicy(maxNumberOfAttempts: 3, firstRetryInterval: TimeSpan.FromSeconds(5), backoffCoefficient: 2);
        return new DurableFunctionRegistry().AddOrchestrator<object?, string>("Retrying", (context, _) =>
            context.CallActivityAsync<string>("Notify", "INC-1", TaskOptions.FromRetryPolicy(policy)));
    }
}
