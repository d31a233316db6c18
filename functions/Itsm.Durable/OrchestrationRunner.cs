using Google.Protobuf;
using Itsm.Durable.Protocol;
using Itsm.Durable.Replay;

namespace Itsm.Durable;

/// <summary>
/// The orchestrator entry point for the Functions app: one episode per call. Every failure, whether
/// a bad payload, an unknown orchestrator, user code throwing or non-determinism, becomes a FAILED
/// <c>CompleteOrchestration</c> action, because the host fails the instance permanently on any
/// error response.
/// </summary>
public static class OrchestrationRunner
{
    /// <summary>Base64 <c>OrchestratorRequest</c> in, base64 <c>OrchestratorResponse</c> out. Never throws.</summary>
    public static string RunBase64(string base64OrchestratorRequest, DurableFunctionRegistry registry, IServiceProvider? services = null)
    {
        OrchestratorRequest request;
        try
        {
            request = OrchestratorRequest.Parser.ParseFrom(Convert.FromBase64String(base64OrchestratorRequest));
        }
        catch (Exception exception)
        {
            var hint = base64OrchestratorRequest is ['"', ..]
                ? " The payload starts with a quote: it is still JSON-encoded and must be JSON-decoded once more before base64 decoding."
                : string.Empty;
            var failure = new TaskFailureDetails(
                exception.GetType().FullName ?? exception.GetType().Name,
                $"The orchestrator request could not be decoded: {exception.Message}{hint}",
                exception.StackTrace,
                IsNonRetriable: true);
            return Encode(FailedResponse(string.Empty, failure));
        }

        return Encode(Run(request, registry, services));
    }

    /// <summary>Replays one episode. Never throws for anything found in the request (only for a null request).</summary>
    public static OrchestratorResponse Run(OrchestratorRequest request, DurableFunctionRegistry registry, IServiceProvider? services = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            ArgumentNullException.ThrowIfNull(registry);
            return new OrchestrationExecutor(request, registry, services ?? EmptyServiceProvider.Instance).Execute();
        }
        catch (Exception exception)
        {
            var failure = new TaskFailureDetails(
                exception.GetType().FullName ?? exception.GetType().Name,
                $"The durable SDK failed while replaying the orchestration: {exception.Message}",
                exception.StackTrace);
            return FailedResponse(request.InstanceId, failure);
        }
    }

    private static OrchestratorResponse FailedResponse(string instanceId, TaskFailureDetails failure) => new()
    {
        InstanceId = instanceId,
        Actions =
        {
            new OrchestratorAction
            {
                Id = 0,
                CompleteOrchestration = new CompleteOrchestrationAction
                {
                    OrchestrationStatus = OrchestrationStatus.Failed,
                    Result = failure.ErrorMessage,
                    FailureDetails = failure.ToWire(),
                },
            },
        },
    };

    private static string Encode(OrchestratorResponse response) => Convert.ToBase64String(response.ToByteArray());
}
