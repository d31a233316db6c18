using System.Text.Json;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

/// <summary>What the tracker needs besides the ticket: the tenant's policies and the calendars they and the ticket's clocks use.</summary>
public sealed record SlaContext(IReadOnlyList<SlaPolicy> Policies, IReadOnlyDictionary<string, int> CalendarVersions, Func<string, int, BusinessCalendar> Calendar)
{
    /// <summary>How long a minute of the policies' targets lasts (<c>Itsm:Policies:MinuteLength</c>).</summary>
    public TimeSpan MinuteLength { get; init; } = TimeSpan.FromMinutes(1);

    public SlaPolicy? PolicyFor(Ticket ticket) =>
        Policies.Where(p => p.Active && p.AppliesTo.Matches(ticket)).OrderBy(p => p.Order).ThenBy(p => p.Id, StringComparer.Ordinal).FirstOrDefault();

    public SlaPolicy? PolicyById(string id) => Policies.FirstOrDefault(p => p.Id == id);
}

/// <summary>The result of a tracker step: the ticket with its clocks moved, and the audit events saying what happened to them.</summary>
public sealed record SlaUpdate(Ticket Ticket, IReadOnlyList<AuditEvent> Events);

/// <summary>A threshold acted on: its percentage (100 is the breach), when the clock reached it, and the due instant then.</summary>
public sealed record SlaThreshold(int Percent, DateTimeOffset ReachedAt, DateTimeOffset? DueAt);

/// <summary>What a wake-up of a clock's orchestration did, and when it should wake next.</summary>
public sealed record SlaFiring(Ticket Ticket, IReadOnlyList<AuditEvent> Events, bool Finished, DateTimeOffset? NextAt)
{
    public IReadOnlyList<SlaThreshold> Fired { get; init; } = [];

    public SlaPolicy? Policy { get; init; }
}

/// <summary>
/// The SLA rules as pure functions. <see cref="Reconcile"/> runs on every ticket write, in the same transaction:
/// it brings each clock in line with the ticket (start, pause, resume, stop, reopen, re-target) at the instant of the
/// write, so paused time is exact to the tick whatever the orchestrations do. <see cref="FireDue"/> runs when a clock's
/// orchestration wakes: it acts on the thresholds reached by then, each once.
/// </summary>
public static class SlaTracker
{
    public const string Actor = "sla";

    /// <summary>
    /// A clock's target under a policy: the policy's, except that a request ordered from the service catalogue with a
    /// delivery target resolves within that target (minutes of the policy's calendar) whatever its priority.
    /// </summary>
    public static TimeSpan? TargetFor(SlaPolicy policy, Ticket ticket, SlaMetric metric, string? group, SlaContext context) =>
        metric == SlaMetric.Resolution && ticket.Catalog?.DeliveryTargetMinutes is { } delivery
            ? context.MinuteLength * delivery
            : policy.TargetFor(metric, ticket.Priority, group, context.MinuteLength);

    public static SlaUpdate Reconcile(Ticket ticket, SlaContext context, DateTimeOffset at)
    {
        var events = new List<AuditEvent>();
        var policy = context.PolicyFor(ticket);
        var clocks = new List<TicketSla>();
        var responded = ticket.FirstRespondedAt is not null || ticket.State != TicketState.New || !ticket.IsOpen;
        if (responded && ticket.FirstRespondedAt is null)
        {
            ticket = ticket with { FirstRespondedAt = at };
        }

        foreach (var stored in ticket.Sla)
        {
            clocks.Add(Move(ticket, stored, policy, context, at, events));
        }

        if (policy is not null)
        {
            var wanted = new List<(SlaMetric Metric, string? Group)> { (SlaMetric.Response, null), (SlaMetric.Resolution, null) };
            if (ticket.AssignmentGroup is { } assignedGroup)
            {
                wanted.Add((SlaMetric.GroupResolution, assignedGroup));
            }

            foreach (var (metric, group) in wanted)
            {
                var key = TicketSla.KeyFor(metric, group);
                if (clocks.Any(c => c.Key == key) || ShouldStop(ticket, metric, group) || TargetFor(policy, ticket, metric, group, context) is not { } target)
                {
                    continue;
                }

                var start = ticket.Sla.Count == 0 && ticket.Revision <= 1 && metric != SlaMetric.GroupResolution ? ticket.CreatedAt : at;
                var calendarVersion = context.CalendarVersions.GetValueOrDefault(policy.CalendarId, 1);
                var clock = SlaClock.Start(start, target, context.Calendar(policy.CalendarId, calendarVersion)).Value!;
                var created = new TicketSla
                {
                    Key = key, Metric = metric, Group = group, PolicyId = policy.Id, PolicyVersion = policy.Version,
                    CalendarId = policy.CalendarId, CalendarVersion = calendarVersion,
                    State = SlaClockState.Running, StartedAt = start, Since = start, Target = target,
                }.With(clock);
                events.Add(Event(ticket, at, "sla.started", created, ("target", created.Target), ("dueAt", clock.DueAt()), ("policy", policy.Id)));
                clocks.Add(Move(ticket, created, policy, context, at, events));
            }
        }

        return new SlaUpdate(ticket with { Sla = clocks }, events);
    }

    /// <summary>
    /// Acts on every threshold of clock <paramref name="key"/> reached by <paramref name="now"/> and not yet fired:
    /// a warning event per percentage, and at 100 % the breach with the policy's actions (notices, reassignment, a
    /// higher priority; a changed ticket is reconciled again). Firing twice changes nothing the second time.
    /// </summary>
    public static SlaFiring FireDue(Ticket ticket, string key, int generation, SlaContext context, DateTimeOffset now)
    {
        var stored = ticket.Sla.FirstOrDefault(c => c.Key == key);
        if (stored is null || stored.Generation != generation || stored.IsStopped)
        {
            return new SlaFiring(ticket, [], Finished: true, NextAt: null);
        }

        var policy = context.PolicyById(stored.PolicyId) ?? context.PolicyFor(ticket);
        var clock = SlaClock.Restore(stored, context.Calendar(stored.CalendarId, stored.CalendarVersion));
        var thresholds = (policy?.Warnings ?? SlaPolicy.DefaultWarnings).Append(100).Distinct().Order().ToArray();
        var events = new List<AuditEvent>();
        var fired = stored.FiredThresholds.ToList();
        var firedNow = new List<SlaThreshold>();
        var breached = false;
        foreach (var percent in thresholds.Where(p => !fired.Contains(p)))
        {
            if (clock.ThresholdInstant(percent) is not { } instant || instant > now)
            {
                continue;
            }

            fired.Add(percent);
            firedNow.Add(new SlaThreshold(percent, instant, clock.DueAt()));
            if (percent < 100)
            {
                events.Add(Event(ticket, now, "sla.warning", stored, ("percent", percent), ("reachedAt", instant), ("dueAt", clock.DueAt())));
            }
            else
            {
                breached = true;
                events.Add(Event(ticket, now, "sla.breach", stored, ("breachedAt", instant), ("target", stored.Target)));
            }
        }

        if (events.Count == 0)
        {
            return new SlaFiring(ticket, [], Finished: false, NextAt: NextThreshold(clock, thresholds, fired));
        }

        var updated = ticket with { Sla = ticket.Sla.Select(c => c.Key == key ? c with { FiredThresholds = fired } : c).ToArray() };
        if (breached && policy is not null)
        {
            updated = Escalate(updated, stored, policy.OnBreach, now, events);
        }

        if (updated.Priority != ticket.Priority || updated.AssignmentGroup != ticket.AssignmentGroup)
        {
            var reconciled = Reconcile(updated with { UpdatedAt = now }, context, now);
            updated = reconciled.Ticket;
            events.AddRange(reconciled.Events);
        }

        var after = updated.Sla.First(c => c.Key == key);
        var afterClock = SlaClock.Restore(after, context.Calendar(after.CalendarId, after.CalendarVersion));
        return new SlaFiring(updated with { UpdatedAt = now }, events, Finished: after.IsStopped, NextAt: NextThreshold(afterClock, thresholds, fired))
        {
            Fired = firedNow,
            Policy = policy,
        };
    }

    private static TicketSla Move(Ticket ticket, TicketSla stored, SlaPolicy? policy, SlaContext context, DateTimeOffset at, List<AuditEvent> events)
    {
        var clock = SlaClock.Restore(stored, context.Calendar(stored.CalendarId, stored.CalendarVersion));
        var current = stored;
        at = at < clock.Since ? clock.Since : at;

        // A different policy now matches, or the same one changed and says open tickets follow it.
        if (!current.IsStopped && policy is not null && TargetFor(policy, ticket, current.Metric, current.Group, context) is { } target)
        {
            var newPolicy = policy.Id != current.PolicyId || (policy.Version != current.PolicyVersion && policy.ApplyToOpenTickets);
            var calendarVersion = context.CalendarVersions.GetValueOrDefault(policy.CalendarId, current.CalendarVersion);
            var calendarChanged = newPolicy && (policy.CalendarId != current.CalendarId || calendarVersion != current.CalendarVersion);
            if (newPolicy || target != current.Target)
            {
                var calendar = calendarChanged ? context.Calendar(policy.CalendarId, calendarVersion) : clock.Calendar;
                clock = clock.ChangePolicy(target, calendar, at).Value!;
                var retargeted = current.With(clock) with
                {
                    PolicyId = newPolicy ? policy.Id : current.PolicyId,
                    PolicyVersion = newPolicy ? policy.Version : current.PolicyVersion,
                    CalendarId = calendarChanged ? policy.CalendarId : current.CalendarId,
                    CalendarVersion = calendarChanged ? calendarVersion : current.CalendarVersion,
                };
                events.Add(Event(ticket, at, "sla.retargeted", retargeted, ("target", target), ("dueAt", clock.DueAt()), ("policy", retargeted.PolicyId), ("priority", ticket.Priority)));
                current = retargeted;
            }
        }

        var clockPolicy = context.PolicyById(current.PolicyId) ?? policy;
        var stop = ShouldStop(ticket, current.Metric, current.Group);
        if (stop && !clock.IsStopped)
        {
            var stopAt = current.Metric == SlaMetric.Response && ticket.FirstRespondedAt is { } responded && responded > clock.Since && responded < at ? responded : at;
            clock = clock.Stop(stopAt).Value!;
            current = current.With(clock);
            events.Add(Event(
                ticket, at, clock.State == SlaClockState.Met ? "sla.met" : "sla.breached", current,
                ("elapsed", clock.ElapsedBefore), ("pausedBusiness", clock.PausedBefore.Business), ("pausedWall", clock.PausedBefore.Wall),
                ("breachedAt", clock.BreachedAt), ("stoppedAt", clock.StoppedAt)));
            return current;
        }

        if (!stop && clock.IsStopped)
        {
            if (current.Metric == SlaMetric.Response)
            {
                return current;
            }

            clock = clock.Reopen(at).Value!;
            current = current.With(clock) with { Generation = current.Generation + 1 };
            events.Add(Event(ticket, at, "sla.reopened", current, ("elapsed", clock.ElapsedBefore), ("dueAt", clock.DueAt())));
        }

        if (clock.IsStopped || current.Metric == SlaMetric.Response)
        {
            return current;
        }

        var pause = clockPolicy?.Pauses(ticket) ?? false;
        if (pause && clock.State == SlaClockState.Running)
        {
            clock = clock.Pause(at).Value!;
            current = current.With(clock);
            events.Add(Event(ticket, at, "sla.paused", current, ("elapsed", clock.ElapsedBefore), ("state", ticket.State.ToString())));
        }
        else if (!pause && clock.State == SlaClockState.Paused)
        {
            clock = clock.Resume(at).Value!;
            current = current.With(clock);
            events.Add(Event(ticket, at, "sla.resumed", current, ("pausedWall", clock.PausedBefore.Wall), ("dueAt", clock.DueAt())));
        }

        return current;
    }

    private static bool ShouldStop(Ticket ticket, SlaMetric metric, string? group) => metric switch
    {
        SlaMetric.Response => ticket.FirstRespondedAt is not null || ticket.State != TicketState.New || !ticket.IsOpen,
        SlaMetric.Resolution => !ticket.IsOpen,
        _ => !ticket.IsOpen || !string.Equals(ticket.AssignmentGroup, group, StringComparison.OrdinalIgnoreCase),
    };

    private static Ticket Escalate(Ticket ticket, TicketSla clock, BreachActions actions, DateTimeOffset now, List<AuditEvent> events)
    {
        var recipients = new List<string>();
        if (actions.Notify.Contains(BreachNotify.Assignee) && ticket.Assignee is { } assignee)
        {
            recipients.Add("user:" + assignee.Id);
        }

        if (actions.Notify.Contains(BreachNotify.GroupManager) && ticket.AssignmentGroup is { } group)
        {
            recipients.Add("group-manager:" + group);
        }

        if (recipients.Count > 0)
        {
            events.Add(Event(ticket, now, "sla.notice", clock, ("recipients", recipients), ("reason", "breach")));
        }

        var escalated = ticket;
        if (actions.ReassignToGroup is { } escalationGroup && !string.Equals(ticket.AssignmentGroup, escalationGroup, StringComparison.OrdinalIgnoreCase))
        {
            escalated = escalated with { AssignmentGroup = escalationGroup, Assignee = null };
        }

        if (actions.RaisePriority && ticket.Priority > 1)
        {
            escalated = escalated with { Priority = ticket.Priority - 1 };
        }

        if (!ReferenceEquals(escalated, ticket))
        {
            var escalation = Event(ticket, now, "sla.escalated", clock);
            events.Add(escalation with { Changes = [.. escalation.Changes, .. TicketAudit.Diff(ticket, escalated)] });
        }

        return escalated;
    }

    private static DateTimeOffset? NextThreshold(SlaClock clock, IReadOnlyList<int> thresholds, IReadOnlyList<int> fired) =>
        thresholds.Where(p => !fired.Contains(p)).Select(clock.ThresholdInstant).Where(t => t is not null).Min();

    private static AuditEvent Event(Ticket ticket, DateTimeOffset at, string action, TicketSla clock, params (string Field, object? Value)[] details) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        TenantId = ticket.TenantId,
        TicketId = ticket.Id,
        At = at,
        Actor = Actor,
        Channel = Actor,
        Action = action,
        Internal = true,
        Changes = [new FieldChange("sla", null, JsonSerializer.SerializeToElement(clock.Key)), .. details.Select(d => new FieldChange(d.Field, null, JsonSerializer.SerializeToElement(d.Value, Hosting.HttpResults.Json)))],
    };
}
