namespace Itsm.Durable.Engine;

/// <summary>Settings of the embedded engine. <paramref name="DatabasePath"/> may be the app's own SQLite file: every table is prefixed <c>durable_</c>.</summary>
public sealed record EmbeddedEngineOptions(string DatabasePath)
{
    /// <summary>How long a running activity stays locked without a renewal; after a crash it runs again once this has passed.</summary>
    public TimeSpan ActivityLockDuration { get; init; } = TimeSpan.FromMinutes(5);

    public int MaxConcurrentActivities { get; init; } = 16;

    public int MaxConcurrentOrchestrations { get; init; } = 16;

    /// <summary>
    /// How many times an activity is started before the engine gives up on it with a <c>TaskFailed</c>.
    /// Only crashes (a lock that expired) cause another start: activity failures are reported to the
    /// orchestrator, whose retry policy decides. Null: no limit.
    /// </summary>
    public int? ActivityMaxAttempts { get; init; }

    /// <summary>The longest single wait of a dispatch loop; a later due time is reached in several waits.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromHours(1);
}
