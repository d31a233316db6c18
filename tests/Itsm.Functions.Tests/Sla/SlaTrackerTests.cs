using Itsm.Functions.Sla;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;
using static Itsm.Functions.Tests.Sla.Calendars;

namespace Itsm.Functions.Tests.Sla;

/// <summary>
/// The SLA rules on ticket writes: clocks start, pause, resume, stop, reopen and re-target from the ticket's state at
/// the instant of each write, and thresholds fire once. The ticket is raised Monday 2 March 2026 at 09:00 in Berlin;
/// the office works 08:00-12:00 and 13:00-17:00 on weekdays.
/// </summary>
public class SlaTrackerTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static readonly SlaPolicy Standard = new()
    {
        Id = "standard",
        Name = "Standard",
        CalendarId = "office",
        ResponseMinutes = new Dictionary<int, int> { [1] = 15, [2] = 30, [3] = 240, [4] = 480, [5] = 960 },
        ResolutionMinutes = new Dictionary<int, int> { [1] = 240, [2] = 480, [3] = 960, [4] = 2400, [5] = 4800 },
        Olas = [new OlaTarget("network", new Dictionary<int, int> { [3] = 120 })],
        PauseStates = ["OnHold:AwaitingCaller"],
        OnBreach = new BreachActions([BreachNotify.Assignee, BreachNotify.GroupManager], "major-incident-desk", RaisePriority: true),
    };

    private static readonly SlaPolicy Vip = new()
    {
        Id = "vip",
        Name = "VIP around the clock",
        Order = -1,
        CalendarId = "24x7",
        AppliesTo = new SlaConditions([], [], ["payroll"], []),
        ResolutionMinutes = new Dictionary<int, int> { [3] = 600 },
        PauseStates = ["OnHold"],
    };

    private static SlaContext Context(params SlaPolicy[] policies) => new(
        policies.Length == 0 ? [Standard] : policies,
        new Dictionary<string, int> { ["office"] = 1, ["24x7"] = 1 },
        (id, _) => id == "office" ? BerlinOffice : BerlinAlwaysOn);

    private static Ticket Raised(SlaContext? context = null) =>
        SlaTracker.Reconcile(new TicketBuilder().With(t => t with { Revision = 1, CreatedAt = Berlin(2026, 3, 2, 9), UpdatedAt = Berlin(2026, 3, 2, 9) }), context ?? Context(), Berlin(2026, 3, 2, 9)).Ticket;

    private static SlaUpdate Write(Ticket ticket, DateTimeOffset at, Func<Ticket, Ticket> change, SlaContext? context = null) =>
        SlaTracker.Reconcile(change(ticket) with { UpdatedAt = at, Revision = ticket.Revision + 1 }, context ?? Context(), at);

    private static SlaClock Clock(Ticket ticket, string key, SlaContext? context = null)
    {
        var stored = ticket.Sla.Single(c => c.Key == key);
        return SlaClock.Restore(stored, (context ?? Context()).Calendar(stored.CalendarId, stored.CalendarVersion));
    }

    private static Ticket OnHold(Ticket t, HoldReason reason) => t with { State = TicketState.OnHold, HoldReason = reason };

    private static Ticket InProgress(Ticket t) => t with { State = TicketState.InProgress, HoldReason = null };

    private static Ticket Resolved(Ticket t) => t with { State = TicketState.Resolved };

    [Fact]
    public void A_new_ticket_starts_its_response_and_resolution_clocks_at_its_creation_under_the_matching_policy()
    {
        var update = SlaTracker.Reconcile(new TicketBuilder().With(t => t with { Revision = 1, CreatedAt = Berlin(2026, 3, 2, 9), UpdatedAt = Berlin(2026, 3, 2, 9) }), Context(), Berlin(2026, 3, 2, 9));

        Assert.Equal(["response", "resolution"], update.Ticket.Sla.Select(c => c.Key));
        Assert.Equal(["sla.started", "sla.started"], update.Events.Select(e => e.Action));
        Assert.Equal(Berlin(2026, 3, 2, 14), Clock(update.Ticket, "response").DueAt());

        // 16 business hours from Monday 09:00: 7 on Monday, 8 on Tuesday, 1 on Wednesday.
        Assert.Equal(Berlin(2026, 3, 4, 9), Clock(update.Ticket, "resolution").DueAt());
    }

    [Fact]
    public void A_ticket_no_policy_matches_gets_no_clocks()
    {
        var onlyPayroll = Vip with { Order = 0 };

        Assert.Empty(Raised(Context(onlyPayroll)).Sla);
    }

    [Fact]
    public void Time_on_hold_awaiting_the_caller_is_excluded_exactly_and_the_due_instant_moves()
    {
        var held = Write(Raised(), Berlin(2026, 3, 2, 11), t => OnHold(t, HoldReason.AwaitingCaller)).Ticket;
        Assert.Equal(SlaClockState.Paused, Clock(held, "resolution").State);
        Assert.Null(Clock(held, "resolution").DueAt());

        var resumed = Write(held, Berlin(2026, 3, 3, 11), InProgress);

        var clock = Clock(resumed.Ticket, "resolution");
        Assert.Equal(2 * Hour, clock.Elapsed(Berlin(2026, 3, 3, 11)));
        Assert.Equal(new PausedTime(8 * Hour, 24 * Hour), clock.Paused(Berlin(2026, 3, 3, 11)));
        Assert.Equal(Berlin(2026, 3, 5, 9), clock.DueAt());
        Assert.Contains("sla.resumed", resumed.Events.Select(e => e.Action));
    }

    [Fact]
    public void Only_the_hold_reasons_the_policy_names_pause_the_clock()
    {
        var awaitingVendor = Write(Raised(), Berlin(2026, 3, 2, 11), t => OnHold(t, HoldReason.AwaitingVendor)).Ticket;

        Assert.Equal(SlaClockState.Running, Clock(awaitingVendor, "resolution").State);
    }

    [Fact]
    public void A_priority_change_retargets_the_clock_and_keeps_the_time_already_elapsed()
    {
        var raised = Write(Raised(), Berlin(2026, 3, 2, 15), t => InProgress(t) with { Priority = 2 });

        var clock = Clock(raised.Ticket, "resolution");
        Assert.Equal(8 * Hour, clock.Target);
        Assert.Equal(5 * Hour, clock.Elapsed(Berlin(2026, 3, 2, 15)));
        Assert.Equal(Berlin(2026, 3, 3, 9), clock.DueAt());
        Assert.Contains("sla.retargeted", raised.Events.Select(e => e.Action));
    }

    [Fact]
    public void Glpi_regression_paused_time_is_kept_when_the_policy_changes_during_the_pause()
    {
        // GLPI lost the pending time when a ticket's SLA was changed while it was pending.
        var context = Context(Standard, Vip);
        var held = Write(Raised(context), Berlin(2026, 3, 2, 10), t => OnHold(t, HoldReason.AwaitingCaller), context).Ticket;
        var moved = Write(held, Berlin(2026, 3, 2, 16), t => t with { AffectedService = "payroll" }, context).Ticket;
        Assert.Equal(("vip", SlaClockState.Paused), (moved.Sla.Single(c => c.Key == "resolution").PolicyId, Clock(moved, "resolution", context).State));

        var resumed = Write(moved, Berlin(2026, 3, 3, 10), InProgress, context).Ticket;

        var clock = Clock(resumed, "resolution", context);
        Assert.Equal(Hour, clock.Elapsed(Berlin(2026, 3, 3, 10)));
        Assert.Equal(24 * Hour, clock.Paused(Berlin(2026, 3, 3, 10)).Wall);
        Assert.Equal(10 * Hour, clock.Target);
        Assert.Equal(Berlin(2026, 3, 3, 19), clock.DueAt());
    }

    [Fact]
    public void Glpi_regression_time_between_resolving_and_reopening_counts_neither_as_elapsed_nor_as_paused()
    {
        // GLPI counted the solved period as pending time; it is neither: the clock was stopped.
        var resolved = Write(Raised(), Berlin(2026, 3, 2, 12), Resolved);
        Assert.Equal(SlaClockState.Met, Clock(resolved.Ticket, "resolution").State);
        Assert.Contains("sla.met", resolved.Events.Select(e => e.Action));

        var reopened = Write(resolved.Ticket, Berlin(2026, 3, 4, 9), InProgress);

        var clock = Clock(reopened.Ticket, "resolution");
        var stored = reopened.Ticket.Sla.Single(c => c.Key == "resolution");
        Assert.Equal((SlaClockState.Running, 2), (clock.State, stored.Generation));
        Assert.Equal(3 * Hour, clock.Elapsed(Berlin(2026, 3, 4, 9)));
        Assert.Equal(TimeSpan.Zero, clock.Paused(Berlin(2026, 3, 4, 9)).Wall);
        Assert.Equal(Berlin(2026, 3, 5, 15), clock.DueAt());
        Assert.Equal(SlaClockState.Met, Clock(reopened.Ticket, "response").State);
    }

    [Fact]
    public void The_response_clock_stops_at_the_first_agent_response_and_never_reopens()
    {
        var responded = Write(Raised(), Berlin(2026, 3, 2, 9, 20), t => t with { FirstRespondedAt = Berlin(2026, 3, 2, 9, 20) });

        var clock = Clock(responded.Ticket, "response");
        Assert.Equal((SlaClockState.Met, (DateTimeOffset?)Berlin(2026, 3, 2, 9, 20)), (clock.State, clock.StoppedAt));
        Assert.Equal(TimeSpan.FromMinutes(20), clock.ElapsedBefore);
        Assert.Equal(SlaClockState.Running, Clock(responded.Ticket, "resolution").State);
    }

    [Fact]
    public void An_ola_runs_while_the_ticket_is_with_its_group_and_stops_when_it_is_reassigned()
    {
        var assigned = Write(Raised(), Berlin(2026, 3, 2, 10), t => InProgress(t) with { AssignmentGroup = "network" }).Ticket;
        Assert.Equal(Berlin(2026, 3, 2, 12), Clock(assigned, "ola:network").DueAt());

        var reassigned = Write(assigned, Berlin(2026, 3, 2, 13, 30), t => t with { AssignmentGroup = "desk" });

        var ola = Clock(reassigned.Ticket, "ola:network");
        Assert.Equal((SlaClockState.Breached, (DateTimeOffset?)Berlin(2026, 3, 2, 12)), (ola.State, ola.BreachedAt));
        Assert.Equal(TimeSpan.FromMinutes(150), ola.ElapsedBefore);
        Assert.DoesNotContain(reassigned.Ticket.Sla, c => c.Key == "ola:desk");
        Assert.Contains("sla.breached", reassigned.Events.Select(e => e.Action));
    }

    [Fact]
    public void Each_threshold_fires_once_at_its_instant()
    {
        var ticket = Raised();
        var half = Clock(ticket, "resolution").ThresholdInstant(50)!.Value;

        var early = SlaTracker.FireDue(ticket, "resolution", 1, Context(), half.AddTicks(-1));
        Assert.Empty(early.Events);
        Assert.Equal(half, early.NextAt);

        var first = SlaTracker.FireDue(ticket, "resolution", 1, Context(), half);
        var warning = Assert.Single(first.Events);
        Assert.Equal("sla.warning", warning.Action);
        Assert.Equal(Clock(ticket, "resolution").ThresholdInstant(75), first.NextAt);

        var again = SlaTracker.FireDue(first.Ticket, "resolution", 1, Context(), half);
        Assert.Empty(again.Events);
    }

    [Fact]
    public void A_late_wake_up_fires_every_threshold_passed_meanwhile_once_each()
    {
        var ticket = Raised();
        var due = Clock(ticket, "resolution").DueAt()!.Value;

        var firing = SlaTracker.FireDue(ticket, "resolution", 1, Context(), due.AddHours(1));

        Assert.Equal(["sla.warning", "sla.warning", "sla.warning", "sla.breach"], firing.Events.Take(4).Select(e => e.Action));
        Assert.Equal([50, 75, 90, 100], firing.Ticket.Sla.Single(c => c.Key == "resolution").FiredThresholds);
    }

    [Fact]
    public void A_breach_notifies_raises_the_priority_and_reassigns_to_the_escalation_group()
    {
        var ticket = Write(Raised(), Berlin(2026, 3, 2, 9, 30), t => InProgress(t) with { AssignmentGroup = "network", Assignee = new PersonRef("sam") }).Ticket;
        var due = Clock(ticket, "resolution").DueAt()!.Value;

        var firing = SlaTracker.FireDue(ticket, "resolution", 1, Context(), due);

        Assert.Equal((2, "major-incident-desk", (PersonRef?)null), (firing.Ticket.Priority, firing.Ticket.AssignmentGroup, firing.Ticket.Assignee));
        var actions = firing.Events.Select(e => e.Action).ToArray();
        Assert.Contains("sla.breach", actions);
        Assert.Contains("sla.escalated", actions);
        var notice = firing.Events.Single(e => e.Action == "sla.notice");
        Assert.Contains("group-manager:network", notice.Changes.Single(c => c.Field == "recipients").New!.Value.GetRawText());

        // The escalation is itself a change: the network OLA stops, the resolution clock takes the P2 target.
        Assert.True(firing.Ticket.Sla.Single(c => c.Key == "ola:network").IsStopped);
        Assert.Equal(8 * Hour, firing.Ticket.Sla.Single(c => c.Key == "resolution").Target);
        Assert.False(firing.Finished);
    }

    [Fact]
    public void A_paused_clock_has_no_threshold_to_wake_for()
    {
        var held = Write(Raised(), Berlin(2026, 3, 2, 11), t => OnHold(t, HoldReason.AwaitingCaller)).Ticket;

        var firing = SlaTracker.FireDue(held, "resolution", 1, Context(), Berlin(2026, 3, 9, 9));

        Assert.Empty(firing.Events);
        Assert.Null(firing.NextAt);
        Assert.False(firing.Finished);
    }

    [Fact]
    public void A_stopped_clock_or_an_older_generation_finishes_its_orchestration()
    {
        var resolved = Write(Raised(), Berlin(2026, 3, 2, 12), Resolved).Ticket;
        var reopened = Write(resolved, Berlin(2026, 3, 3, 9), InProgress).Ticket;

        Assert.True(SlaTracker.FireDue(resolved, "resolution", 1, Context(), Berlin(2026, 3, 9, 9)).Finished);
        Assert.True(SlaTracker.FireDue(reopened, "resolution", 1, Context(), Berlin(2026, 3, 9, 9)).Finished);
        Assert.False(SlaTracker.FireDue(reopened, "resolution", 2, Context(), Berlin(2026, 3, 3, 10)).Finished);
    }
}
