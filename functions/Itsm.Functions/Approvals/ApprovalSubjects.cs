using System.Text.Json;
using Itsm.Functions.Changes;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Approvals;

/// <summary>
/// What the engine approves and how an outcome moves it. A change waits for approval in Authorize; approved it is
/// authorised (Scheduled), rejected it is cancelled. A service request waits on hold (<see cref="HoldReason.AwaitingApproval"/>);
/// approved it is resumed (work starts), rejected it is cancelled with the reason, as ServiceNow's requested items are.
/// </summary>
public static class ApprovalSubjects
{
    public static bool AwaitsApproval(Ticket? ticket) =>
        ticket switch
        {
            { Type: TicketType.Change, State: TicketState.Authorize } => true,
            { Type: TicketType.ServiceRequest, State: TicketState.OnHold, HoldReason: HoldReason.AwaitingApproval } => true,
            _ => false,
        };

    /// <summary>The lifecycle action that applies an approval's outcome to a ticket that awaits it.</summary>
    public static TransitionRequest Outcome(Ticket ticket, ApprovalRecord approval) =>
        approval.State == ApprovalState.Approved
            ? new TransitionRequest(ticket.Type == TicketType.Change ? "authorize" : "resume")
            : new TransitionRequest("cancel", Reason: $"Rejected by approval: {approval.OutcomeReason}");

    /// <summary>What the approval page and prompts call the subject.</summary>
    public static string Describe(ApprovalRecord approval) =>
        approval.SubjectType == nameof(TicketType.ServiceRequest) ? "Service request" : $"{approval.ChangeType} change";
}

/// <summary>
/// A new service request that an approval policy matches is raised on hold, awaiting approval, in the same write:
/// nobody works on it (and no SLA clock that pauses on hold runs) before it is approved. The approval itself is
/// started by <see cref="ApprovalStarter"/> once the request is stored.
/// </summary>
public sealed class ServiceRequestApprovalGate(ApprovalStore store) : ITicketWriteRule
{
    /// <summary>Before the SLA rule, so the clocks start from the request's real state.</summary>
    public int Order => -100;

    public async Task<(Ticket Ticket, IReadOnlyList<ITicketRecord> Records)> ApplyAsync(Ticket ticket, CancellationToken cancellationToken)
    {
        if (ticket is not { Revision: 1, Type: TicketType.ServiceRequest, State: TicketState.New })
        {
            return (ticket, []);
        }

        var settings = await store.ApprovalSettingsAsync(ticket.TenantId, cancellationToken);
        if (settings.PolicyFor(ticket, RiskLevel.Low) is not { } policy)
        {
            return (ticket, []);
        }

        var held = ticket with { State = TicketState.OnHold, HoldReason = HoldReason.AwaitingApproval };
        var audit = new AuditEvent
        {
            Id = Guid.NewGuid().ToString("N"),
            TenantId = ticket.TenantId,
            TicketId = ticket.Id,
            At = ticket.UpdatedAt,
            Actor = "approvals",
            Channel = "approval",
            Action = "approval.required",
            Changes = [.. TicketAudit.Diff(ticket, held), new FieldChange("approvalPolicy", null, JsonSerializer.SerializeToElement(policy.Name))],
        };
        return (held, [audit]);
    }
}

/// <summary>
/// While an approval decides a ticket, people cannot take the decision out of its hands: authorising a change, or
/// resuming or resolving a request, by hand is refused. Cancelling stays possible, and a change may be reverted to
/// New (to reschedule it and submit it again), both of which withdraw the approval.
/// </summary>
public sealed class ApprovalTransitionGuard(ApprovalStore store, ChangeService changes) : ITicketTransitionGuard
{
    private static readonly string[] DecidedByApproval = ["authorize", "resume", "resolve"];

    public async Task<string?> RefuseAsync(Ticket ticket, TransitionRequest request, CancellationToken cancellationToken)
    {
        if (!ApprovalSubjects.AwaitsApproval(ticket) || !DecidedByApproval.Contains(request.Action))
        {
            return null;
        }

        var stop = ticket.Type == TicketType.Change ? "cancel it, or revert it to New to change it and submit it again" : "cancel it";
        if ((await store.ForSubjectAsync(ticket.TenantId, ticket.Id, cancellationToken)).LastOrDefault(r => !r.IsFinished) is { } running)
        {
            return $"{ticket.Number} awaits the approval '{running.PolicyName}' ({running.Id}, {running.State}): it moves on when the approvers decide. To stop it, {stop}.";
        }

        // The approval may not have written its record yet; the policy that starts it already decides.
        var settings = await store.ApprovalSettingsAsync(ticket.TenantId, cancellationToken);
        var risk = ticket.Type == TicketType.Change ? (await changes.RiskAsync(ticket, cancellationToken)).Level : RiskLevel.Low;
        return settings.PolicyFor(ticket, risk) is { } policy
            ? $"{ticket.Number} needs the approval '{policy.Name}': it moves on when the approvers decide. To stop it, {stop}."
            : null;
    }
}
