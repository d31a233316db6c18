using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Durable.Protocol;
using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Durable;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Durable;

/// <summary>Orchestrator and activity functions served over the custom-handler envelope, as the Durable extension calls them.</summary>
public class DurableFunctionWiringTests
{
    // req1 of the worked example in shared/durable-protocol.md section 5.2.
    private const string GoldenRequest1 = "CgZhYmMxMjMiFQj///////////8BEgYIgIvSuwZyACJJCP///////////wESDAj/itK7BhCAyrXuARouCgxBcHByb3ZhbEZsb3cSABoMCgoib3JkZXItNDIiIg4KBmFiYzEyMxIECgJlMQ==";

    private static Task<StandaloneApp> StartUnderFunctionsHostAsync() =>
        StandaloneApp.StartAsync(
            functions => functions.MapDurableFunctions(SampleDurableFunctions.Create()),
            new Dictionary<string, string?> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "43118", ["Itsm:Auth:TenantId"] = "8f1c2a9e-6b0d-4f5e-9a3c-2d7e1b4c6a80", ["Itsm:Auth:Audience"] = "api://itsm-tests", ["Itsm:Store:Provider"] = "Sqlite" });

    private static StringContent Envelope(JsonObject data, JsonObject? metadata = null) =>
        new(new JsonObject { ["Data"] = data, ["Metadata"] = metadata ?? new JsonObject() }.ToJsonString(), Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_golden_first_episode_schedules_activity_A_with_the_orchestration_input()
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.PostAsync("/ApprovalFlow", Envelope(new JsonObject { ["context"] = InvocationEnvelope.EncodeString(GoldenRequest1) }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.String, result.GetProperty("ReturnValue").ValueKind);
        var decoded = OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(result.GetProperty("ReturnValue").GetString()!));
        var action = Assert.Single(decoded.Actions);
        Assert.Equal(0, action.Id);
        Assert.Equal("A", action.ScheduleTask.Name);
        Assert.Equal("\"order-42\"", action.ScheduleTask.Input);
    }

    [Fact]
    public async Task A_corrupt_orchestrator_payload_is_answered_200_with_a_failed_completion()
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.PostAsync("/ApprovalFlow", Envelope(new JsonObject { ["context"] = InvocationEnvelope.EncodeString("not-base64!!") }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        var decoded = OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(result.GetProperty("ReturnValue").GetString()!));
        var completion = Assert.Single(decoded.Actions).CompleteOrchestration;
        Assert.Equal(OrchestrationStatus.Failed, completion.OrchestrationStatus);
        Assert.False(string.IsNullOrEmpty(completion.FailureDetails.ErrorMessage));
    }

    [Fact]
    public async Task An_activity_receives_its_raw_json_input_and_returns_its_result_as_a_json_value()
    {
        await using var app = await StartUnderFunctionsHostAsync();
        var data = new JsonObject { ["input"] = InvocationEnvelope.EncodeString("\"order-42\"") };
        var metadata = new JsonObject { ["instanceId"] = InvocationEnvelope.EncodeString("abc123") };

        var response = await app.Client.PostAsync("/A", Envelope(data, metadata));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("A-done", result.GetProperty("ReturnValue").GetString());
    }

    [Fact]
    public async Task A_failing_activity_answers_200_with_the_failure_envelope_carrying_the_real_error()
    {
        await using var app = await StartUnderFunctionsHostAsync();

        var response = await app.Client.PostAsync("/Fails", Envelope(new JsonObject { ["input"] = InvocationEnvelope.EncodeString("null") }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var returnValue = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ReturnValue").GetRawText();
        Assert.True(Itsm.Durable.ActivityResult.TryReadFailureEnvelope(returnValue, out var failure));
        Assert.Equal("System.InvalidOperationException", failure!.ErrorType);
        Assert.Equal("the CMDB is unreachable", failure.ErrorMessage);
    }

    [Fact]
    public void Orchestrator_and_activity_functions_get_durable_triggers_and_no_return_binding()
    {
        var catalog = new FunctionCatalogBuilder().MapDurableFunctions(SampleDurableFunctions.Create()).Build();

        Assert.Equal(
            """{"bindings":[{"name":"context","type":"orchestrationTrigger","direction":"in"}]}""",
            FunctionJson.Create(catalog.Find("ApprovalFlow")!).ToJsonString());
        Assert.Equal(
            """{"bindings":[{"name":"input","type":"activityTrigger","direction":"in"}]}""",
            FunctionJson.Create(catalog.Find("A")!).ToJsonString());
    }
}
