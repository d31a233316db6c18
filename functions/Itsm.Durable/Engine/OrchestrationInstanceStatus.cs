namespace Itsm.Durable.Engine;

/// <summary>Runtime status of an instance; the numbers are the wire <c>OrchestrationStatus</c> values.</summary>
public enum OrchestrationRuntimeStatus
{
    Running = 0,
    Completed = 1,
    ContinuedAsNew = 2,
    Failed = 3,
    Canceled = 4,
    Terminated = 5,
    Pending = 6,
    Suspended = 7,
}

/// <summary>
/// What the management API shows for an instance. Output, custom status and input are JSON text;
/// text that is not JSON (a terminate reason, a failure message) is returned as a JSON string, as
/// the Durable status API does.
/// </summary>
public sealed record OrchestrationInstanceStatus(
    string InstanceId,
    string Name,
    OrchestrationRuntimeStatus RuntimeStatus,
    string? InputJson,
    string? OutputJson,
    string? CustomStatusJson,
    TaskFailureDetails? Failure,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUpdatedAt)
{
    public string ExecutionId { get; init; } = string.Empty;

    /// <summary>The parent's instance id for a sub-orchestration, else null.</summary>
    public string? ParentInstanceId { get; init; }

    public bool IsTerminal => RuntimeStatus.IsTerminal();
}

/// <summary>The result of a start: <see cref="Created"/> is false when the instance id already existed (it was not started again).</summary>
public sealed record StartOrchestrationResult(string InstanceId, bool Created, OrchestrationRuntimeStatus RuntimeStatus);

public enum RaiseEventOutcome
{
    Accepted,
    NotFound,

    /// <summary>The instance has finished (HTTP 410 Gone in the management API).</summary>
    InstanceCompleted,
}

public enum TerminateOutcome
{
    Accepted,
    NotFound,

    /// <summary>The instance has finished (HTTP 410 Gone in the management API).</summary>
    InstanceCompleted,
}

public static class OrchestrationRuntimeStatusExtensions
{
    /// <summary>Completed, Failed, Terminated or Canceled: the instance runs no more episodes.</summary>
    public static bool IsTerminal(this OrchestrationRuntimeStatus status) => status is
        OrchestrationRuntimeStatus.Completed or
        OrchestrationRuntimeStatus.Failed or
        OrchestrationRuntimeStatus.Terminated or
        OrchestrationRuntimeStatus.Canceled;
}
