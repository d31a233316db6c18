using System.Text.Json;

namespace Itsm.Durable;

/// <summary>
/// The outcome of one activity invocation: either the result as JSON text (null when the activity
/// returned nothing) or why it failed. How it travels back to the host is the app's choice: return
/// <see cref="ResultJson"/> as the invocation's <c>ReturnValue</c> (a JSON value, not a string of
/// JSON), and for a failure either answer with an HTTP error (the orchestrator then sees the host's
/// generic failure) or return <see cref="ToFailureEnvelopeJson"/> as the <c>ReturnValue</c>: the
/// replay executor recognises that envelope in <c>TaskCompleted</c> and fails the task with these
/// details instead (the host and monitoring then count the activity as completed).
/// </summary>
public sealed record ActivityResult
{
    /// <summary>The single property of the failure envelope object.</summary>
    public const string FailureEnvelopeProperty = "$itsmActivityFailure";

    private ActivityResult(string? resultJson, TaskFailureDetails? failure)
    {
        ResultJson = resultJson;
        Failure = failure;
    }

    public bool IsSuccess => Failure is null;

    /// <summary>The activity's return value as JSON text; null for no value.</summary>
    public string? ResultJson { get; }

    public TaskFailureDetails? Failure { get; }

    public static ActivityResult Success(string? resultJson) => new(resultJson, null);

    public static ActivityResult Failed(TaskFailureDetails failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return new(null, failure);
    }

    /// <summary>The failure as <c>{"$itsmActivityFailure": {errorType, errorMessage, stackTrace, innerFailure, isNonRetriable}}</c>.</summary>
    public string ToFailureEnvelopeJson()
    {
        var failure = Failure ?? throw new InvalidOperationException("The activity succeeded; there is no failure to describe.");
        return JsonSerializer.Serialize(new Dictionary<string, TaskFailureDetails> { [FailureEnvelopeProperty] = failure }, DurableJson.Options);
    }

    /// <summary>Reads a failure envelope out of a task result, if the result is one.</summary>
    public static bool TryReadFailureEnvelope(string? resultJson, out TaskFailureDetails? failure)
    {
        failure = null;
        if (resultJson is null || !resultJson.Contains(FailureEnvelopeProperty, StringComparison.Ordinal))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(resultJson);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(FailureEnvelopeProperty, out var details))
            {
                failure = details.Deserialize<TaskFailureDetails>(DurableJson.Options);
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return failure is not null;
    }
}
