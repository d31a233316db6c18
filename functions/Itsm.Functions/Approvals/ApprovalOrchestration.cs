using System.Text.Json;
using Itsm.Functions.Changes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Sla;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Approvals;

public sealed record ApprovalInput(string TenantId, string ApprovalId, string TicketId, string PolicyId);

/// <summary>What one wake-up found: finished (with the state), or when to wake next (null: only an answer wakes it).</summary>
public sealed record ApprovalWake(bool Finished, DateTimeOffset? WakeAt, ApprovalState State);

/// <summary>Whether the outcome moved the ticket, and the SLA clocks of the ticket that the move changed (paused, resumed, stopped).</summary>
public sealed record ApprovalOutcome(bool Applied, IReadOnlyList<string> ClocksToWake);

/// <summary>The event raised into the orchestration for each recorded answer (and for a conflict override).</summary>
public sealed record ApprovalDecisionEvent(string Approver, string AnsweredBy, ApprovalVerdict? Verdict, string Channel);

/// <summary>
/// One approval, one instance (id <c>approval:{tenant}:{approvalId}</c>): moves the record on through
/// <see cref="AdvanceApprovalActivity"/>, waits for an answer or the next instant something is due (a reminder, a
/// level's timeout), and when the approval finishes applies its outcome to the ticket. Every decision lives in the
/// record; the orchestration only decides when to look again, so an answer racing a timeout is settled by whichever
/// wrote the record first.
/// </summary>
public sealed class ApprovalOrchestrator : TaskOrchestrator<ApprovalInput, string>
{
    public const string Name = "Approval";
    public const string DecisionEvent = "ApprovalDecision";
    private const int WakesPerExecution = 25;

    private static readonly TaskOptions Retry = TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromSeconds(5), 2.0, TimeSpan.FromMinutes(1)));

    public static string InstanceId(string tenantId, string approvalId) => $"approval:{tenantId}:{approvalId}";

    public override async Task<string> RunAsync(TaskOrchestrationContext context, ApprovalInput input)
    {
        for (var wakes = 0; wakes < WakesPerExecution; wakes++)
        {
            var wake = await context.CallActivityAsync<ApprovalWake>(AdvanceApprovalActivity.Name, input, Retry);
            if (wake.Finished)
            {
                var outcome = await context.CallActivityAsync<ApprovalOutcome>(ApplyApprovalOutcomeActivity.Name, input, Retry);

                // The outcome was written from an activity, which has no Durable client: the clocks it moved are told from here.
                foreach (var clock in outcome.ClocksToWake)
                {
                    context.SendEvent(clock, SlaClockOrchestrator.ClockChangedEvent, 0);
                }

                return wake.State.ToString();
            }

            if (wake.WakeAt is not { } at)
            {
                await context.WaitForExternalEvent<ApprovalDecisionEvent>(DecisionEvent);
                continue;
            }

            // An answer, or a reminder or timeout falling due: either way the next advance acts on it.
            await context.WaitForEventUntilAsync<ApprovalDecisionEvent>(DecisionEvent, at);
        }

        context.ContinueAsNew(input);
        return "continued";
    }
}

/// <summary>
/// Creates the approval record on the first call, then applies <see cref="ApprovalRules.Advance"/> at the
/// current instant of the app's clock, writes the record with its ETag and sends the new prompts. Safe to run twice.
/// </summary>
public sealed class AdvanceApprovalActivity(
    ApprovalStore store,
    TicketStore tickets,
    ChangeService changes,
    IChangeCmdb cmdb,
    ApprovalLinks links,
    IApprovalNotifier notifier,
    IApproverDirectory directory,
    ItsmOptions options,
    TimeProvider time) : TaskActivity<ApprovalInput, ApprovalWake>
{
    public const string Name = "Approval_Advance";
    private const int MaxConflictRetries = 10;

    public override async Task<ApprovalWake> RunAsync(TaskActivityContext context, ApprovalInput input)
    {
        var ct = CancellationToken.None;
        var approval = input;
        var now = time.GetUtcNow();
        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.ReadAsync(approval.TenantId, approval.ApprovalId, ct);
            if (stored is null)
            {
                var created = await CreateAsync(approval, now, ct);
                if (created is null)
                {
                    return new ApprovalWake(true, null, ApprovalState.Rejected);
                }

                try
                {
                    stored = await store.CreateAsync(created, ct);
                }
                catch (DocumentConflictException)
                {
                    continue;
                }
            }

            var record = stored.Document;
            var ticket = (await tickets.ReadAsync(approval.TenantId, record.SubjectId, ct))?.Document;
            var people = await ResolveSourcesAsync(record, ticket, ct);
            var step = ApprovalSubjects.AwaitsApproval(ticket)
                ? ApprovalRules.Advance(record, now, level => ApprovalRules.ResolveApprovers(level.Sources, people.Settings, people.CiOwners, people.Manager, now), options.Policies.MinuteLength)
                : new ApprovalStep(ApprovalRules.Withdraw(record, ticket?.State.ToString() ?? "deleted", now), [], null);
            if (ReferenceEquals(step.Record, record))
            {
                return Wake(record, step.WakeAt);
            }

            var prompts = step.Prompts.Select(p => Prompt(step.Record, p, now)).ToArray();
            var next = step.Record with { Prompts = [.. step.Record.Prompts, .. prompts] };
            try
            {
                await store.ReplaceAsync(next, stored.ETag, ct);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                // An answer was recorded meanwhile: advance again from the fresh record.
                continue;
            }

            foreach (var prompt in prompts)
            {
                await notifier.PromptAsync(next, prompt, ct);
            }

            return Wake(next, step.WakeAt);
        }
    }

    /// <summary>
    /// Looks up, in the directory and the CMDB, the people of the levels not opened yet (approvers are fixed when a
    /// level opens): the requester's manager, the members of named groups and of the CIs' owner groups. The pure rules
    /// then read them from the settings passed on.
    /// </summary>
    private async Task<(ApprovalSettings Settings, IReadOnlyList<string> CiOwners, string? Manager)> ResolveSourcesAsync(ApprovalRecord record, Ticket? ticket, CancellationToken ct)
    {
        var settings = await store.ApprovalSettingsAsync(record.TenantId, ct);
        var sources = record.IsFinished ? [] : record.Levels.Where(l => l.OpenedAt is null).SelectMany(l => l.Sources).ToArray();
        var manager = record.Requester is { } requester && sources.Any(s => s.Kind == ApproverKind.RequesterManager)
            ? await directory.ManagerOfAsync(record.TenantId, requester, settings, ct)
            : null;
        var groups = new Dictionary<string, IReadOnlyList<string>>(settings.Groups ?? new Dictionary<string, IReadOnlyList<string>>());
        foreach (var group in sources.Where(s => s.Kind == ApproverKind.Group && s.Id is not null).Select(s => s.Id!).Distinct())
        {
            groups[group] = await directory.GroupMembersAsync(record.TenantId, group, settings, ct);
        }

        var owners = new List<string>();
        if (sources.Any(s => s.Kind == ApproverKind.CiOwner))
        {
            foreach (var ci in ticket?.ConfigurationItems ?? [])
            {
                if (await cmdb.OwnerGroupAsync(record.TenantId, ci, ct) is { } ownerGroup)
                {
                    owners.AddRange(await directory.GroupMembersAsync(record.TenantId, ownerGroup, settings, ct));
                }
            }
        }

        return (settings with { Groups = groups }, owners, manager);
    }

    private static ApprovalWake Wake(ApprovalRecord record, DateTimeOffset? wakeAt) => new(record.IsFinished, record.IsFinished ? null : wakeAt, record.State);

    private ApprovalPrompt Prompt(ApprovalRecord record, PromptRequest request, DateTimeOffset now)
    {
        // Not capped at the level's deadline: an escalated level runs on, and a closed level refuses the link as late anyway.
        var expires = now.AddHours(record.LinkLifetimeHours);
        var token = links.Create(new ApprovalLinkClaims(record.TenantId, record.Id, request.Level, request.Approver, request.Recipient, expires.ToUnixTimeSeconds(), Guid.NewGuid().ToString("N")));
        return new ApprovalPrompt(request.Level, request.Recipient, request.Approver, request.Kind, now, links.Url(token), expires);
    }

    private static readonly ChangeRisk ServiceRequestRisk = new(0, RiskLevel.Low, ["service request: no change risk"]);

    private async Task<ApprovalRecord?> CreateAsync(ApprovalInput input, DateTimeOffset now, CancellationToken ct)
    {
        var ticket = (await tickets.ReadAsync(input.TenantId, input.TicketId, ct))?.Document;
        var policy = (await store.ApprovalSettingsAsync(input.TenantId, ct)).Policies.FirstOrDefault(p => p.Id == input.PolicyId);
        if (ticket is null || policy is null)
        {
            return null;
        }

        var isChange = ticket.Type == TicketType.Change;
        var conflicts = isChange ? await changes.ConflictsAsync(ticket, ct) : [];
        var blocked = policy.BlockOnConflicts && conflicts.Count > 0;
        var type = ticket.Change?.ChangeType ?? ChangeType.Normal;
        return new ApprovalRecord
        {
            Id = input.ApprovalId,
            TenantId = input.TenantId,
            SubjectType = ticket.Type.ToString(),
            SubjectId = ticket.Id,
            SubjectNumber = ticket.Number,
            Title = ticket.Title,
            Summary = ticket.Description,
            ChangeType = isChange ? type.ToString() : null,
            Category = ticket.Category,
            Requester = ticket.Requester.Id,
            PlannedStart = ticket.Change?.PlannedStart,
            PlannedEnd = ticket.Change?.PlannedEnd,

            // A service request has no change risk: a timeout's auto-approval applies to it as to a low-risk change.
            Risk = isChange ? await changes.RiskAsync(ticket, ct) : ServiceRequestRisk,
            Conflicts = conflicts,
            PolicyId = policy.Id,
            PolicyName = policy.Name,
            ReminderAfterMinutes = policy.ReminderAfterMinutes,
            LinkLifetimeHours = policy.LinkLifetimeHours,
            State = blocked ? ApprovalState.Blocked : ApprovalState.Pending,
            OutcomeReason = blocked ? $"{conflicts.Count} conflict(s) and the policy '{policy.Name}' blocks conflicting changes: {string.Join(" ", conflicts.Select(c => c.Detail))}" : null,
            RetrospectiveReviewRequired = isChange && type == ChangeType.Emergency,
            Levels = policy.Levels.Select(l => new ApprovalLevelState(l.Name, l.Rule, l.QuorumCount, l.QuorumPercent, l.RejectOnFirstRejection, l.TimeoutMinutes, l.OnTimeout, l.Substitutes ?? [], l.Approvers)).ToArray(),
            CreatedAt = now,
        };
    }
}

/// <summary>
/// Moves the ticket by the approval's outcome (<see cref="ApprovalSubjects.Outcome"/>) with an audit event, written
/// with the ticket's ETag, then tells the ticket observers (notifications: the change is scheduled) and the
/// requester (<see cref="IApprovalNotifier.DecidedAsync"/>). A ticket that no longer awaits approval (moved by hand
/// meanwhile, or cancelled) is left alone. Safe to run twice: the second run finds the ticket moved.
/// </summary>
public sealed class ApplyApprovalOutcomeActivity(ApprovalStore store, TicketStore tickets, TicketService ticketService, IApprovalNotifier notifier, TimeProvider time)
    : TaskActivity<ApprovalInput, ApprovalOutcome>
{
    public const string Name = "Approval_ApplyOutcome";
    private const int MaxConflictRetries = 10;

    public override async Task<ApprovalOutcome> RunAsync(TaskActivityContext context, ApprovalInput input)
    {
        var ct = CancellationToken.None;
        for (var attempt = 0; ; attempt++)
        {
            var record = await store.ReadAsync(input.TenantId, input.ApprovalId, ct);
            var stored = await tickets.ReadAsync(input.TenantId, input.TicketId, ct);
            if (record?.Document is not { IsFinished: true, State: not ApprovalState.Withdrawn } approval || stored is null)
            {
                return new ApprovalOutcome(false, []);
            }

            var ticket = stored.Document;
            if (!ApprovalSubjects.AwaitsApproval(ticket))
            {
                return new ApprovalOutcome(false, []);
            }

            var now = time.GetUtcNow();
            var approved = approval.State == ApprovalState.Approved;
            var outcome = TicketLifecycle.Apply(ticket, ApprovalSubjects.Outcome(ticket, approval), "approvals", now, TicketPolicy.Default);
            if (!outcome.Succeeded)
            {
                return new ApprovalOutcome(false, []);
            }

            var actor = $"approval:{approval.Id}";
            var principal = new CallerPrincipal(ticket.TenantId, actor, approval.PolicyName, null, new HashSet<string>());
            var audit = new AuditEvent
            {
                Id = Guid.NewGuid().ToString("N"),
                TenantId = ticket.TenantId,
                TicketId = ticket.Id,
                At = now,
                Actor = actor,
                Channel = "approval",
                Action = approved ? "approval.approved" : "approval.rejected",
                Changes = [.. TicketAudit.Diff(ticket, outcome.Value!), new FieldChange("approval", null, JsonSerializer.SerializeToElement(approval.OutcomeReason))],
            };
            StoredDocument<Ticket> written;
            try
            {
                written = await tickets.UpdateAsync(outcome.Value!, stored.ETag, [audit], ct, new TicketWriteContext(ticket, principal));
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                // The ticket was edited meanwhile: decide again on the fresh version.
                continue;
            }

            await MarkAppliedAsync(input, ct);
            await ticketService.NotifyObserversAsync(principal, null, ticket, written.Document, ct);
            await notifier.DecidedAsync(approval with { OutcomeApplied = true }, ct);
            return new ApprovalOutcome(true, SlaClockScheduler.MovedClocks(ticket, written.Document));
        }
    }

    private async Task MarkAppliedAsync(ApprovalInput input, CancellationToken ct)
    {
        for (var attempt = 0; attempt < MaxConflictRetries; attempt++)
        {
            var record = await store.ReadAsync(input.TenantId, input.ApprovalId, ct);
            if (record is null || record.Document.OutcomeApplied)
            {
                return;
            }

            try
            {
                await store.ReplaceAsync(record.Document with { OutcomeApplied = true }, record.ETag, ct);
                return;
            }
            catch (PreconditionFailedException)
            {
                // The record was written meanwhile: mark the fresh version.
            }
        }
    }
}

/// <summary>
/// Starts an approval when a ticket comes to await one (<see cref="ApprovalSubjects.AwaitsApproval"/>: a change enters
/// Authorize, a service request is put on hold awaiting approval) and a policy of the tenant matches it. Without a
/// policy a change is authorised by hand, and a request put on hold awaiting approval by hand is resumed by hand. A
/// standard change, pre-approved, gets a record of that and no orchestration. A ticket that stops awaiting approval
/// by other means withdraws the approval that runs for it.
/// </summary>
public sealed class ApprovalStarter(ApprovalStore store, ChangeService changes, ILogger<ApprovalStarter> logger) : ITicketChangeObserver
{
    public async Task OnTicketChangedAsync(TicketChange change, CancellationToken cancellationToken)
    {
        var after = change.After;
        if (after.Type is not (TicketType.Change or TicketType.ServiceRequest))
        {
            return;
        }

        var approvalId = $"{after.Id}-r{after.Revision}";
        if (after.Type == TicketType.Change && after.Change?.ChangeType == ChangeType.Standard && after.State == TicketState.Scheduled && change.Before?.State is TicketState.New or TicketState.Assess)
        {
            await RecordPreApprovedAsync(after, approvalId, change.At, cancellationToken);
            return;
        }

        var wasAwaiting = ApprovalSubjects.AwaitsApproval(change.Before);
        var awaits = ApprovalSubjects.AwaitsApproval(after);
        if (wasAwaiting == awaits)
        {
            return;
        }

        if (wasAwaiting)
        {
            // The ticket stopped awaiting approval. When the approval's own outcome moved it (an activity, no Durable
            // client) there is nothing to do; when it was cancelled or reverted by hand while the approval runs, its
            // orchestration withdraws it.
            if (change.Durable is { } wake)
            {
                foreach (var running in (await store.ForSubjectAsync(after.TenantId, after.Id, cancellationToken)).Where(r => !r.IsFinished))
                {
                    await wake.TryRaiseEventAsync(ApprovalOrchestrator.InstanceId(after.TenantId, running.Id), ApprovalOrchestrator.DecisionEvent, new ApprovalDecisionEvent(change.Actor.UserId, change.Actor.UserId, null, "ticket"), cancellationToken);
                }
            }

            return;
        }

        var settings = await store.ApprovalSettingsAsync(after.TenantId, cancellationToken);
        var risk = after.Type == TicketType.Change ? (await changes.RiskAsync(after, cancellationToken)).Level : RiskLevel.Low;
        if (settings.PolicyFor(after, risk) is not { } policy)
        {
            return;
        }

        if (change.Durable is not { } durable)
        {
            logger.LogWarning("{Type} {TicketId} came to await approval in a function without a Durable client; its approval is not started.", after.Type, after.Id);
            return;
        }

        await durable.StartOnceAsync(ApprovalOrchestrator.Name, ApprovalOrchestrator.InstanceId(after.TenantId, approvalId), new ApprovalInput(after.TenantId, approvalId, after.Id, policy.Id), cancellationToken);
    }

    private async Task RecordPreApprovedAsync(Ticket ticket, string approvalId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var record = new ApprovalRecord
        {
            Id = approvalId,
            TenantId = ticket.TenantId,
            SubjectId = ticket.Id,
            SubjectNumber = ticket.Number,
            Title = ticket.Title,
            ChangeType = nameof(ChangeType.Standard),
            Requester = ticket.Requester.Id,
            PlannedStart = ticket.Change?.PlannedStart,
            PlannedEnd = ticket.Change?.PlannedEnd,
            Risk = ChangeRisk.Unassessed,
            PolicyId = ticket.Change?.Template is { } template ? $"standard-template:{template.Id}:v{template.Version}" : "standard-change",
            PolicyName = ticket.Change?.Template is { } used ? $"Pre-approved standard change: {used.Name} v{used.Version}" : "Pre-approved standard change",
            State = ApprovalState.Approved,
            Levels = [],
            OutcomeReason = "Standard changes come from pre-approved templates: no CAB.",
            Category = ticket.Category,
            OutcomeApplied = true,
            CreatedAt = at,
            CompletedAt = at,
        };
        try
        {
            await store.CreateAsync(record, cancellationToken);
        }
        catch (DocumentConflictException)
        {
            // Already recorded.
        }
    }
}

/// <summary>
/// Tells people about an approval: each prompt and reminder to its recipient, and the outcome once it is applied to
/// the ticket. The default keeps them on the approval record only (readable through the API).
/// </summary>
public interface IApprovalNotifier
{
    Task PromptAsync(ApprovalRecord approval, ApprovalPrompt prompt, CancellationToken cancellationToken);

    Task DecidedAsync(ApprovalRecord approval, CancellationToken cancellationToken);
}

/// <summary>Prompts are already recorded on the approval (<see cref="ApprovalRecord.Prompts"/>), its outcome on the ticket's audit trail; nothing else is sent.</summary>
public sealed class RecordedApprovalNotifier : IApprovalNotifier
{
    public Task PromptAsync(ApprovalRecord approval, ApprovalPrompt prompt, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task DecidedAsync(ApprovalRecord approval, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The Durable functions of approvals.</summary>
public sealed class ApprovalDurableFunctions(IServiceProvider services)
{
    [Function(ApprovalOrchestrator.Name)]
    public static Task<string> Approval([OrchestrationTrigger] TaskOrchestrationContext context, ApprovalInput input) =>
        new ApprovalOrchestrator().RunAsync(context, input);

    [Function(AdvanceApprovalActivity.Name)]
    public Task<ApprovalWake> AdvanceApproval([ActivityTrigger] ApprovalInput input, string instanceId) =>
        services.RunActivityAsync<AdvanceApprovalActivity, ApprovalInput, ApprovalWake>(AdvanceApprovalActivity.Name, instanceId, input);

    [Function(ApplyApprovalOutcomeActivity.Name)]
    public Task<ApprovalOutcome> ApplyApprovalOutcome([ActivityTrigger] ApprovalInput input, string instanceId) =>
        services.RunActivityAsync<ApplyApprovalOutcomeActivity, ApprovalInput, ApprovalOutcome>(ApplyApprovalOutcomeActivity.Name, instanceId, input);
}

/// <summary>Records answers (API, approval page) and overrides, and wakes the orchestration.</summary>
public sealed class ApprovalDecisions(ApprovalStore store, TimeProvider time)
{
    private const int MaxConflictRetries = 10;

    public async Task<(ApprovalRecord? Record, AnswerRefusal? Refusal)> AnswerAsync(
        string tenantId, string approvalId, string user, ApprovalVerdict verdict, string channel, string? comment, int? level, string? linkId, DurableTaskClient durable, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.ReadAsync(tenantId, approvalId, ct);
            if (stored is null)
            {
                return (null, new AnswerRefusal(404, "Not found.", $"Approval '{approvalId}' does not exist or you may not see it."));
            }

            var (slot, refusal) = ApprovalRules.CheckAnswer(stored.Document, user, level, linkId);
            if (refusal is not null)
            {
                return (stored.Document, refusal);
            }

            var now = time.GetUtcNow();
            var next = ApprovalRules.Settle(ApprovalRules.Record(stored.Document, slot!, user, verdict, channel, comment, linkId, now), now);
            try
            {
                await store.ReplaceAsync(next, stored.ETag, ct);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                continue;
            }

            await durable.TryRaiseEventAsync(ApprovalOrchestrator.InstanceId(tenantId, approvalId), ApprovalOrchestrator.DecisionEvent, new ApprovalDecisionEvent(slot!.UserId, user, verdict, channel), ct);
            return (next, null);
        }
    }

    /// <summary>An emergency change overrides the conflicts that block its approval; the reason is recorded.</summary>
    public async Task<(ApprovalRecord? Record, AnswerRefusal? Refusal)> OverrideAsync(string tenantId, string ticketId, CallerPrincipal caller, string reason, DurableTaskClient durable, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var blocked = (await store.ForSubjectAsync(tenantId, ticketId, ct)).LastOrDefault(r => r.State == ApprovalState.Blocked);
            var stored = blocked is null ? null : await store.ReadAsync(tenantId, blocked.Id, ct);
            if (stored is null)
            {
                return (null, new AnswerRefusal(409, "Nothing to override.", "The change has no approval blocked by conflicts."));
            }

            if (stored.Document.ChangeType != nameof(ChangeType.Emergency))
            {
                return (stored.Document, new AnswerRefusal(409, "Only emergency changes may override conflicts.", "Reschedule the change or resolve the conflicts, then submit it again."));
            }

            var next = stored.Document with { State = ApprovalState.Pending, Override = new ConflictOverride(caller.UserId, reason, time.GetUtcNow()) };
            try
            {
                await store.ReplaceAsync(next, stored.ETag, ct);
            }
            catch (PreconditionFailedException) when (attempt < MaxConflictRetries)
            {
                continue;
            }

            await durable.TryRaiseEventAsync(ApprovalOrchestrator.InstanceId(tenantId, next.Id), ApprovalOrchestrator.DecisionEvent, new ApprovalDecisionEvent(caller.UserId, caller.UserId, null, "override"), ct);
            return (next, null);
        }
    }
}
