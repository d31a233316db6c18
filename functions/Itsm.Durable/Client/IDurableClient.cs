namespace Itsm.Durable.Client;

/// <summary>
/// Manages orchestration instances. In Azure it speaks the Durable extension's HTTP management API with
/// the values of the <c>durableClient</c> binding; standalone it talks to the embedded engine.
/// </summary>
public interface IDurableClient
{
    /// <summary>Starts an instance with a caller-chosen id. Idempotent: an existing id is not started again.</summary>
    Task<StartInstanceResult> StartNewAsync(string orchestratorName, string instanceId, object? input = null, CancellationToken cancellationToken = default);

    Task<DurableClientOutcome> RaiseEventAsync(string instanceId, string eventName, object? data = null, CancellationToken cancellationToken = default);

    Task<DurableInstanceStatus?> GetStatusAsync(string instanceId, bool showInput = true, CancellationToken cancellationToken = default);

    Task<DurableClientOutcome> TerminateAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a finished instance and its history; false when there is no such instance.</summary>
    Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);
}

/// <summary>What a management call did: accepted, no such instance (404), or the instance already finished (410).</summary>
public enum DurableClientOutcome
{
    Accepted,
    NotFound,
    InstanceCompleted,
}

public sealed record StartInstanceResult(string InstanceId, bool Created);

/// <summary>An instance as the status API reports it; payloads are JSON text.</summary>
public sealed record DurableInstanceStatus(
    string InstanceId,
    string Name,
    string RuntimeStatus,
    string? InputJson,
    string? OutputJson,
    string? CustomStatusJson,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt)
{
    public bool IsTerminal => RuntimeStatus is "Completed" or "Failed" or "Terminated" or "Canceled";
}

/// <summary>Instance ids as the extension accepts them: at most 256 characters, no leading '@', none of / \ # ? or control characters.</summary>
public static class InstanceIds
{
    public static string? Validate(string instanceId)
    {
        if (string.IsNullOrEmpty(instanceId))
        {
            return "An instance id is required.";
        }

        if (instanceId.Length > 256)
        {
            return "An instance id has at most 256 characters.";
        }

        if (instanceId[0] == '@' || instanceId.IndexOfAny(['/', '\\', '#', '?']) >= 0 || instanceId.Any(char.IsControl))
        {
            return "An instance id must not start with '@' or contain '/', '\\', '#', '?' or control characters.";
        }

        return null;
    }
}
