using Itsm.Durable.Protocol;
using Itsm.Durable.Tests.Support;

namespace Itsm.Durable.Tests;

/// <summary>
/// The worked example of section 5 of the protocol notes ("call A, then Approval event vs. 24 h
/// timer"). The golden requests are decoded and replayed as they are. Responses are compared byte
/// for byte after clearing <c>instanceId</c>: we set it (the extension ignores it, the notes say to
/// set it anyway) while the hand-made golden responses leave it out. Failure responses are compared
/// semantically, because ours also carry the stack trace that the golden vector omits.
/// </summary>
public sealed class GoldenVectorTests
{
    private const string Req1 = "CgZhYmMxMjMiFQj///////////8BEgYIgIvSuwZyACJJCP///////////wESDAj/itK7BhCAyrXuARouCgxBcHByb3ZhbEZsb3cSABoMCgoib3JkZXItNDIiIg4KBmFiYzEyMxIECgJlMQ==";
    private const string Resp1 = "EhMSEQoBQRoMCgoib3JkZXItNDIi";
    private const string Req2 = "CgZhYmMxMjMaFQj///////////8BEgYIgIvSuwZyABpJCP///////////wESDAj/itK7BhCAyrXuARouCgxBcHByb3ZhbEZsb3cSABoMCgoib3JkZXItNDIiIg4KBmFiYzEyMxIECgJlMRogEgsIgIvSuwYQgMLXLzIRCgFBGgwKCiJvcmRlci00MiIaGgj///////////8BEgsIgIvSuwYQgMLXL3oAIhUI////////////ARIGCIWL0rsGcgAiIQj///////////8BEgYIhIvSuwY6DBIKCggiQS1kb25lIg==";
    private const string Resp2 = "EgwIASIICgYIha7XuwY=";
    private const string Req3A = "CgZhYmMxMjMaFQj///////////8BEgYIgIvSuwZyABpJCP///////////wESDAj/itK7BhCAyrXuARouCgxBcHByb3ZhbEZsb3cSABoMCgoib3JkZXItNDIiIg4KBmFiYzEyMxIECgJlMRogEgsIgIvSuwYQgMLXLzIRCgFBGgwKCiJvcmRlci00MiIaGgj///////////8BEgsIgIvSuwYQgMLXL3oAGhUI////////////ARIGCIWL0rsGcgAaIQj///////////8BEgYIhIvSuwY6DBIKCggiQS1kb25lIhoZCAESCwiFi9K7BhCA4esXYggKBgiFrte7BhoaCP///////////wESCwiFi9K7BhCA4esXegAiFQj///////////8BEgYI5IvSuwZyACIoCP///////////wESBgjji9K7BooBEgoIQXBwcm92YWwSBgoEdHJ1ZQ==";
    private const string Resp3A = "EigIAjIkCAESIAoeeyJhIjoiQS1kb25lIiwiYXBwcm92ZWQiOnRydWV9";
    private const string Req3B = "CgZhYmMxMjMaFQj///////////8BEgYIgIvSuwZyABpJCP///////////wESDAj/itK7BhCAyrXuARouCgxBcHByb3ZhbEZsb3cSABoMCgoib3JkZXItNDIiIg4KBmFiYzEyMxIECgJlMRogEgsIgIvSuwYQgMLXLzIRCgFBGgwKCiJvcmRlci00MiIaGgj///////////8BEgsIgIvSuwYQgMLXL3oAGhUI////////////ARIGCIWL0rsGcgAaIQj///////////8BEgYIhIvSuwY6DBIKCggiQS1kb25lIhoZCAESCwiFi9K7BhCA4esXYggKBgiFrte7BhoaCP///////////wESCwiFi9K7BhCA4esXegAiGgj///////////8BEgsIha7XuwYQgMLXL3IAIh8I////////////ARIGCIWu17sGagoKBgiFrte7BhAB";
    private const string Resp3B = "EjkIAjI1CAESMQoveyJhIjoiQS1kb25lIiwiYXBwcm92ZWQiOmZhbHNlLCJ0aW1lZE91dCI6dHJ1ZX0=";
    private const string RespFail = "EjgIATI0CAMSBgoEQm9vbTIoCiBTeXN0ZW0uSW52YWxpZE9wZXJhdGlvbkV4Y2VwdGlvbhIEQm9vbQ==";

    private static readonly DurableFunctionRegistry Registry = new DurableFunctionRegistry()
        .AddOrchestrator<string, object>("ApprovalFlow", ApprovalFlowAsync);

    /// <summary>The orchestrator of the worked example.</summary>
    private static async Task<object> ApprovalFlowAsync(TaskOrchestrationContext context, string order)
    {
        var a = await context.CallActivityAsync<string>("A", order);
        using var timerCancellation = new CancellationTokenSource();
        var timer = context.CreateTimer(context.CurrentUtcDateTime.AddHours(24), timerCancellation.Token);
        var approval = context.WaitForExternalEvent<bool>("Approval");
        var winner = await Task.WhenAny(approval, timer);
        if (winner == approval)
        {
            timerCancellation.Cancel();
            return new { a, approved = await approval };
        }

        return new { a, approved = false, timedOut = true };
    }

    [Theory]
    [InlineData(Req1, Resp1)]
    [InlineData(Req2, Resp2)]
    [InlineData(Req3A, Resp3A)]
    [InlineData(Req3B, Resp3B)]
    public void Golden_request_yields_the_golden_response_byte_for_byte(string request, string expectedResponse)
    {
        var response = OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(OrchestrationRunner.RunBase64(request, Registry)));

        Assert.Equal("abc123", response.InstanceId);
        response.InstanceId = string.Empty;
        Assert.Equal(expectedResponse, Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(response)));
    }

    [Fact]
    public void Episode_one_schedules_activity_A_with_the_orchestration_input()
    {
        var response = Run(Decode(Req1));

        Assert.Equal(["#0 activity A \"order-42\""], response.Describe());
        Assert.Null(response.CustomStatus);
    }

    [Fact]
    public void Episode_two_creates_the_24_hour_timer_from_the_episode_clock()
    {
        var response = Run(Decode(Req2));

        Assert.Equal(["#1 timer 2025-01-02T00:00:05Z"], response.Describe());
        Assert.Equal(1735776005, response.Actions[0].CreateTimer.FireAt.Seconds);
    }

    [Fact]
    public void Approval_event_wins_the_race_against_the_timer()
    {
        Assert.Equal(["#2 completed {\"a\":\"A-done\",\"approved\":true}"], Run(Decode(Req3A)).Describe());
    }

    [Fact]
    public void Timer_wins_the_race_when_no_approval_arrives()
    {
        Assert.Equal(["#2 completed {\"a\":\"A-done\",\"approved\":false,\"timedOut\":true}"], Run(Decode(Req3B)).Describe());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Early_approval_is_buffered_and_consumed_right_after_the_activity(bool eventFirst)
    {
        var request = Decode(Req2);
        var completed = request.NewEvents[1];
        var raised = History.EventRaised("Approval", "true");
        request.NewEvents.RemoveAt(1);
        request.NewEvents.Insert(1, eventFirst ? raised : completed);
        request.NewEvents.Insert(2, eventFirst ? completed : raised);

        var response = Run(request);

        Assert.Equal(
            ["#1 timer 2025-01-02T00:00:05Z", "#2 completed {\"a\":\"A-done\",\"approved\":true}"],
            response.Describe());
    }

    [Fact]
    public void Terminate_completes_with_status_terminated_and_the_reason_as_result()
    {
        var request = Decode(Req2);
        request.NewEvents.Add(History.ExecutionTerminated("stop"));

        var completion = Run(request).Completion();

        Assert.Equal(OrchestrationStatus.Terminated, completion.OrchestrationStatus);
        Assert.Equal("stop", completion.Result);
    }

    [Fact]
    public void Activity_failure_turned_into_a_user_exception_matches_the_golden_failure_semantically()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<string, string>("ApprovalFlow", async (context, order) =>
        {
            try
            {
                return await context.CallActivityAsync<string>("A", order);
            }
            catch (TaskFailedException)
            {
                throw new InvalidOperationException("Boom");
            }
        });
        var request = Decode(Req2);
        request.NewEvents[1] = History.TaskFailed(0, "System.Exception", "A broke");

        var response = OrchestrationRunner.Run(request, registry);
        var golden = OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(RespFail));

        var actual = Assert.Single(response.Actions);
        var expected = Assert.Single(golden.Actions);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.CompleteOrchestration.OrchestrationStatus, actual.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal(expected.CompleteOrchestration.Result, actual.CompleteOrchestration.Result);
        Assert.Equal(expected.CompleteOrchestration.FailureDetails.ErrorType, actual.CompleteOrchestration.FailureDetails.ErrorType);
        Assert.Equal(expected.CompleteOrchestration.FailureDetails.ErrorMessage, actual.CompleteOrchestration.FailureDetails.ErrorMessage);
        Assert.Contains(nameof(GoldenVectorTests), actual.CompleteOrchestration.FailureDetails.StackTrace ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public void Orchestrator_that_now_calls_B_first_fails_as_non_deterministic()
    {
        var registry = new DurableFunctionRegistry().AddOrchestrator<string, string>("ApprovalFlow", (context, order) =>
            context.CallActivityAsync<string>("B", order));

        var response = OrchestrationRunner.Run(Decode(Req2), registry);

        var action = Assert.Single(response.Actions);
        Assert.Equal(OrchestrationStatus.Failed, action.CompleteOrchestration.OrchestrationStatus);
        Assert.Equal("DurableTask.Core.Exceptions.NonDeterministicOrchestrationException", action.CompleteOrchestration.FailureDetails.ErrorType);
        Assert.Contains("'A'", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'B'", action.CompleteOrchestration.FailureDetails.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Golden_episodes_are_reproduced_by_the_request_builder()
    {
        var esTime = History.T0.AddSeconds(-0.5);
        var built = new OrchestratorRequestBuilder()
            .New()
            .OrchestratorStarted(History.T0)
            .ExecutionStarted("ApprovalFlow", "\"order-42\"", esTime)
            .Build();

        Assert.Equal(Decode(Req1), built);
    }

    private static OrchestratorRequest Decode(string base64) => OrchestratorRequest.Parser.ParseFrom(Convert.FromBase64String(base64));

    private static OrchestratorResponse Run(OrchestratorRequest request) => OrchestrationRunner.Run(request, Registry);
}
