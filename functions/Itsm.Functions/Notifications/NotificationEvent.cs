using System.Text.Json.Serialization;

namespace Itsm.Functions.Notifications;

/// <summary>The event kinds features publish; tenants' rules and templates refer to them by these names.</summary>
public static class NotificationEventKinds
{
    public const string TicketCreated = "ticket.created";
    public const string TicketAssigned = "ticket.assigned";
    public const string TicketCommented = "ticket.commented";
    public const string TicketResolved = "ticket.resolved";
    public const string SlaWarning = "sla.warning";
    public const string SlaBreach = "sla.breach";
    public const string ApprovalRequested = "approval.requested";
    public const string ApprovalDecided = "approval.decided";
    public const string ChangeScheduled = "change.scheduled";

    /// <summary>A published knowledge article's review date passed (to its owner).</summary>
    public const string KbReviewDue = "kb.review-due";

    /// <summary>A resolved ticket's requester is asked to rate the help (with the signed survey link), and reminded.</summary>
    public const string SurveyInvited = "survey.invited";
    public const string SurveyReminder = "survey.reminder";

    /// <summary>The polite reply to mail from an unknown sender when the mailbox's policy is to reject.</summary>
    public const string IntakeRejected = "intake.rejected";

    public static readonly IReadOnlyList<string> All =
        [TicketCreated, TicketAssigned, TicketCommented, TicketResolved, SlaWarning, SlaBreach, ApprovalRequested, ApprovalDecided, ChangeScheduled, IntakeRejected, KbReviewDue, SurveyInvited, SurveyReminder];
}

/// <summary>The audiences a rule can name; an event says who they are for it.</summary>
public static class NotificationAudiences
{
    public const string Requester = "requester";
    public const string Assignee = "assignee";
    public const string Group = "group";
    public const string Watchers = "watchers";
    public const string Approvers = "approvers";
    public const string Managers = "managers";

    public static readonly IReadOnlyList<string> All = [Requester, Assignee, Group, Watchers, Approvers, Managers];
}

[JsonConverter(typeof(JsonStringEnumConverter<NotificationChannel>))]
public enum NotificationChannel
{
    Mail,

    /// <summary>A Microsoft Teams activity-feed notification (needs the recipient's Entra object id).</summary>
    Teams,
}

/// <summary>A person to notify: an id (Entra object id for Teams), a mail address, a display name, a preferred culture.</summary>
public sealed record NotificationRecipient(string Id, string? Email = null, string? Name = null, string? Culture = null);

/// <summary>
/// Something people may need to know, published by a feature through <see cref="NotificationOutbox.PublishAsync"/>.
/// <see cref="EventId"/> identifies the occurrence: publishing the same event again never notifies anyone twice.
/// The tenant's rules pick audiences from <see cref="Audiences"/>; <see cref="Recipients"/> are notified in addition,
/// through <see cref="Channels"/> (mail when not given), e.g. the approvers of an approval prompt with its link.
/// </summary>
public sealed record NotificationEvent(string Kind, string TenantId, string EventId)
{
    public string? TicketId { get; init; }

    public string? TicketNumber { get; init; }

    public string? Title { get; init; }

    /// <summary>Where the recipient acts (the ticket, the approval).</summary>
    public string? Link { get; init; }

    /// <summary>Who caused the event: never notified of their own action.</summary>
    public string? ActorId { get; init; }

    public IReadOnlyDictionary<string, IReadOnlyList<NotificationRecipient>> Audiences { get; init; } =
        new Dictionary<string, IReadOnlyList<NotificationRecipient>>();

    public IReadOnlyList<NotificationRecipient> Recipients { get; init; } = [];

    public IReadOnlyList<NotificationChannel>? Channels { get; init; }

    /// <summary>Extra placeholder values for templates (<c>{{name}}</c>).</summary>
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();
}
