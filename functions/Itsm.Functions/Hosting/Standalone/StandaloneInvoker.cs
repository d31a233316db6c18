using System.Text.Json.Nodes;
using Itsm.Durable;
using Itsm.Durable.Engine;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Builds the envelopes the Functions host would send for each trigger and dispatches them through
/// <see cref="FunctionDispatcher"/>, so standalone mode runs the same parsing and function code as Azure.
/// It then does what the host's output bindings would do with the response (Service Bus outputs).
/// </summary>
public sealed class StandaloneInvoker(FunctionDispatcher dispatcher, EmbeddedQueue queue, TimeProvider time, ILogger<StandaloneInvoker> logger)
    : IDurableFunctionInvoker
{
    public FunctionCatalog Catalog => dispatcher.Catalog;

    public async Task<DispatchResult> InvokeHttpAsync(FunctionDefinition function, HttpTriggerRequest request, CancellationToken cancellationToken)
    {
        var trigger = (HttpTrigger)function.Trigger;
        var data = new JsonObject { [trigger.Name] = request.ToJson() };
        var metadata = new JsonObject();
        foreach (var (name, value) in request.Params)
        {
            metadata[name] = InvocationEnvelope.EncodeString(value);
        }

        return await DispatchAsync(function, data, metadata, cancellationToken);
    }

    public async Task<DispatchResult> InvokeQueueAsync(FunctionDefinition function, ReceivedQueueMessage message, CancellationToken cancellationToken)
    {
        var data = new JsonObject { [function.Trigger.Name] = InvocationEnvelope.EncodeString(message.Body) };
        var metadata = new JsonObject
        {
            ["MessageId"] = InvocationEnvelope.EncodeString(message.MessageId),
            ["DeliveryCount"] = InvocationEnvelope.EncodeJsonText(message.DeliveryCount),
            ["SequenceNumber"] = InvocationEnvelope.EncodeJsonText(message.Sequence),
            ["EnqueuedTimeUtc"] = message.EnqueuedTime.UtcDateTime,
            ["LockedUntilUtc"] = message.LockedUntil.UtcDateTime,
            ["ContentType"] = InvocationEnvelope.EncodeString(message.ContentType),
            ["CorrelationId"] = InvocationEnvelope.EncodeString(message.CorrelationId),
        };
        return await DispatchAsync(function, data, metadata, cancellationToken);
    }

    public async Task<DispatchResult> InvokeTimerAsync(FunctionDefinition function, DateTimeOffset? last, DateTimeOffset next, bool isPastDue, CancellationToken cancellationToken)
    {
        var timerInfo = new JsonObject
        {
            ["Schedule"] = new JsonObject { ["AdjustForDST"] = true },
            ["ScheduleStatus"] = new JsonObject
            {
                ["Last"] = (last ?? DateTimeOffset.MinValue).UtcDateTime.ToString("O"),
                ["Next"] = next.UtcDateTime.ToString("O"),
                ["LastUpdated"] = time.GetUtcNow().UtcDateTime.ToString("O"),
            },
            ["IsPastDue"] = isPastDue,
        };
        return await DispatchAsync(function, new JsonObject { [function.Trigger.Name] = timerInfo }, new JsonObject(), cancellationToken);
    }

    /// <summary>The embedded Durable engine's orchestrator episode, sent as the extension sends it: base64 in a string binding.</summary>
    public async Task<string> InvokeOrchestratorAsync(string orchestratorName, string base64OrchestratorRequest, CancellationToken cancellationToken)
    {
        var function = Catalog.Find(orchestratorName);
        if (function?.Trigger is not OrchestrationTrigger trigger)
        {
            throw new InvalidOperationException($"No orchestrator function named '{orchestratorName}' is declared.");
        }

        var result = await DispatchAsync(function, new JsonObject { [trigger.Name] = InvocationEnvelope.EncodeString(base64OrchestratorRequest) }, new JsonObject(), cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"Orchestrator function '{orchestratorName}' answered {result.StatusCode}: {result.ProblemDetail()}");
        }

        return result.ReadResponse().ReturnValue is JsonValue value && value.TryGetValue<string>(out var base64)
            ? base64
            : throw new InvalidOperationException($"Orchestrator function '{orchestratorName}' returned no base64 OrchestratorResponse.");
    }

    /// <summary>
    /// The embedded Durable engine's activity call: raw JSON input in a string binding, the result from
    /// <c>ReturnValue</c>. A non-2xx answer becomes a failure shaped like the host's.
    /// </summary>
    public async Task<ActivityResult> InvokeActivityAsync(string activityName, string instanceId, string? rawInputJson, CancellationToken cancellationToken)
    {
        var function = Catalog.Find(activityName);
        if (function?.Trigger is not ActivityTrigger trigger)
        {
            return ActivityResult.Failed(new TaskFailureDetails("System.InvalidOperationException", $"No activity function named '{activityName}' is declared.", null, null, IsNonRetriable: true));
        }

        var data = new JsonObject { [trigger.Name] = InvocationEnvelope.EncodeString(rawInputJson ?? "null") };
        var metadata = new JsonObject { ["instanceId"] = InvocationEnvelope.EncodeString(instanceId) };
        var result = await DispatchAsync(function, data, metadata, cancellationToken);
        if (!result.Succeeded)
        {
            return ActivityResult.Failed(new TaskFailureDetails(
                "Microsoft.Azure.WebJobs.Host.FunctionInvocationException",
                $"Exception while executing function: Functions.{activityName}. {result.ProblemDetail()}",
                null,
                null,
                IsNonRetriable: false));
        }

        var returned = result.ReadResponse().ReturnValue?.ToJsonString();
        return ActivityResult.TryReadFailureEnvelope(returned, out var failure) ? ActivityResult.Failed(failure!) : ActivityResult.Success(returned);
    }

    private async Task<DispatchResult> DispatchAsync(FunctionDefinition function, JsonObject data, JsonObject metadata, CancellationToken cancellationToken)
    {
        var invocationId = Guid.NewGuid().ToString();
        metadata["sys"] = new JsonObject
        {
            ["MethodName"] = function.Name,
            ["UtcNow"] = time.GetUtcNow().UtcDateTime.ToString("O"),
            ["RandGuid"] = Guid.NewGuid().ToString(),
        };
        var result = await dispatcher.DispatchAsync(function.Name, InvocationEnvelope.SerializeRequest(data, metadata), invocationId, cancellationToken);
        if (result.Succeeded)
        {
            await ApplyOutputsAsync(function, result.ReadResponse(), cancellationToken);
        }

        return result;
    }

    private async Task ApplyOutputsAsync(FunctionDefinition function, InvocationResponse response, CancellationToken cancellationToken)
    {
        foreach (var log in response.Logs)
        {
            logger.LogInformation("{Function}: {Log}", function.Name, log);
        }

        foreach (var output in function.Bindings.OfType<ServiceBusOutputBinding>())
        {
            if (!response.Outputs.TryGetValue(output.Name, out var value) || value is null)
            {
                continue;
            }

            var messages = value is JsonArray array ? array.ToArray() : [value];
            foreach (var message in messages)
            {
                var body = message is JsonValue text && text.TryGetValue<string>(out var s) ? s : message?.ToJsonString(HttpResults.Json) ?? "null";
                await queue.SendAsync(output.QueueName, new OutgoingQueueMessage(body), cancellationToken);
            }
        }
    }
}
