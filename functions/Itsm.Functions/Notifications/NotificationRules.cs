using System.Net;
using System.Text.RegularExpressions;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Notifications;

/// <summary>One rule of a tenant: an event kind notifies these audiences through these channels.</summary>
public sealed record NotificationRule(string Event, IReadOnlyList<string> Audiences, IReadOnlyList<NotificationChannel> Channels);

/// <summary>A template of an event kind in a culture; placeholders are <c>{{ticket.number}}</c>, <c>{{ticket.title}}</c>, <c>{{link}}</c>, <c>{{recipient.name}}</c> and the event's values.</summary>
public sealed record NotificationTemplate(string Event, string Culture, string Subject, string Text, string Html);

/// <summary>A tenant's notification settings (<c>notificationSettings</c>, partition /tenantId, id "settings").</summary>
public sealed record NotificationSettingsDocument(
    string Id,
    string TenantId,
    IReadOnlyList<NotificationRule> Rules,
    IReadOnlyList<NotificationTemplate> Templates,
    string DefaultCulture = "en");

/// <summary>The rendered text of one notification.</summary>
public sealed record RenderedNotification(string Subject, string Text, string Html);

public static partial class NotificationRules
{
    public static readonly IReadOnlyList<NotificationRule> DefaultRules =
    [
        new(NotificationEventKinds.TicketCreated, [NotificationAudiences.Requester], [NotificationChannel.Mail]),
        new(NotificationEventKinds.TicketAssigned, [NotificationAudiences.Assignee], [NotificationChannel.Mail, NotificationChannel.Teams]),
        new(NotificationEventKinds.TicketCommented, [NotificationAudiences.Requester, NotificationAudiences.Assignee, NotificationAudiences.Watchers], [NotificationChannel.Mail]),
        new(NotificationEventKinds.TicketResolved, [NotificationAudiences.Requester, NotificationAudiences.Watchers], [NotificationChannel.Mail]),
        new(NotificationEventKinds.SlaWarning, [NotificationAudiences.Assignee], [NotificationChannel.Teams]),
        new(NotificationEventKinds.SlaBreach, [NotificationAudiences.Assignee, NotificationAudiences.Managers], [NotificationChannel.Mail, NotificationChannel.Teams]),
        new(NotificationEventKinds.ApprovalRequested, [NotificationAudiences.Approvers], [NotificationChannel.Mail, NotificationChannel.Teams]),
        new(NotificationEventKinds.ApprovalDecided, [NotificationAudiences.Requester], [NotificationChannel.Mail]),
        new(NotificationEventKinds.ChangeScheduled, [NotificationAudiences.Requester, NotificationAudiences.Watchers], [NotificationChannel.Mail]),
    ];

    public static readonly IReadOnlyList<NotificationTemplate> DefaultTemplates =
    [
        T(NotificationEventKinds.TicketCreated, "en", "[{{ticket.number}}] We received your request: {{ticket.title}}", "Hello {{recipient.name}},\n\nyour request was registered as {{ticket.number}}. Reply to this mail to add information.\n\n{{link}}"),
        T(NotificationEventKinds.TicketCreated, "de", "[{{ticket.number}}] Ihre Anfrage ist eingegangen: {{ticket.title}}", "Hallo {{recipient.name}},\n\nIhre Anfrage wurde als {{ticket.number}} erfasst. Antworten Sie auf diese Mail, um Informationen zu ergänzen.\n\n{{link}}"),
        T(NotificationEventKinds.TicketAssigned, "en", "[{{ticket.number}}] Assigned to you: {{ticket.title}}", "{{ticket.number}} is assigned to you.\n\n{{link}}"),
        T(NotificationEventKinds.TicketCommented, "en", "[{{ticket.number}}] New comment: {{ticket.title}}", "{{comment.author}} wrote:\n\n{{comment.body}}\n\n{{link}}"),
        T(NotificationEventKinds.TicketResolved, "en", "[{{ticket.number}}] Resolved: {{ticket.title}}", "{{ticket.number}} is resolved. Reply within 7 days if the problem persists.\n\n{{link}}"),
        T(NotificationEventKinds.SlaWarning, "en", "[{{ticket.number}}] SLA warning: {{ticket.title}}", "{{ticket.number}} will breach its SLA ({{sla.metric}}) at {{sla.dueAt}}.\n\n{{link}}"),
        T(NotificationEventKinds.SlaBreach, "en", "[{{ticket.number}}] SLA breached: {{ticket.title}}", "{{ticket.number}} breached its SLA ({{sla.metric}}).\n\n{{link}}"),
        T(NotificationEventKinds.ApprovalRequested, "en", "[{{ticket.number}}] Approval requested: {{ticket.title}}", "Your approval is requested for {{ticket.number}}.\n\nApprove or reject: {{link}}"),
        T(NotificationEventKinds.ApprovalDecided, "en", "[{{ticket.number}}] Approval {{approval.decision}}: {{ticket.title}}", "The approval of {{ticket.number}} was {{approval.decision}}.\n\n{{link}}"),
        T(NotificationEventKinds.ChangeScheduled, "en", "[{{ticket.number}}] Change scheduled: {{ticket.title}}", "{{ticket.number}} is scheduled from {{change.start}} to {{change.end}}.\n\n{{link}}"),
        T(NotificationEventKinds.KbReviewDue, "en", "Knowledge article due for review: {{ticket.title}}", "Hello {{recipient.name}},\n\nthe article \"{{ticket.title}}\" ({{kb.id}}) you own was due for review on {{kb.reviewAt}}. Check it is still right, then set its next review date.\n\n{{link}}"),
        T(NotificationEventKinds.SurveyInvited, "en", "[{{ticket.number}}] How did we do? {{ticket.title}}", "Hello {{recipient.name}},\n\n{{ticket.number}} is resolved. Please rate the help you got (1 to 5, with a comment if you like). It takes a few seconds; the link works once, until {{survey.expiresAt}}.\n\n{{link}}"),
        T(NotificationEventKinds.SurveyReminder, "en", "[{{ticket.number}}] Reminder: how did we do? {{ticket.title}}", "Hello {{recipient.name}},\n\nyou have not yet rated the help with {{ticket.number}}. The link works once, until {{survey.expiresAt}}.\n\n{{link}}"),
        T(NotificationEventKinds.IntakeRejected, "en", "Your message was not accepted: {{ticket.title}}", "Hello,\n\nthank you for your message. This service desk only accepts requests from registered users, so no ticket was opened. Please contact your IT department through the usual channels."),
    ];

    public static NotificationSettingsDocument Defaults(string tenantId) => new("settings", tenantId, DefaultRules, []);

    /// <summary>The template for an event in a culture: the tenant's, then the product's; the exact culture, then its language, then the default culture, then English.</summary>
    public static NotificationTemplate? TemplateFor(NotificationSettingsDocument settings, string kind, string? culture)
    {
        var candidates = new List<string>();
        foreach (var c in new[] { culture, culture?.Split('-')[0], settings.DefaultCulture, "en" })
        {
            if (!string.IsNullOrEmpty(c) && !candidates.Contains(c, StringComparer.OrdinalIgnoreCase))
            {
                candidates.Add(c);
            }
        }

        foreach (var candidate in candidates)
        {
            var found = settings.Templates.Concat(DefaultTemplates)
                .FirstOrDefault(t => t.Event == kind && string.Equals(t.Culture, candidate, StringComparison.OrdinalIgnoreCase));
            if (found is not null)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>Fills placeholders; in the HTML part every value is HTML-encoded. Unknown placeholders become empty.</summary>
    public static RenderedNotification Render(NotificationTemplate template, IReadOnlyDictionary<string, string> values) =>
        new(
            Fill(template.Subject, values, html: false).ReplaceLineEndings(" "),
            Fill(template.Text, values, html: false),
            Fill(template.Html, values, html: true));

    public static IReadOnlyDictionary<string, string> Values(NotificationEvent e, NotificationRecipient recipient)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["ticket.number"] = e.TicketNumber ?? "",
            ["ticket.title"] = e.Title ?? "",
            ["link"] = e.Link ?? "",
            ["recipient.name"] = recipient.Name ?? recipient.Email ?? recipient.Id,
            ["event"] = e.Kind,
        };
        foreach (var (key, value) in e.Values)
        {
            values[key] = value;
        }

        return values;
    }

    private static NotificationTemplate T(string kind, string culture, string subject, string text) =>
        new(kind, culture, subject, text, "<p>" + string.Join("</p><p>", text.Split("\n\n")).Replace("\n", "<br>", StringComparison.Ordinal) + "</p>");

    private static string Fill(string template, IReadOnlyDictionary<string, string> values, bool html) =>
        Placeholder().Replace(template, m =>
        {
            var value = values.GetValueOrDefault(m.Groups[1].Value) ?? "";
            return html ? WebUtility.HtmlEncode(value).Replace("\n", "<br>", StringComparison.Ordinal) : value;
        });

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")]
    private static partial Regex Placeholder();
}

/// <summary>Reads and replaces a tenant's notification settings; the product's defaults when none are stored.</summary>
public sealed class NotificationSettingsStore(IDocumentStore store)
{
    public static readonly ContainerDefinition Container = new("notificationSettings", ["/tenantId"], []);

    public async Task<NotificationSettingsDocument> GetAsync(string tenantId, CancellationToken cancellationToken) =>
        (await store.ReadAsync<NotificationSettingsDocument>(Container, new DocumentKey(tenantId, "settings"), cancellationToken))?.Document
        ?? NotificationRules.Defaults(tenantId);

    public Task PutAsync(NotificationSettingsDocument settings, CancellationToken cancellationToken) =>
        store.ExecuteBatchAsync(Container, settings.TenantId, [new BatchOperation.Upsert("settings", settings with { Id = "settings" })], cancellationToken);

    internal static string Describe(IReadOnlyList<NotificationRule> rules) => string.Join(", ", rules.Select(r => r.Event));

    internal static HttpResponseOutput? Validate(NotificationSettingsDocument settings)
    {
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < settings.Rules.Count; i++)
        {
            var rule = settings.Rules[i];
            if (!NotificationEventKinds.All.Contains(rule.Event))
            {
                errors[$"rules[{i}].event"] = [$"must be one of {string.Join(", ", NotificationEventKinds.All)}."];
            }

            if (rule.Audiences.FirstOrDefault(a => !NotificationAudiences.All.Contains(a)) is { } unknown)
            {
                errors[$"rules[{i}].audiences"] = [$"'{unknown}' is not one of {string.Join(", ", NotificationAudiences.All)}."];
            }

            if (rule.Channels.Count == 0)
            {
                errors[$"rules[{i}].channels"] = ["at least one channel (Mail, Teams)."];
            }
        }

        for (var i = 0; i < settings.Templates.Count; i++)
        {
            var template = settings.Templates[i];
            if (!NotificationEventKinds.All.Contains(template.Event))
            {
                errors[$"templates[{i}].event"] = [$"must be one of {string.Join(", ", NotificationEventKinds.All)}."];
            }

            if (string.IsNullOrWhiteSpace(template.Culture) || template.Culture.Length > 10)
            {
                errors[$"templates[{i}].culture"] = ["a culture name such as en or de-CH."];
            }

            if (string.IsNullOrWhiteSpace(template.Subject) || template.Subject.Length > 300)
            {
                errors[$"templates[{i}].subject"] = ["1 to 300 characters."];
            }

            if (string.IsNullOrWhiteSpace(template.Text) || template.Text.Length > 20_000 || template.Html is null || template.Html.Length > 50_000)
            {
                errors[$"templates[{i}].text"] = ["text (1 to 20000) and html (at most 50000) are required."];
            }
        }

        return errors.Count > 0 ? HttpResults.ValidationProblem(errors) : null;
    }
}
