using System.Text.Json;
using System.Text.Json.Nodes;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Builds the envelopes the Functions host would send for each trigger and dispatches them through
/// <see cref="FunctionDispatcher"/>, so standalone mode runs the same parsing and function code as Azure.
/// It then does what the host's output bindings would do with the response (Service Bus outputs).
/// </summary>
public sealed class StandaloneInvoker(FunctionDispatcher dispatcher, EmbeddedQueue queue, TimeProvider time, ILogger<StandaloneInvoker> logger)
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
