using Itsm.Durable;
using Itsm.Durable.Client;
using Itsm.Durable.Engine;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary><see cref="IDurableClient"/> over the embedded engine (standalone mode).</summary>
public sealed class EmbeddedDurableClient(EmbeddedDurableEngine engine) : IDurableClient
{
    public async Task<StartInstanceResult> StartNewAsync(string orchestratorName, string instanceId, object? input = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        var result = await engine.StartAsync(orchestratorName, instanceId, DurableJson.Serialize(input), cancellationToken);
        return new StartInstanceResult(result.InstanceId, result.Created);
    }

    public async Task<DurableClientOutcome> RaiseEventAsync(string instanceId, string eventName, object? data = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        return await engine.RaiseEventAsync(instanceId, eventName, DurableJson.Serialize(data), cancellationToken) switch
        {
            RaiseEventOutcome.Accepted => DurableClientOutcome.Accepted,
            RaiseEventOutcome.NotFound => DurableClientOutcome.NotFound,
            _ => DurableClientOutcome.InstanceCompleted,
        };
    }

    public async Task<DurableInstanceStatus?> GetStatusAsync(string instanceId, bool showInput = true, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        var status = await engine.GetStatusAsync(instanceId, showInput, cancellationToken);
        return status is null
            ? null
            : new DurableInstanceStatus(status.InstanceId, status.Name, status.RuntimeStatus.ToString(), status.InputJson, status.OutputJson, status.CustomStatusJson, status.CreatedAt, status.LastUpdatedAt);
    }

    public async Task<DurableClientOutcome> TerminateAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        return await engine.TerminateAsync(instanceId, reason, cancellationToken) switch
        {
            TerminateOutcome.Accepted => DurableClientOutcome.Accepted,
            TerminateOutcome.NotFound => DurableClientOutcome.NotFound,
            _ => DurableClientOutcome.InstanceCompleted,
        };
    }

    public Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ThrowIfInvalid(instanceId);
        return engine.PurgeAsync(instanceId, cancellationToken);
    }

    private static void ThrowIfInvalid(string instanceId)
    {
        if (InstanceIds.Validate(instanceId) is { } error)
        {
            throw new ArgumentException(error, nameof(instanceId));
        }
    }
}

/// <summary>Starts the embedded engine with the app and stops it gracefully (episodes and activities in flight finish).</summary>
public sealed class EmbeddedEngineHost(EmbeddedDurableEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => engine.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync(cancellationToken);
}
