using System.Globalization;
using Itsm.Functions.Approvals;
using Itsm.Functions.Sla;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Notifications;

/// <summary>
/// Approval prompts go out through the outbox: to the recipient of each prompt, with its signed link, as the tenant's
/// rules for "approval.requested" say. The outcome goes to the requester ("approval.decided"), once per approval.
/// </summary>
public sealed class OutboxApprovalNotifier(NotificationOutbox outbox) : IApprovalNotifier
{
    public async Task DecidedAsync(ApprovalRecord approval, CancellationToken cancellationToken) =>
        await outbox.PublishAsync(
            new NotificationEvent(NotificationEventKinds.ApprovalDecided, approval.TenantId, $"approval.decided:{approval.Id}")
            {
                TicketId = approval.SubjectId,
                TicketNumber = approval.SubjectNumber,
                Title = approval.Title,
                Link = $"/api/tickets/{approval.SubjectId}",
                Audiences = new Dictionary<string, IReadOnlyList<NotificationRecipient>>
                {
                    [NotificationAudiences.Requester] = approval.Requester is { } requester ? [new NotificationRecipient(requester, requester.Contains('@', StringComparison.Ordinal) ? requester : null)] : [],
                },
                Values = new Dictionary<string, string>
                {
                    ["approval.decision"] = approval.State == ApprovalState.Approved ? "approved" : "rejected",
                    ["approval.reason"] = approval.OutcomeReason ?? "",
                },
            },
            cancellationToken);

    public async Task PromptAsync(ApprovalRecord approval, ApprovalPrompt prompt, CancellationToken cancellationToken) =>
        await outbox.PublishAsync(
            new NotificationEvent(NotificationEventKinds.ApprovalRequested, approval.TenantId, $"approval.requested:{approval.Id}:{prompt.Level}:{prompt.Recipient}:{prompt.Kind}:{prompt.At.UtcTicks}")
            {
                TicketId = approval.SubjectId,
                TicketNumber = approval.SubjectNumber,
                Title = approval.Title,
                Link = prompt.Link,
                Audiences = new Dictionary<string, IReadOnlyList<NotificationRecipient>>
                {
                    [NotificationAudiences.Approvers] = [new NotificationRecipient(prompt.Recipient, prompt.Recipient.Contains('@', StringComparison.Ordinal) ? prompt.Recipient : null)],
                },
                Values = new Dictionary<string, string>
                {
                    ["approval.kind"] = prompt.Kind,
                    ["approval.expiresAt"] = prompt.LinkExpiresAt.ToString("O", CultureInfo.InvariantCulture),
                },
            },
            cancellationToken);
}

/// <summary>
/// SLA warnings and breaches go out through the outbox, to the ticket's assignee (at a breach only when the policy
/// names the assignee). Event ids are the clock, its generation and the threshold, so an activity that runs again
/// never notifies twice.
/// </summary>
public sealed class OutboxSlaNotifier(NotificationOutbox outbox) : ISlaNotifier
{
    public async Task ThresholdsFiredAsync(Ticket ticket, TicketSla clock, SlaPolicy? policy, IReadOnlyList<SlaThreshold> fired, CancellationToken cancellationToken)
    {
        foreach (var threshold in fired)
        {
            var breach = threshold.Percent >= 100;
            var kind = breach ? NotificationEventKinds.SlaBreach : NotificationEventKinds.SlaWarning;
            var notifyAssignee = !breach || policy is null || policy.OnBreach.Notify.Contains(BreachNotify.Assignee);
            var notification = TicketNotifications.Event(kind, ticket, $"{clock.Key}:{clock.Generation}:{threshold.Percent}") with
            {
                Audiences = new Dictionary<string, IReadOnlyList<NotificationRecipient>>
                {
                    [NotificationAudiences.Assignee] = notifyAssignee && ticket.Assignee is { } a ? [new NotificationRecipient(a.Id, a.Email, a.Name)] : [],
                },
                Values = new Dictionary<string, string>
                {
                    ["sla.metric"] = clock.Key,
                    ["sla.percent"] = threshold.Percent.ToString(CultureInfo.InvariantCulture),
                    ["sla.reachedAt"] = threshold.ReachedAt.ToString("O", CultureInfo.InvariantCulture),
                    ["sla.dueAt"] = threshold.DueAt?.ToString("O", CultureInfo.InvariantCulture) ?? "",
                },
            };
            await outbox.PublishAsync(notification, cancellationToken);
        }
    }
}
