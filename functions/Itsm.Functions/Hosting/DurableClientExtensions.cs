using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The two ways the product starts and wakes orchestrations, on Microsoft's <see cref="DurableTaskClient"/> in either
/// host. Instance ids are derived from what the orchestration is about (a ticket's clock, an approval), so starting
/// is idempotent: an instance that exists, in any state, is never started again (the Durable extension would
/// otherwise replace a finished one).
/// </summary>
public static class DurableClientExtensions
{
    /// <summary>Starts <paramref name="orchestratorName"/> as <paramref name="instanceId"/> unless that instance exists; true when this call started it.</summary>
    public static async Task<bool> StartOnceAsync(this DurableTaskClient client, string orchestratorName, string instanceId, object input, CancellationToken cancellationToken)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is not null)
        {
            return false;
        }

        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, new StartOrchestrationOptions(instanceId), cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Another writer may have started it between the check and the start.
            if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, CancellationToken.None) is not null)
            {
                return false;
            }

            throw;
        }
    }

    /// <summary>Raises an event on a running instance; false (and nothing raised) when it does not exist or has finished.</summary>
    public static async Task<bool> TryRaiseEventAsync(this DurableTaskClient client, string instanceId, string eventName, object? eventData, CancellationToken cancellationToken)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is null || instance.IsCompleted)
        {
            return false;
        }

        await client.RaiseEventAsync(instanceId, eventName, eventData, cancellationToken);
        return true;
    }
}
