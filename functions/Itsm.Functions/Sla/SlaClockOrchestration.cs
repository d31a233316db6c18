using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

/// <summary>Moves a ticket's SLA clocks inside every ticket write (see <see cref="SlaTracker.Reconcile"/>).</summary>
public sealed class SlaWriteRule(SlaSettings settings) : ITicketWriteRule
{
    public async Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        if (await settings.ContextForAsync(ticket, cancellationToken) is not { } context)
        {
            return (ticket, []);
        }

        var update = SlaTracker.Reconcile(ticket, context, ticket.UpdatedAt);
        return (update.Ticket, update.Events);
    }
}

/// <summary>
/// After a ticket write, starts the orchestration of each new clock (or new generation) and tells the running ones
/// that their clock moved. Starting is idempotent on the instance id, and an event for a clock that did not move is
/// never sent; an orchestration that misses an event still acts correctly when its timer fires, because it reads
/// the ticket then.
/// </summary>
public sealed class SlaClockScheduler(ILogger<SlaClockScheduler> logger) : ITicketChangeObserver
{
    public async Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken)
    {
        var after = change.After;
        if (after.Sla.Count == 0)
        {
            return;
        }

        if (change.Durable is not { } durable)
        {
            logger.LogWarning("Ticket {TicketId} changed its SLA clocks in a function without a Durable client; its clock orchestrations are not told.", after.Id);
            return;
        }

        foreach (var clock in after.Sla.Where(c => !c.IsStopped && change.Before?.Sla.FirstOrDefault(b => b.Key == c.Key)?.Generation != c.Generation))
        {
            var instanceId = TicketSla.InstanceId(after.TenantId, after.Id, clock.Key, clock.Generation);
            await durable.StartOnceAsync(SlaClockOrchestrator.Name, instanceId, new SlaClockInput(after.TenantId, after.Id, clock.Key, clock.Generation), cancellationToken);
        }

        foreach (var instanceId in change.Before is { } before ? MovedClocks(before, after) : [])
        {
            await durable.TryRaiseEventAsync(instanceId, SlaClockOrchestrator.ClockChangedEvent, after.Revision, cancellationToken);
        }
    }

    /// <summary>
    /// The running clock orchestrations a write moved (same generation, changed clock), for a writer without a Durable
    /// client that tells them from its orchestration. A new generation it would start waits for the ticket's next write.
    /// </summary>
    public static IReadOnlyList<string> MovedClocks(Ticket before, Ticket after) =>
        after.Sla
            .Where(clock => before.Sla.FirstOrDefault(c => c.Key == clock.Key) is { } old && old.Generation == clock.Generation && old != clock)
            .Select(clock => TicketSla.InstanceId(after.TenantId, after.Id, clock.Key, clock.Generation))
            .ToArray();
}

public sealed record SlaClockInput(string TenantId, string TicketId, string Key, int Generation);

/// <summary>Tells people about thresholds a clock reached. The default only records them (the audit events); notifications replace it.</summary>
public interface ISlaNotifier
{
    Task ThresholdsFiredAsync(Ticket ticket, TicketSla clock, SlaPolicy? policy, IReadOnlyList<SlaThreshold> fired, CancellationToken cancellationToken);
}

public sealed class RecordedSlaNotifier : ISlaNotifier
{
    public Task ThresholdsFiredAsync(Ticket ticket, TicketSla clock, SlaPolicy? policy, IReadOnlyList<SlaThreshold> fired, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}

/// <summary>What one wake-up found: the clock finished, or the next instant to wake at (null: wait for the ticket to change).</summary>
public sealed record SlaWake(bool Finished, DateTimeOffset? NextAt, string? Outcome);

/// <summary>
/// One SLA clock of one ticket: wakes at the exact instant of its next threshold (warnings, then the breach), acts on
/// it through <see cref="EvaluateSlaClockActivity"/>, and waits again; a "ClockChanged" event from the ticket code
/// (paused, resumed, re-targeted, stopped) wakes it early to recompute. It ends when the clock stops; a reopened
/// clock is a new generation with its own instance. History stays short: it continues as new every few wake-ups.
/// </summary>
public sealed class SlaClockOrchestrator : TaskOrchestrator<SlaClockInput, string?>
{
    public const string Name = "SlaClock";
    public const string ClockChangedEvent = "ClockChanged";
    private const int WakesPerExecution = 20;

    private static readonly TaskOptions ActivityRetry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(1)));

    public override async Task<string?> RunAsync(TaskOrchestrationContext context, SlaClockInput input)
    {
        for (var wakes = 0; wakes < WakesPerExecution; wakes++)
        {
            SlaWake wake;
            try
            {
                wake = await context.CallActivityAsync<SlaWake>(EvaluateSlaClockActivity.Name, input, ActivityRetry);
            }
            catch (TaskFailedException)
            {
                // The store is unreachable for a while: try again later rather than lose the clock.
                await context.CreateTimer(context.CurrentUtcDateTime.AddMinutes(5), CancellationToken.None);
                continue;
            }

            if (wake.Finished)
            {
                return wake.Outcome;
            }

            if (wake.NextAt is not { } next)
            {
                await context.WaitForExternalEvent<int>(ClockChangedEvent);
                continue;
            }

            // Woken by a change, or at the threshold's instant: either way the next evaluation decides.
            await context.WaitForEventUntilAsync<int>(ClockChangedEvent, next);
        }

        context.ContinueAsNew(input);
        return null;
    }
}

/// <summary>
/// Reads the ticket, fires the thresholds of the clock that are due now (each once: they are recorded on the ticket,
/// written with its ETag) and says when to wake next. Safe to run twice.
/// </summary>
public sealed class EvaluateSlaClockActivity(TicketStore tickets, SlaSettings settings, ISlaNotifier notifier, TimeProvider time) : TaskActivity<SlaClockInput, SlaWake>
{
    public const string Name = "SlaClock_Evaluate";
    private const int MaxConflictRetries = 10;

    public override async Task<SlaWake> RunAsync(TaskActivityContext context, SlaClockInput input)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await tickets.ReadAsync(input.TenantId, input.TicketId, CancellationToken.None);
            if (stored is null || await settings.ContextForAsync(stored.Document, CancellationToken.None) is not { } sla)
            {
                return new SlaWake(true, null, "ticket-gone");
            }

            var now = time.GetUtcNow();
            var firing = SlaTracker.FireDue(stored.Document, input.Key, input.Generation, sla, now);
            if (firing.Events.Count == 0)
            {
                return Wake(firing, stored.Document, input);
            }

            // Notified before the write, with ids per clock, generation and threshold: a retry after a crash or a
            // conflict publishes the same events again, which the notifier drops, so nobody is told twice or never.
            if (firing.Fired.Count > 0)
            {
                await notifier.ThresholdsFiredAsync(stored.Document, stored.Document.Sla.First(c => c.Key == input.Key), firing.Policy, firing.Fired, CancellationToken.None);
            }

            try
            {
                var written = await tickets.UpdateAsync(firing.Ticket, stored.ETag, firing.Events, CancellationToken.None);
                return Wake(firing, written.Document, input);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                // An agent changed the ticket meanwhile: decide again on the fresh version.
            }
        }
    }

    private static SlaWake Wake(SlaFiring firing, Ticket ticket, SlaClockInput input)
    {
        var clock = ticket.Sla.FirstOrDefault(c => c.Key == input.Key);
        var finished = firing.Finished || clock is null || clock.Generation != input.Generation || clock.IsStopped;
        return new SlaWake(finished, finished ? null : firing.NextAt, clock is null ? "no-clock" : clock.Generation != input.Generation ? "superseded" : clock.State.ToString());
    }
}

/// <summary>The Durable functions of SLA clocks and policy rollouts.</summary>
public sealed class SlaDurableFunctions(IServiceProvider services)
{
    [Function(SlaClockOrchestrator.Name)]
    public static Task<string?> SlaClock([OrchestrationTrigger] TaskOrchestrationContext context, SlaClockInput input) =>
        new SlaClockOrchestrator().RunAsync(context, input);

    [Function(EvaluateSlaClockActivity.Name)]
    public Task<SlaWake> EvaluateSlaClock([ActivityTrigger] SlaClockInput input, string instanceId) =>
        services.RunActivityAsync<EvaluateSlaClockActivity, SlaClockInput, SlaWake>(EvaluateSlaClockActivity.Name, instanceId, input);

    [Function(SlaPolicyRolloutOrchestrator.Name)]
    public static Task<int> SlaPolicyRollout([OrchestrationTrigger] TaskOrchestrationContext context, SlaRolloutInput input) =>
        new SlaPolicyRolloutOrchestrator().RunAsync(context, input);

    [Function(ApplySlaPolicyPageActivity.Name)]
    public Task<SlaRolloutPage> ApplySlaPolicyPage([ActivityTrigger] SlaRolloutInput input, string instanceId) =>
        services.RunActivityAsync<ApplySlaPolicyPageActivity, SlaRolloutInput, SlaRolloutPage>(ApplySlaPolicyPageActivity.Name, instanceId, input);
}
