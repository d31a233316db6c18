using System.Text.Json.Nodes;
using Itsm.Durable;

namespace Itsm.Functions.Hosting.Durable;

/// <summary>
/// Declares every orchestrator and activity of a <see cref="DurableFunctionRegistry"/> as a function:
/// an <c>orchestrationTrigger</c> or <c>activityTrigger</c> binding and nothing else (never <c>$return</c>).
/// </summary>
public static class DurableFunctionDeclarations
{
    public const string OrchestrationTriggerBinding = "context";
    public const string ActivityTriggerBinding = "input";

    public static FunctionCatalogBuilder MapDurableFunctions(this FunctionCatalogBuilder functions, DurableFunctionRegistry registry)
    {
        foreach (var name in registry.OrchestratorNames.Order(StringComparer.Ordinal))
        {
            functions.Add(new FunctionDefinition(name, new OrchestrationTrigger(OrchestrationTriggerBinding), [], invocation => Task.FromResult(RunOrchestrator(invocation, registry))));
        }

        foreach (var name in registry.ActivityNames.Order(StringComparer.Ordinal))
        {
            functions.Add(new FunctionDefinition(name, new ActivityTrigger(ActivityTriggerBinding), [], invocation => RunActivityAsync(invocation, registry)));
        }

        return functions;
    }

    /// <summary>
    /// base64 <c>OrchestratorRequest</c> in, base64 <c>OrchestratorResponse</c> out as a plain JSON string
    /// return value, always with status 200: the extension fails an orchestration for good on any HTTP
    /// error, so every problem (corrupt payload included) is answered as a FAILED completion.
    /// </summary>
    private static InvocationResult RunOrchestrator(FunctionInvocation invocation, DurableFunctionRegistry registry)
    {
        var payload = invocation.Request.Data.TryGetValue(OrchestrationTriggerBinding, out var raw) ? InvocationEnvelope.DecodeString(raw) : "";
        var response = OrchestrationRunner.RunBase64(payload, registry, invocation.Services);
        return invocation.Succeeded(JsonValue.Create(response));
    }

    /// <summary>
    /// Raw JSON input text in; the result as a JSON value out. A failed activity answers 200 with the
    /// SDK's failure envelope so the orchestrator sees the real error rather than the host's generic one.
    /// </summary>
    private static async Task<InvocationResult> RunActivityAsync(FunctionInvocation invocation, DurableFunctionRegistry registry)
    {
        string? input = invocation.Request.Data.TryGetValue(ActivityTriggerBinding, out var raw) ? InvocationEnvelope.DecodeString(raw) : null;
        var instanceId = invocation.GetMetadata("instanceId") is { ValueKind: System.Text.Json.JsonValueKind.String } id ? id.GetString()! : "";
        var result = await ActivityRunner.RunAsync(invocation.Function.Name, input, registry, invocation.Services, instanceId, invocation.CancellationToken);
        var json = result.IsSuccess ? result.ResultJson : result.ToFailureEnvelopeJson();
        return invocation.Succeeded(json is null ? null : JsonNode.Parse(json));
    }
}
