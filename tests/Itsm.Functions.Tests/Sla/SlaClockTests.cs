using FsCheck;
using FsCheck.Fluent;
using Itsm.Functions.Sla;
using Itsm.Functions.Tickets;
using static Itsm.Functions.Tests.Sla.Calendars;

namespace Itsm.Functions.Tests.Sla;

public class SlaClockTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>Monday 2026-03-02 10:00 in Berlin, 8 business hours: due Tuesday 10:00.</summary>
    private static readonly DateTimeOffset Monday10 = Berlin(2026, 3, 2, 10);

    private static SlaClock Resolution(TimeSpan? target = null, BusinessCalendar? calendar = null) =>
        SlaClock.Start(Monday10, target ?? 8 * Hour, calendar ?? BerlinOffice).Value!;

    private static SlaClock Ok(RuleOutcome<SlaClock> outcome)
    {
        Assert.True(outcome.Succeeded, outcome.Conflict ?? string.Join("; ", outcome.Errors?.SelectMany(e => e.Value) ?? []));
        return outcome.Value!;
    }

    [Fact]
    public void A_new_clock_runs_and_is_due_after_eight_business_hours()
    {
        var clock = Resolution();

        Assert.Equal(SlaClockState.Running, clock.State);
        Assert.Equal(Berlin(2026, 3, 3, 10), clock.DueAt());
        Assert.Equal(3 * Hour, clock.Elapsed(Berlin(2026, 3, 2, 14)));
        Assert.Equal(5 * Hour, clock.Remaining(Berlin(2026, 3, 2, 14)));
        Assert.Equal(new PausedTime(TimeSpan.Zero, TimeSpan.Zero), clock.Paused(Berlin(2026, 3, 2, 14)));
    }

    [Theory]
    [InlineData(50, 2, 15, 0)]
    [InlineData(75, 2, 17, 0)]
    [InlineData(90, 3, 9, 12)]
    [InlineData(100, 3, 10, 0)]
    [InlineData(150, 3, 15, 0)]
    public void Threshold_instants_are_exact(int percent, int day, int hour, int minute)
    {
        var clock = Resolution();

        Assert.Equal(Berlin(2026, 3, day, hour, minute), clock.ThresholdInstant(percent));
        Assert.Equal(TimeSpan.FromTicks(clock.Target.Ticks * percent / 100), clock.Elapsed(clock.ThresholdInstant(percent)!.Value));
    }

    [Fact]
    public void A_threshold_that_is_not_a_whole_second_is_exact_to_the_tick_and_rounded_up()
    {
        var sevenMinutes = Resolution(TimeSpan.FromMinutes(7));
        var odd = Resolution(TimeSpan.FromTicks(10_000_001));

        Assert.Equal(Monday10.AddTicks(1_386_000_000), sevenMinutes.ThresholdInstant(33));
        Assert.Equal(TimeSpan.FromTicks(5_000_001), odd.ThresholdOf(50));
        Assert.Throws<ArgumentOutOfRangeException>(() => odd.ThresholdInstant(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => odd.ThresholdInstant(1001));
    }

    [Fact]
    public void Thresholds_rounded_up_are_reached_at_their_instant_and_not_a_tick_before()
    {
        var cases = from calendar in Gen.Elements(All.ToArray())
                    from seconds in Gen.Choose(1, 200 * 3600)
                    from ticks in Gen.Choose(0, 9_999_999)
                    from percent in Gen.Choose(1, 1000)
                    select (clock: SlaClock.Start(Monday10, TimeSpan.FromSeconds(seconds) + TimeSpan.FromTicks(ticks), calendar).Value!, percent);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var instant = c.clock.ThresholdInstant(c.percent)!.Value;
            var goal = (Int128)c.clock.Target.Ticks * c.percent;
            return (Int128)c.clock.Elapsed(instant).Ticks * 100 >= goal
                && (Int128)c.clock.Elapsed(instant.AddTicks(-1)).Ticks * 100 < goal;
        }));
    }

    [Fact]
    public void Paused_time_is_excluded_and_counted_in_business_and_wall_time()
    {
        var paused = Ok(Resolution().Pause(Berlin(2026, 3, 2, 11)));
        Assert.Null(paused.DueAt());
        Assert.Null(paused.ThresholdInstant(50));
        Assert.Equal(Hour, paused.Elapsed(Berlin(2026, 3, 2, 16)));
        Assert.Equal(new PausedTime(4 * Hour, 5 * Hour), paused.Paused(Berlin(2026, 3, 2, 16)));

        var resumed = Ok(paused.Resume(Berlin(2026, 3, 3, 11)));

        Assert.Equal(SlaClockState.Running, resumed.State);
        Assert.Equal(Hour, resumed.Elapsed(Berlin(2026, 3, 3, 11)));
        Assert.Equal(new PausedTime(8 * Hour, 24 * Hour), resumed.Paused(Berlin(2026, 3, 5, 11)));
        Assert.Equal(Berlin(2026, 3, 4, 10), resumed.DueAt());
    }

    [Fact]
    public void Resolving_just_before_the_deadline_meets_it_and_at_or_after_it_breaches()
    {
        var due = Resolution().DueAt()!.Value;

        var justBefore = Ok(Resolution().Stop(due.AddSeconds(-1)));
        var atDeadline = Ok(Resolution().Stop(due));
        var justAfter = Ok(Resolution().Stop(due.AddSeconds(1)));

        Assert.Equal((SlaClockState.Met, (DateTimeOffset?)null), (justBefore.State, justBefore.BreachedAt));
        Assert.Equal((SlaClockState.Breached, (DateTimeOffset?)due), (atDeadline.State, atDeadline.BreachedAt));
        Assert.Equal((SlaClockState.Breached, (DateTimeOffset?)due), (justAfter.State, justAfter.BreachedAt));
        Assert.Equal(8 * Hour + TimeSpan.FromSeconds(1), justAfter.Elapsed(due.AddDays(3)));
    }

    [Fact]
    public void Resolving_on_saturday_breaches_a_target_due_friday_at_five()
    {
        var clock = SlaClock.Start(Berlin(2026, 3, 6, 13), 4 * Hour, BerlinOffice).Value!;

        var stopped = Ok(clock.Stop(Berlin(2026, 3, 7, 10)));

        Assert.Equal(SlaClockState.Breached, stopped.State);
        Assert.Equal(Berlin(2026, 3, 6, 17), stopped.BreachedAt);
        Assert.Equal(4 * Hour, stopped.Elapsed(Berlin(2026, 3, 9, 12)));
    }

    [Fact]
    public void A_running_clock_past_its_due_instant_is_breached_before_any_event()
    {
        var clock = Resolution();

        Assert.False(clock.IsBreached(Berlin(2026, 3, 3, 9, 59)));
        Assert.True(clock.IsBreached(Berlin(2026, 3, 3, 10)));
        Assert.Equal(-Hour, clock.Remaining(Berlin(2026, 3, 3, 11)));
        Assert.Null(clock.BreachedAt);
        Assert.Equal(Berlin(2026, 3, 3, 10), Ok(clock.Pause(Berlin(2026, 3, 3, 11))).BreachedAt);
    }

    [Fact]
    public void A_priority_change_keeps_the_elapsed_time_and_moves_the_due_instant()
    {
        var retargeted = Ok(Resolution().Retarget(4 * Hour, Berlin(2026, 3, 2, 13)));

        Assert.Equal(2 * Hour, retargeted.Elapsed(Berlin(2026, 3, 2, 13)));
        Assert.Equal(Berlin(2026, 3, 2, 15), retargeted.DueAt());
        Assert.Equal(Berlin(2026, 3, 2, 14), retargeted.ThresholdInstant(75));
    }

    [Fact]
    public void A_target_lowered_below_the_elapsed_time_breaches_at_the_change_and_raising_it_withdraws_the_breach()
    {
        var lowered = Ok(Resolution().Retarget(4 * Hour, Berlin(2026, 3, 2, 16)));

        Assert.Equal(Berlin(2026, 3, 2, 16), lowered.BreachedAt);
        Assert.Equal(Berlin(2026, 3, 2, 16), lowered.DueAt());
        Assert.True(lowered.IsBreached(Berlin(2026, 3, 2, 16)));

        var raised = Ok(lowered.Retarget(8 * Hour, Berlin(2026, 3, 2, 16, 30)));

        Assert.Null(raised.BreachedAt);
        Assert.Equal(Berlin(2026, 3, 3, 10), raised.DueAt());
        Assert.Equal(SlaClockState.Met, Ok(raised.Stop(Berlin(2026, 3, 3, 9))).State);
    }

    [Fact]
    public void A_calendar_change_counts_time_before_it_under_the_old_calendar()
    {
        var changed = Ok(Resolution().ChangeCalendar(BerlinAlwaysOn, Berlin(2026, 3, 2, 12)));

        Assert.Equal(2 * Hour, changed.Elapsed(Berlin(2026, 3, 2, 12)));
        Assert.Equal(4 * Hour, changed.Elapsed(Berlin(2026, 3, 2, 14)));
        Assert.Equal(Berlin(2026, 3, 2, 18), changed.DueAt());
    }

    // GLPI: "pending time is lost when the SLA changes". Changing the SLA of a ticket that waits recomputed its
    // clock from the start, so the waiting time already spent counted as if the clock had run.
    [Fact]
    public void Glpi_pending_time_lost_when_the_sla_changes__paused_time_stays_excluded_after_a_policy_change()
    {
        var paused = Ok(Resolution().Pause(Berlin(2026, 3, 2, 11)));
        var changed = Ok(paused.ChangePolicy(16 * Hour, BerlinAlwaysOn, Berlin(2026, 3, 2, 15)));
        var resumed = Ok(changed.Resume(Berlin(2026, 3, 3, 11)));

        Assert.Equal(SlaClockState.Paused, changed.State);
        Assert.Null(changed.DueAt());
        Assert.Equal(Hour, resumed.Elapsed(Berlin(2026, 3, 3, 11)));
        Assert.Equal(new PausedTime((3 * Hour) + (20 * Hour), 24 * Hour), resumed.Paused(Berlin(2026, 3, 3, 12)));
        Assert.Equal(Berlin(2026, 3, 4, 2), resumed.DueAt());
    }

    [Fact]
    public void Glpi_pending_time_lost_when_the_sla_changes__a_priority_change_while_paused_keeps_elapsed_and_paused_time()
    {
        var clock = Ok(Ok(Ok(Resolution().Pause(Berlin(2026, 3, 2, 11)))
            .Retarget(4 * Hour, Berlin(2026, 3, 2, 14)))
            .Resume(Berlin(2026, 3, 3, 11)));

        Assert.Equal(Hour, clock.Elapsed(Berlin(2026, 3, 3, 11)));
        Assert.Equal(new PausedTime(8 * Hour, 24 * Hour), clock.Paused(Berlin(2026, 3, 3, 11)));
        Assert.Equal(Berlin(2026, 3, 3, 15), clock.DueAt());
    }

    // GLPI: "solved time counted as pending". Time after the ticket was solved kept adding to the waiting time
    // (and so moved the due date and the statistics).
    [Fact]
    public void Glpi_solved_time_counted_as_pending__stopping_while_paused_freezes_elapsed_and_paused_time()
    {
        var stopped = Ok(Ok(Resolution().Pause(Berlin(2026, 3, 2, 11))).Stop(Berlin(2026, 3, 2, 14)));
        var muchLater = Berlin(2026, 3, 20, 12);

        Assert.Equal(SlaClockState.Met, stopped.State);
        Assert.Equal(Hour, stopped.Elapsed(muchLater));
        Assert.Equal(new PausedTime(2 * Hour, 3 * Hour), stopped.Paused(muchLater));
        Assert.Null(stopped.DueAt());
    }

    [Fact]
    public void Glpi_solved_time_counted_as_pending__stopping_after_resume_uses_elapsed_business_time_only()
    {
        var clock = Ok(Ok(Ok(Resolution(2 * Hour).Pause(Berlin(2026, 3, 2, 11))).Resume(Berlin(2026, 3, 2, 14))).Stop(Berlin(2026, 3, 2, 14, 30)));
        var muchLater = Berlin(2026, 3, 20, 12);

        Assert.Equal(SlaClockState.Met, clock.State);
        Assert.Equal(1.5 * Hour, clock.Elapsed(muchLater));
        Assert.Equal(0.5 * Hour, clock.Remaining(muchLater));
        Assert.Equal(new PausedTime(2 * Hour, 3 * Hour), clock.Paused(muchLater));
        Assert.Equal(Berlin(2026, 3, 2, 14, 30), clock.StoppedAt);
    }

    [Fact]
    public void Repeating_the_current_state_is_a_no_op()
    {
        var running = Resolution();
        var paused = Ok(running.Pause(Berlin(2026, 3, 2, 11)));
        var stopped = Ok(running.Stop(Berlin(2026, 3, 2, 11)));

        Assert.Same(running, Ok(running.Resume(Berlin(2026, 3, 2, 11))));
        Assert.Same(running, Ok(running.Reopen(Berlin(2026, 3, 2, 11))));
        Assert.Same(paused, Ok(paused.Pause(Berlin(2026, 3, 2, 12))));
        Assert.Same(stopped, Ok(stopped.Stop(Berlin(2026, 3, 2, 12))));
    }

    [Fact]
    public void An_event_earlier_than_the_last_one_is_refused_with_the_reason()
    {
        var paused = Ok(Resolution().Pause(Berlin(2026, 3, 2, 11)));

        foreach (var outcome in new[] { paused.Resume(Berlin(2026, 3, 2, 10, 30)), paused.Stop(Berlin(2026, 3, 2, 10, 59)), paused.Retarget(Hour, Berlin(2026, 3, 2, 10)), Resolution().Pause(Berlin(2026, 3, 2, 9)) })
        {
            Assert.False(outcome.Succeeded);
            Assert.Contains("earlier than the clock's last event", outcome.Conflict, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_stopped_clock_refuses_pause_resume_and_changes_until_reopened()
    {
        var stopped = Ok(Resolution().Stop(Berlin(2026, 3, 2, 12)));

        foreach (var outcome in new[] { stopped.Pause(Berlin(2026, 3, 2, 13)), stopped.Resume(Berlin(2026, 3, 2, 13)), stopped.Retarget(Hour, Berlin(2026, 3, 2, 13)), stopped.ChangeCalendar(BerlinAlwaysOn, Berlin(2026, 3, 2, 13)) })
        {
            Assert.Contains("reopen it", outcome.Conflict, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_reopened_clock_runs_on_from_its_elapsed_time_and_the_stopped_time_counts_for_nothing()
    {
        var stopped = Ok(Resolution().Stop(Berlin(2026, 3, 2, 12)));

        var reopened = Ok(stopped.Reopen(Berlin(2026, 3, 4, 10)));

        Assert.Equal((SlaClockState.Running, (DateTimeOffset?)null), (reopened.State, reopened.StoppedAt));
        Assert.Equal(4 * Hour, reopened.Elapsed(Berlin(2026, 3, 4, 12)));
        Assert.Equal(new PausedTime(TimeSpan.Zero, TimeSpan.Zero), reopened.Paused(Berlin(2026, 3, 4, 12)));
        Assert.Equal(Berlin(2026, 3, 4, 17), reopened.DueAt());
        Assert.Equal(SlaClockState.Met, Ok(reopened.Stop(Berlin(2026, 3, 4, 12))).State);
    }

    [Fact]
    public void Queries_before_the_last_event_read_as_the_last_event()
    {
        var resumed = Ok(Ok(Resolution().Pause(Berlin(2026, 3, 2, 11))).Resume(Berlin(2026, 3, 2, 14)));

        Assert.Equal(Hour, resumed.Elapsed(Berlin(2026, 3, 2, 10)));
        Assert.Equal(Hour, resumed.Elapsed(Berlin(2026, 3, 2, 14)));
    }

    [Fact]
    public void Targets_of_zero_and_invalid_calendars_are_refused()
    {
        var zero = SlaClock.Start(Monday10, TimeSpan.Zero, BerlinOffice with { TimeZoneId = "Mars/Olympus_Mons" });
        var change = Resolution().ChangePolicy(-Hour, BusinessCalendar.Weekly("Europe/Berlin", []), Berlin(2026, 3, 2, 12));

        Assert.Equal(["calendar.timeZoneId", "target"], zero.Errors!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["calendar.weeklyHours", "target"], change.Errors!.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Elapsed_and_paused_business_time_always_add_up_to_the_calendar_time_since_the_start()
    {
        // Random pauses, resumes and priority changes; then the invariants at a later instant.
        var steps = Gen.ListOf(from kind in Gen.Choose(0, 2) from minutes in Gen.Choose(0, 5000) from hours in Gen.Choose(1, 40) select (kind, minutes, hours), 12);
        var cases = from calendar in Gen.Elements(All.ToArray()) from events in steps from tail in Gen.Choose(0, 5000) select (calendar, events, tail);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(150), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var clock = SlaClock.Start(Monday10, 8 * Hour, c.calendar).Value!;
            var at = Monday10;
            foreach (var (kind, minutes, hours) in c.events)
            {
                at = at.AddMinutes(minutes);
                clock = (kind switch { 0 => clock.Pause(at), 1 => clock.Resume(at), _ => clock.Retarget(TimeSpan.FromHours(hours), at) }).Value!;
            }

            var now = at.AddMinutes(c.tail);
            var due = clock.DueAt();
            var stopped = clock.Stop(now).Value!;
            var later = now.AddDays(30);
            return clock.Elapsed(now) + clock.Paused(now).Business == c.calendar.BusinessTimeBetween(Monday10, now)
                && clock.Paused(now).Wall <= now - Monday10
                && (clock.State == SlaClockState.Paused ? due is null : clock.Elapsed(due!.Value) == clock.Target || clock.ElapsedBefore >= clock.Target)
                && (clock.BreachedAt is not null) == (clock.ElapsedBefore >= clock.Target)
                && stopped.Elapsed(later) == clock.Elapsed(now)
                && stopped.Paused(later) == clock.Paused(now)
                && stopped.State == (clock.Elapsed(now) >= clock.Target ? SlaClockState.Breached : SlaClockState.Met);
        }));
    }
}
