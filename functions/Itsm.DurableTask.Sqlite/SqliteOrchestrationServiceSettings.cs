using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.DurableTask.Sqlite;

/// <summary>Settings of <see cref="SqliteOrchestrationService"/>.</summary>
/// <param name="DatabasePath">The SQLite file; give the provider a file of its own (its tables are prefixed <c>dt_</c> anyway).</param>
public sealed record SqliteOrchestrationServiceSettings(string DatabasePath)
{
    /// <summary>Every time decision of the provider: visibility of events and durable timers, lock expiry, recorded timestamps.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How long a fetched orchestration or activity stays locked unless renewed.</summary>
    public TimeSpan WorkItemLockDuration { get; init; } = TimeSpan.FromMinutes(1);

    public int MaxConcurrentOrchestrationWorkItems { get; init; } = 100;

    public int MaxConcurrentActivityWorkItems { get; init; } = 100;

    /// <summary>First delay after an abandoned work item; doubled per further abandon, up to <see cref="MaxAbandonBackoff"/>.</summary>
    public TimeSpan AbandonBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxAbandonBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many writes (checkpoints, locks, messages) share one transaction and one fsync.</summary>
    public int MaxWriteBatch { get; init; } = 128;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
