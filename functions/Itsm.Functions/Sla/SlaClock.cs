using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

public enum SlaClockState
{
    Running,
    Paused,
    Met,
    Breached,
}

/// <summary>Time a clock spent paused: business time (what the pause saved) and wall time (how long it lasted).</summary>
public sealed record PausedTime(TimeSpan Business, TimeSpan Wall);

/// <summary>
/// The clock of one SLA target of one ticket (e.g. resolution within 8 business hours), as a pure state machine:
/// each event returns the next clock, the queries answer for any instant at or after the last event.
/// <para>
/// The clock is a sequence of stretches, each running or paused under the calendar and target in force; an event
/// closes the current stretch (its business time is added to <see cref="ElapsedBefore"/> or to the paused totals,
/// under the calendar of that stretch) and opens the next at <see cref="Since"/>. So a change of target or calendar
/// never loses elapsed or paused time, and time after <see cref="Stop"/> counts for nothing.
/// </para>
/// <para>
/// Events: an event earlier than the last one is refused (out of order). Repeating the current state is a no-op
/// (pause while paused, resume while running, stop or reopen twice), so an event delivered twice is harmless.
/// Pause, resume, retarget and calendar changes on a stopped clock are refused: reopen it first.
/// The target is breached once the elapsed business time reaches it; stopping strictly before the due instant
/// meets it.
/// </para>
/// </summary>
public sealed record SlaClock
{
    private SlaClock(DateTimeOffset startedAt, TimeSpan target, BusinessCalendar calendar)
    {
        StartedAt = startedAt;
        Target = target;
        Calendar = calendar;
        Since = startedAt;
    }

    public DateTimeOffset StartedAt { get; init; }

    /// <summary>The business time allowed, as now in force.</summary>
    public TimeSpan Target { get; init; }

    /// <summary>The calendar of the current stretch.</summary>
    public BusinessCalendar Calendar { get; init; }

    public SlaClockState State { get; init; } = SlaClockState.Running;

    /// <summary>When the current stretch began: the last event that changed the clock (for a stopped clock, the stop).</summary>
    public DateTimeOffset Since { get; init; }

    /// <summary>Business time elapsed in the stretches before <see cref="Since"/>.</summary>
    public TimeSpan ElapsedBefore { get; init; }

    /// <summary>Paused time in the stretches before <see cref="Since"/>.</summary>
    public PausedTime PausedBefore { get; init; } = new(TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>
    /// When the elapsed business time reached the target in force; recorded by the first event after that instant
    /// (use <see cref="IsBreached"/> and <see cref="DueAt"/> for a running clock between events). A retarget that
    /// lowers the target below the elapsed time breaches at the retarget instant; one that raises it above
    /// withdraws the breach.
    /// </summary>
    public DateTimeOffset? BreachedAt { get; init; }

    public DateTimeOffset? StoppedAt { get; init; }

    public bool IsStopped => State is SlaClockState.Met or SlaClockState.Breached;

    /// <summary>A clock as stored (see <see cref="TicketSla"/>), under the calendar of its current stretch.</summary>
    public static SlaClock Restore(TicketSla stored, BusinessCalendar calendar) => new(stored.StartedAt, stored.Target, calendar)
    {
        State = stored.State,
        Since = stored.Since,
        ElapsedBefore = stored.ElapsedBefore,
        PausedBefore = stored.PausedBefore,
        BreachedAt = stored.BreachedAt,
        StoppedAt = stored.StoppedAt,
    };

    public static RuleOutcome<SlaClock> Start(DateTimeOffset start, TimeSpan target, BusinessCalendar calendar)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CheckTarget(target, errors);
        CheckCalendar(calendar, errors);
        return errors.Count > 0 ? RuleOutcome<SlaClock>.Invalid(errors) : RuleOutcome<SlaClock>.Ok(new SlaClock(start, target, calendar));
    }

    public RuleOutcome<SlaClock> Pause(DateTimeOffset at) => Apply(at, "pause", clock => clock.State switch
    {
        SlaClockState.Paused => clock,
        _ => clock.CloseStretch(at) with { State = SlaClockState.Paused },
    });

    public RuleOutcome<SlaClock> Resume(DateTimeOffset at) => Apply(at, "resume", clock => clock.State switch
    {
        SlaClockState.Running => clock,
        _ => clock.CloseStretch(at) with { State = SlaClockState.Running },
    });

    /// <summary>The ticket responded or resolved: met when the elapsed business time is below the target, else breached.</summary>
    public RuleOutcome<SlaClock> Stop(DateTimeOffset at)
    {
        if (IsStopped)
        {
            return OutOfOrder(at) ?? RuleOutcome<SlaClock>.Ok(this);
        }

        if (OutOfOrder(at) is { } refused)
        {
            return refused;
        }

        var closed = CloseStretch(at);
        var outcome = closed.ElapsedBefore >= closed.Target ? SlaClockState.Breached : SlaClockState.Met;
        return RuleOutcome<SlaClock>.Ok(closed with { State = outcome, StoppedAt = at });
    }

    /// <summary>A reopened ticket: the clock runs again from <paramref name="at"/>; the time it was stopped counts for nothing.</summary>
    public RuleOutcome<SlaClock> Reopen(DateTimeOffset at)
    {
        if (!IsStopped)
        {
            return OutOfOrder(at) ?? RuleOutcome<SlaClock>.Ok(this);
        }

        return OutOfOrder(at) ?? RuleOutcome<SlaClock>.Ok(this with { State = SlaClockState.Running, Since = at, StoppedAt = null });
    }

    /// <summary>A priority change: the elapsed time is kept, the due instant follows the new target.</summary>
    public RuleOutcome<SlaClock> Retarget(TimeSpan target, DateTimeOffset at) => ChangePolicy(target, Calendar, at);

    /// <summary>A new calendar from <paramref name="at"/>; the time before it stays counted under the old one.</summary>
    public RuleOutcome<SlaClock> ChangeCalendar(BusinessCalendar calendar, DateTimeOffset at) => ChangePolicy(Target, calendar, at);

    /// <summary>A policy change: new target and calendar from <paramref name="at"/>, elapsed and paused time kept.</summary>
    public RuleOutcome<SlaClock> ChangePolicy(TimeSpan target, BusinessCalendar calendar, DateTimeOffset at)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CheckTarget(target, errors);
        CheckCalendar(calendar, errors);
        if (errors.Count > 0)
        {
            return RuleOutcome<SlaClock>.Invalid(errors);
        }

        return Apply(at, "change the target or calendar of", clock =>
        {
            var closed = clock.CloseStretch(at) with { Target = target, Calendar = calendar };
            return closed with
            {
                BreachedAt = closed.ElapsedBefore >= target ? closed.BreachedAt ?? at : null,
            };
        });
    }

    /// <summary>Business time elapsed up to <paramref name="at"/> (an instant before <see cref="Since"/> reads as <see cref="Since"/>).</summary>
    public TimeSpan Elapsed(DateTimeOffset at) =>
        State == SlaClockState.Running ? ElapsedBefore + Calendar.BusinessTimeBetween(Since, Later(at)) : ElapsedBefore;

    /// <summary>Paused time up to <paramref name="at"/>, in business time and in wall time.</summary>
    public PausedTime Paused(DateTimeOffset at)
    {
        if (State != SlaClockState.Paused)
        {
            return PausedBefore;
        }

        var until = Later(at);
        return new PausedTime(PausedBefore.Business + Calendar.BusinessTimeBetween(Since, until), PausedBefore.Wall + (until - Since));
    }

    /// <summary>Business time left at <paramref name="at"/>; zero at the due instant, negative after it.</summary>
    public TimeSpan Remaining(DateTimeOffset at) => Target - Elapsed(at);

    /// <summary>True once the elapsed business time has reached the target.</summary>
    public bool IsBreached(DateTimeOffset at) => Elapsed(at) >= Target;

    /// <summary>The instant the target is (or was) reached if the clock keeps running; null while paused or stopped.</summary>
    public DateTimeOffset? DueAt() => ThresholdInstant(100);

    /// <summary>
    /// The instant the elapsed business time reaches <paramref name="percent"/> % of the target (1-1000), exact to
    /// the tick, rounded up so that <c>Elapsed(instant) * 100 >= Target * percent</c>. Null while paused or
    /// stopped. A threshold reached before the current stretch gives the instant recorded for a breach (100 % and
    /// above) or else <see cref="Since"/>: an instant in the past, at which it had certainly been reached.
    /// </summary>
    public DateTimeOffset? ThresholdInstant(int percent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 1000);
        if (State != SlaClockState.Running)
        {
            return null;
        }

        var threshold = ThresholdOf(percent);
        if (threshold <= ElapsedBefore)
        {
            return percent >= 100 && BreachedAt is { } breached ? breached : Since;
        }

        return Calendar.AddBusinessTime(Since, threshold - ElapsedBefore);
    }

    /// <summary>The business time at which <paramref name="percent"/> % of the target is reached, rounded up to the tick.</summary>
    public TimeSpan ThresholdOf(int percent)
    {
        var scaled = (Int128)Target.Ticks * percent;
        return TimeSpan.FromTicks((long)((scaled + 99) / 100));
    }

    private SlaClock CloseStretch(DateTimeOffset at)
    {
        switch (State)
        {
            case SlaClockState.Running:
                var elapsed = ElapsedBefore + Calendar.BusinessTimeBetween(Since, at);
                var breachedAt = BreachedAt;
                if (breachedAt is null && elapsed >= Target)
                {
                    breachedAt = Calendar.AddBusinessTime(Since, Target - ElapsedBefore);
                }

                return this with { ElapsedBefore = elapsed, BreachedAt = breachedAt, Since = at };
            case SlaClockState.Paused:
                return this with { PausedBefore = Paused(at), Since = at };
            default:
                return this;
        }
    }

    private RuleOutcome<SlaClock> Apply(DateTimeOffset at, string action, Func<SlaClock, SlaClock> change)
    {
        if (OutOfOrder(at) is { } refused)
        {
            return refused;
        }

        return IsStopped
            ? RuleOutcome<SlaClock>.NotAllowed($"The clock stopped ({State}) at {StoppedAt:O}; reopen it before you {action} it.")
            : RuleOutcome<SlaClock>.Ok(change(this));
    }

    private RuleOutcome<SlaClock>? OutOfOrder(DateTimeOffset at) =>
        at < Since ? RuleOutcome<SlaClock>.NotAllowed($"The event at {at:O} is earlier than the clock's last event at {Since:O}.") : null;

    private DateTimeOffset Later(DateTimeOffset at) => at < Since ? Since : at;

    private static void CheckTarget(TimeSpan target, Dictionary<string, string[]> errors)
    {
        if (target <= TimeSpan.Zero)
        {
            errors["target"] = ["The target must be a positive business duration."];
        }
        else if (target > TimeSpan.FromDays(3660))
        {
            errors["target"] = ["The target must be at most 3660 days of business time."];
        }
    }

    private static void CheckCalendar(BusinessCalendar? calendar, Dictionary<string, string[]> errors)
    {
        if (calendar is null)
        {
            errors["calendar"] = ["A business calendar is required."];
            return;
        }

        foreach (var (field, messages) in calendar.Validate())
        {
            errors[$"calendar.{field}"] = messages;
        }
    }
}
