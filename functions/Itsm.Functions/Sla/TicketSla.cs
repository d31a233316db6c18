using System.Text.Json.Serialization;

namespace Itsm.Functions.Sla;

[JsonConverter(typeof(JsonStringEnumConverter<SlaMetric>))]
public enum SlaMetric
{
    /// <summary>Until an agent first responds: a public comment, or the ticket leaving New.</summary>
    Response,

    /// <summary>Until the ticket is resolved (or closed, or cancelled).</summary>
    Resolution,

    /// <summary>An operational-level agreement: while the ticket is assigned to one group, until it leaves that group or is resolved.</summary>
    GroupResolution,
}

/// <summary>
/// One SLA (or OLA) target of a ticket, stored on the ticket so that each ticket write moves its clocks in the same
/// transaction: the state of its <see cref="SlaClock"/>, the policy and calendar in force, and which thresholds
/// have fired. <see cref="Generation"/> counts the clock's runs: a reopened clock is a new generation, with a new
/// orchestration instance.
/// </summary>
public sealed record TicketSla
{
    /// <summary>"response", "resolution" or "ola:" + the escaped group name; unique per ticket.</summary>
    public required string Key { get; init; }

    public required SlaMetric Metric { get; init; }

    public string? Group { get; init; }

    public required string PolicyId { get; init; }

    public required int PolicyVersion { get; init; }

    public required string CalendarId { get; init; }

    public required int CalendarVersion { get; init; }

    public int Generation { get; init; } = 1;

    public required SlaClockState State { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public required DateTimeOffset Since { get; init; }

    public required TimeSpan Target { get; init; }

    public TimeSpan ElapsedBefore { get; init; }

    public PausedTime PausedBefore { get; init; } = new(TimeSpan.Zero, TimeSpan.Zero);

    public DateTimeOffset? BreachedAt { get; init; }

    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>The warning percentages (and 100 for the breach) already acted on: each fires at most once per clock.</summary>
    public IReadOnlyList<int> FiredThresholds { get; init; } = [];

    [JsonIgnore]
    public bool IsStopped => State is SlaClockState.Met or SlaClockState.Breached;

    public static string KeyFor(SlaMetric metric, string? group) => metric switch
    {
        SlaMetric.Response => "response",
        SlaMetric.Resolution => "resolution",
        _ => "ola:" + Uri.EscapeDataString(group ?? ""),
    };

    /// <summary>The Durable instance of this clock's current generation; deterministic, so starts and events are idempotent.</summary>
    public static string InstanceId(string tenantId, string ticketId, string key, int generation) =>
        $"sla:{tenantId}:{ticketId}:{key}:{generation}";

    public TicketSla With(SlaClock clock) => this with
    {
        State = clock.State,
        StartedAt = clock.StartedAt,
        Since = clock.Since,
        Target = clock.Target,
        ElapsedBefore = clock.ElapsedBefore,
        PausedBefore = clock.PausedBefore,
        BreachedAt = clock.BreachedAt,
        StoppedAt = clock.StoppedAt,
    };
}
