namespace Itsm.Durable.Engine;

/// <summary>
/// How the embedded engine runs orchestrator episodes and activities. The app implements it by
/// sending the same invocation envelopes the Functions host sends, so the standalone code path is
/// the Azure one; tests call <see cref="OrchestrationRunner"/> and <see cref="ActivityRunner"/>.
/// </summary>
public interface IDurableFunctionInvoker
{
    /// <summary>Runs one orchestrator episode; returns the base64 <c>OrchestratorResponse</c>. Throws only for transport/host failures.</summary>
    Task<string> InvokeOrchestratorAsync(string orchestratorName, string base64OrchestratorRequest, CancellationToken cancellationToken);

    /// <summary>Runs one activity; raw JSON input text (or null). Failure is reported in the <see cref="ActivityResult"/>, not thrown.</summary>
    Task<ActivityResult> InvokeActivityAsync(string activityName, string instanceId, string? rawInputJson, CancellationToken cancellationToken);
}
