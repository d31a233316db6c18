namespace Itsm.Durable;

/// <summary>Runs one activity invocation: raw JSON input in, <see cref="ActivityResult"/> out.</summary>
public static class ActivityRunner
{
    /// <summary>
    /// Finds the activity, deserializes the input (one JSON value; null or absent gives the default),
    /// runs it and serializes its result. Never throws for activity errors or bad input: they become
    /// a failed <see cref="ActivityResult"/>. Only cancellation of <paramref name="ct"/> propagates.
    /// </summary>
    public static async Task<ActivityResult> RunAsync(
        string activityName,
        string? rawInputJson,
        DurableFunctionRegistry registry,
        IServiceProvider services,
        string instanceId,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(registry);
        try
        {
            if (!registry.TryCreateActivity(activityName, services ?? EmptyServiceProvider.Instance, out var activity))
            {
                return ActivityResult.Failed(new TaskFailureDetails(
                    typeof(InvalidOperationException).FullName!,
                    $"No activity named '{activityName}' is registered.",
                    IsNonRetriable: true));
            }

            var input = DurableJson.Deserialize(rawInputJson, activity.InputType);
            var context = new TaskActivityContext(activityName, instanceId ?? string.Empty, ct);
            var output = await activity.RunAsync(context, input);
            return ActivityResult.Success(DurableJson.Serialize(output));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            return ActivityResult.Failed(TaskFailureDetails.FromException(exception));
        }
    }
}
