using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

public sealed class FailureTests
{
    private static readonly DateTime T0 = History.T0;

    [Fact]
    public void User_exception_fails_the_orchestration_with_type_message_stack_and_inner_chain()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Broken", async (context, _) =>
        {
            await context.CallActivityAsync("A");
            throw new InvalidOperationException("Ticket is closed", new FormatException("bad state"));
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Broken");

        var completion = driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, null)).Completion();

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Equal("Ticket is closed", completion.Result);
        Assert.Equal("System.InvalidOperationException", completion.FailureDetails.ErrorType);
        Assert.Equal("Ticket is closed", completion.FailureDetails.ErrorMessage);
        Assert.False(string.IsNullOrEmpty(completion.FailureDetails.StackTrace));
        Assert.Equal("System.FormatException", completion.FailureDetails.InnerFailure.ErrorType);
        Assert.Equal("bad state", completion.FailureDetails.InnerFailure.ErrorMessage);
    }

    [Fact]
    public void Unhandled_activity_failure_fails_the_orchestration_with_the_activity_failure_inside()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Caller", (context, _) =>
            context.CallActivityAsync<int>("Assign"));
        var driver = new OrchestrationDriver(registry);
        driver.Start("Caller");

        var completion = driver.Episode(T0.AddSeconds(1), History.TaskFailed(0, "System.TimeoutException", "directory slow")).Completion();

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Equal("Itsm.Durable.TaskFailedException", completion.FailureDetails.ErrorType);
        Assert.Contains("'Assign'", completion.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("System.TimeoutException", completion.FailureDetails.InnerFailure.ErrorType);
        Assert.Equal("directory slow", completion.FailureDetails.InnerFailure.ErrorMessage);
    }

    [Fact]
    public void Orchestrator_can_catch_an_activity_failure_and_read_its_details()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Caller", async (context, _) =>
        {
            try
            {
                await context.CallActivityAsync("Assign");
                return "assigned";
            }
            catch (TaskFailedException failed) when (failed.FailureDetails.IsCausedBy<TimeoutException>())
            {
                return $"{failed.TaskName}#{failed.TaskId} timed out";
            }
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Caller");

        var response = driver.Episode(T0.AddSeconds(1), History.TaskFailed(0, "System.TimeoutException", "slow"));

        Assert.Equal(["#1 completed \"Assign#0 timed out\""], response.Describe());
    }

    [Fact]
    public void Activity_failure_envelope_in_a_completed_task_fails_the_task_with_its_details()
    {
        var failure = ActivityResult.Failed(new TaskFailureDetails("Itsm.Tickets.TicketClosedException", "INC-9 is closed", "at Close()"));
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Caller", async (context, _) =>
        {
            try
            {
                return await context.CallActivityAsync<string>("Close");
            }
            catch (TaskFailedException failed)
            {
                return $"{failed.FailureDetails.ErrorType}: {failed.FailureDetails.ErrorMessage}";
            }
        });
        var driver = new OrchestrationDriver(registry);
        driver.Start("Caller");

        var response = driver.Episode(T0.AddSeconds(1), History.TaskCompleted(0, failure.ToFailureEnvelopeJson()));

        Assert.Equal(["#1 completed \"Itsm.Tickets.TicketClosedException: INC-9 is closed\""], response.Describe());
    }

    [Fact]
    public void History_with_a_timer_where_the_code_now_calls_an_activity_is_non_deterministic()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Changed", async (context, _) =>
        {
            await context.CallActivityAsync("A");
            return 1;
        });
        var request = new OrchestratorRequestBuilder()
            .Past().OrchestratorStarted(T0).ExecutionStarted("Changed", null).TimerCreated(0, T0.AddHours(1)).OrchestratorCompleted(T0)
            .New().OrchestratorStarted(T0.AddHours(1)).TimerFired(0, T0.AddHours(1))
            .Build();

        var response = OrchestrationRunner.Run(request, registry);

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("DurableTask.Core.Exceptions.NonDeterministicOrchestrationException", action.CompleteOrchestration.FailureDetails.ErrorType);
        Assert.Contains("durable timer", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void History_with_an_action_the_code_no_longer_creates_is_non_deterministic()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, int>("Shrunk", (context, _) => Task.FromResult(1));
        var request = new OrchestratorRequestBuilder()
            .Past().OrchestratorStarted(T0).ExecutionStarted("Shrunk", null).TaskScheduled(0, "A").OrchestratorCompleted(T0)
            .New().OrchestratorStarted(T0.AddSeconds(1)).TaskCompleted(0, null)
            .Build();

        var completion = OrchestrationRunner.Run(request, registry).Completion();

        Assert.Equal("DurableTask.Core.Exceptions.NonDeterministicOrchestrationException", completion.FailureDetails.ErrorType);
    }

    [Fact]
    public void Activity_names_in_history_match_case_insensitively()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Casing", (context, _) =>
            context.CallActivityAsync<string>("NotifyAssignee"));
        var request = new OrchestratorRequestBuilder()
            .Past().OrchestratorStarted(T0).ExecutionStarted("casing", null).TaskScheduled(0, "notifyassignee").OrchestratorCompleted(T0)
            .New().OrchestratorStarted(T0.AddSeconds(1)).TaskCompleted(0, "\"sent\"")
            .Build();

        Assert.Equal(["#1 completed \"sent\""], OrchestrationRunner.Run(request, registry).Describe());
    }

    [Fact]
    public void Unknown_orchestrator_fails_the_instance_and_names_it()
    {
        var request = new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).ExecutionStarted("Missing", null).Build();

        var response = OrchestrationRunner.Run(request, new DurableFunctionRegistry());

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Contains("'Missing'", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal("abc123", response.InstanceId);
    }

    [Fact]
    public void Input_that_does_not_fit_the_orchestrator_fails_with_a_json_error()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<int, int>("Numbers", (context, n) => Task.FromResult(n));
        var request = new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).ExecutionStarted("Numbers", "\"not a number\"").Build();

        var completion = OrchestrationRunner.Run(request, registry).Completion();

        Assert.Equal("System.Text.Json.JsonException", completion.FailureDetails.ErrorType);
    }

    [Theory]
    [InlineData("this is not base64!")]
    [InlineData("CgZhYmMxMjMiFQj///////////8BEgYIgIvSuwZyACJJCP///////////wESDAj/itK7")]
    public void Corrupt_or_truncated_payload_gets_a_failed_completion_instead_of_an_exception(string payload)
    {
        var response = Decode(OrchestrationRunner.RunBase64(payload, new DurableFunctionRegistry()));

        var action = Assert.Single(response.Actions);
        Assert.Equal(string.Empty, response.InstanceId);
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.StartsWith("The orchestrator request could not be decoded", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Payload_still_wrapped_in_json_quotes_is_explained()
    {
        var quoted = "\"" + new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).BuildBase64() + "\"";

        var failure = Decode(OrchestrationRunner.RunBase64(quoted, new DurableFunctionRegistry())).Completion().FailureDetails;

        Assert.Contains("JSON-decoded once more", failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Extended_session_request_without_history_asks_for_the_history()
    {
        var request = new OrchestratorRequestBuilder()
            .WithProperty("IncludeState", Value.ForBool(false))
            .New().OrchestratorStarted(T0).TaskCompleted(0, "1")
            .Build();

        var response = OrchestrationRunner.Run(request, new DurableFunctionRegistry());

        Assert.True(response.RequiresHistory);
        Assert.Empty(response.Actions);
    }

    [Fact]
    public void Extended_session_request_that_starts_the_execution_runs_normally()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Hello", (context, _) => Task.FromResult("hi"));
        var request = new OrchestratorRequestBuilder()
            .WithProperty("IncludeState", Value.ForBool(false))
            .New().OrchestratorStarted(T0).ExecutionStarted("Hello", null)
            .Build();

        var response = OrchestrationRunner.Run(request, registry);

        Assert.False(response.RequiresHistory);
        Assert.Equal(["#0 completed \"hi\""], response.Describe());
    }

    [Fact]
    public void History_without_execution_started_fails_instead_of_hanging()
    {
        var request = new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).TaskCompleted(0, "1").Build();

        var completion = OrchestrationRunner.Run(request, new DurableFunctionRegistry()).Completion();

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Contains("ExecutionStarted", completion.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Execution_started_field_7_is_ignored_in_both_historic_shapes(bool traceContextShape)
    {
        // 2022 extensions put a StringValue (correlation data) in field 7, newer ones a TraceContext.
        var field7 = traceContextShape
            ? new TraceContext { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceState = "x=1" }.ToByteString()
            : new StringValue { Value = "{\"legacy\":\"correlation\"}" }.ToByteString();
        var started = History.ExecutionStarted("Hello", "\"ada\"", T0).ExecutionStarted;
        var startedBytes = started.ToByteString().Concat(LengthDelimited(7, field7)).ToArray();
        var historyEvent = new HistoryEvent { EventId = -1, Timestamp = History.Ts(T0), ExecutionStarted = ExecutionStartedEvent.Parser.ParseFrom(startedBytes) };
        var registry = new DurableFunctionRegistry().AddOrchestrator<string, string>("Hello", (context, name) => Task.FromResult($"hello {name}"));
        var request = new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).Add(historyEvent).BuildBase64();

        var response = Decode(OrchestrationRunner.RunBase64(request, registry));

        Assert.Equal(["#0 completed \"hello ada\""], response.Describe());
    }

    [Fact]
    public void Entity_and_other_informational_events_do_not_disturb_the_replay()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Hello", (context, _) => Task.FromResult("hi"));
        var request = new OrchestratorRequestBuilder()
            .New().OrchestratorStarted(T0).ExecutionStarted("Hello", null)
            .Add(
                new HistoryEvent { EventId = -1, GenericEvent = new GenericEvent { Data = "x" } },
                new HistoryEvent { EventId = -1, EntityLockGranted = new EntityLockGrantedEvent { CriticalSectionId = "c" } })
            .Build();

        Assert.Equal(["#0 completed \"hi\""], OrchestrationRunner.Run(request, registry).Describe());
    }

    [Fact]
    public void Awaiting_a_non_durable_task_fails_instead_of_hanging_forever()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<object?, string>("Sleepy", async (context, _) =>
        {
            await Task.Delay(TimeSpan.FromHours(1));
            return "never";
        });
        var request = new OrchestratorRequestBuilder().New().OrchestratorStarted(T0).ExecutionStarted("Sleepy", null).Build();

        var completion = OrchestrationRunner.Run(request, registry).Completion();

        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.Contains("not a durable task", completion.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    private static OrchestratorResponse Decode(string base64) => OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(base64));

    private static byte[] LengthDelimited(int fieldNumber, ByteString payload)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(fieldNumber, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(payload);
        output.Flush();
        return stream.ToArray();
    }
}
