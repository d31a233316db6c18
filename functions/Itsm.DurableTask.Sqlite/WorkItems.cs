using DurableTask.Core;

namespace Itsm.DurableTask.Sqlite;

/// <summary>An orchestration work item with what its checkpoint needs: the lease and the inbox rows it consumes.</summary>
internal sealed class SqliteOrchestrationWorkItem : TaskOrchestrationWorkItem
{
    public required string LockOwner { get; init; }

    public required string FetchedExecutionId { get; init; }

    public required IReadOnlyList<long> MessageIds { get; init; }

    /// <summary>Set once a checkpoint or an abandon has released the instance's lock in the database.</summary>
    public bool Settled { get; set; }

    public bool Released { get; set; }
}

internal sealed class SqliteActivityWorkItem : TaskActivityWorkItem
{
    public required long RowId { get; init; }

    public required string LockOwner { get; init; }

    public bool Settled { get; set; }
}

internal static class Ticks
{
    public static long Of(DateTime utc) => (utc.Kind == DateTimeKind.Local ? utc.ToUniversalTime() : utc).Ticks;

    public static DateTime ToUtc(long ticks) => new(ticks, DateTimeKind.Utc);

    public static bool IsTerminal(OrchestrationStatus status) => status is OrchestrationStatus.Completed
        or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;
}
