using System.Collections.Concurrent;
using Itsm.Durable.Engine;

namespace Itsm.Durable.Tests.Engine;

/// <summary>
/// The engine's invoker for tests: runs episodes through <see cref="OrchestrationRunner.RunBase64"/>
/// and activities through <see cref="ActivityRunner.RunAsync"/>, as the app does after decoding
/// the host's envelopes. Counts calls, and can be told to fail or to garble orchestrator answers.
/// </summary>
public sealed class RegistryInvoker(DurableFunctionRegistry registry) : IDurableFunctionInvoker
{
    private readonly ConcurrentDictionary<string, int> calls = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>When set, replaces the orchestrator answer (name, request) → response, or throws.</summary>
    public Func<string, string, string>? OrchestratorOverride { get; set; }

    public int Calls(string name) => calls.GetValueOrDefault(name);

    public Task<string> InvokeOrchestratorAsync(string orchestratorName, string base64OrchestratorRequest, CancellationToken cancellationToken)
    {
        calls.AddOrUpdate(orchestratorName, 1, (_, n) => n + 1);
        return Task.FromResult(OrchestratorOverride is { } answer
            ? answer(orchestratorName, base64OrchestratorRequest)
            : OrchestrationRunner.RunBase64(base64OrchestratorRequest, registry));
    }

    public Task<ActivityResult> InvokeActivityAsync(string activityName, string instanceId, string? rawInputJson, CancellationToken cancellationToken)
    {
        calls.AddOrUpdate(activityName, 1, (_, n) => n + 1);
        return ActivityRunner.RunAsync(activityName, rawInputJson, registry, EmptyServiceProvider.Instance, instanceId, cancellationToken);
    }
}
