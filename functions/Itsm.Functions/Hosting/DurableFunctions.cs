using Microsoft.DurableTask;

namespace Itsm.Functions.Hosting;

/// <summary>
/// What the three-line <c>[Function]</c> wrappers of orchestrators and activities share (the class-based source
/// generator is not available here): activities built from the invocation's services, and waits on instants.
/// </summary>
public static class DurableFunctions
{
    /// <summary>Builds <typeparamref name="TActivity"/> from <paramref name="services"/> (constructor injection) and runs it.</summary>
    public static Task<TOutput> RunActivityAsync<TActivity, TInput, TOutput>(this IServiceProvider services, string name, string instanceId, TInput input)
        where TActivity : TaskActivity<TInput, TOutput> =>
        ActivatorUtilities.CreateInstance<TActivity>(services).RunAsync(new FunctionActivityContext(name, instanceId), input);

    /// <summary>
    /// Waits for <paramref name="eventName"/> until the instant <paramref name="until"/>: the event's value when it came first.
    /// The instant comes from an activity (the app's clock), never from <c>CurrentUtcDateTime</c> plus a delay, so the
    /// standalone host's fake clock in tests drives these timers like any other time rule.
    /// </summary>
    public static async Task<(bool Received, T? Value)> WaitForEventUntilAsync<T>(this TaskOrchestrationContext context, string eventName, DateTimeOffset until)
    {
        using var eventCancellation = new CancellationTokenSource();
        using var timerCancellation = new CancellationTokenSource();
        var received = context.WaitForExternalEvent<T>(eventName, eventCancellation.Token);
        if (received.IsCompleted)
        {
            return (true, await received);
        }

        var timer = context.CreateTimer(until.UtcDateTime, timerCancellation.Token);
        if (await Task.WhenAny(received, timer) == received)
        {
            // Cancel (not CancelAsync): the callbacks must run on the orchestration's thread.
            timerCancellation.Cancel();
            return (true, await received);
        }

        // The waiter is removed, so a later event is buffered for the next wait instead of being lost.
        eventCancellation.Cancel();
        return (false, default);
    }

    private sealed class FunctionActivityContext(string name, string instanceId) : TaskActivityContext
    {
        public override TaskName Name { get; } = new(name);

        public override string InstanceId { get; } = instanceId;
    }
}
