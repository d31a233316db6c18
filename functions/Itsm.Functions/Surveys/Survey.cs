using System.Globalization;
using System.Text.Json.Serialization;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Surveys;

[JsonConverter(typeof(JsonStringEnumConverter<SurveyState>))]
public enum SurveyState
{
    Invited,
    Answered,
    Expired,
}

/// <summary>
/// The satisfaction survey of one resolved ticket (id = the ticket's id: one per ticket), in <c>surveys</c> (partition
/// /tenantId). It keeps who handled the ticket at resolution, so results per agent, group and service stay right
/// after the ticket moves on.
/// </summary>
public sealed record Survey
{
    public const string DocumentType = "survey";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public string DocType => DocumentType;

    public required string TicketNumber { get; init; }

    public required TicketType TicketType { get; init; }

    public required string Title { get; init; }

    public required PersonRef Requester { get; init; }

    public PersonRef? Agent { get; init; }

    public string? Group { get; init; }

    public string? Service { get; init; }

    /// <summary>The ticket's priority and category when it was resolved: the satisfaction report's breakdowns.</summary>
    public int? Priority { get; init; }

    public string? Category { get; init; }

    public required SurveyState State { get; init; }

    public required DateTimeOffset InvitedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    /// <summary>When to remind the requester once; null when no reminder is (any longer) due.</summary>
    public DateTimeOffset? RemindAt { get; init; }

    /// <summary>The id of the signed link; only a link with it answers.</summary>
    public required string LinkId { get; init; }

    public int? Rating { get; init; }

    public string? Comment { get; init; }

    public DateTimeOffset? AnsweredAt { get; init; }
}

/// <summary>A tenant's survey settings (<c>surveys</c>, id "settings"). Off until an admin turns them on.</summary>
public sealed record SurveySettings
{
    public const string DocumentId = "settings";

    public string Id { get; init; } = DocumentId;

    public string TenantId { get; init; } = "";

    public string DocType => "settings";

    public bool Enabled { get; init; }

    /// <summary>Which resolved tickets invite their requester.</summary>
    public IReadOnlyList<TicketType> TicketTypes { get; init; } = [TicketType.Incident, TicketType.ServiceRequest];

    /// <summary>How long the link works.</summary>
    public int ExpiryDays { get; init; } = 14;

    /// <summary>After how many days an unanswered survey is reminded once; 0: never.</summary>
    public int ReminderAfterDays { get; init; } = 3;
}

/// <summary>What a resolve leaves for the survey feature (the follow-up's payload).</summary>
public sealed record SurveyRequest(string TicketId, string TicketNumber, TicketType TicketType, string Title, PersonRef Requester, PersonRef? Agent, string? Group, string? Service, DateTimeOffset ResolvedAt)
{
    /// <summary>The ticket's priority and category when resolved (absent in follow-ups written before they were carried).</summary>
    public int? Priority { get; init; }

    public string? Category { get; init; }
}

[JsonConverter(typeof(JsonStringEnumConverter<SurveyGrouping>))]
public enum SurveyGrouping
{
    Agent,
    Group,
    Service,
    Period,
}

/// <summary>One row of the results: a group's surveys sent, answered, the average and the spread of ratings.</summary>
public sealed record SurveyResultRow(string Key, int Invited, int Answered, double ResponseRate, double? AverageRating, IReadOnlyList<int> Ratings);

/// <summary>Survey rules as pure functions.</summary>
public static class SurveyRules
{
    public const int MaxComment = 2000;

    public static bool Invites(SurveySettings settings, SurveyRequest request) =>
        settings.Enabled && settings.TicketTypes.Contains(request.TicketType) && !string.IsNullOrEmpty(request.Requester.Id);

    public static Survey Invite(string tenantId, SurveyRequest request, SurveySettings settings, string linkId, DateTimeOffset now) => new()
    {
        Id = request.TicketId,
        TenantId = tenantId,
        TicketNumber = request.TicketNumber,
        TicketType = request.TicketType,
        Title = request.Title,
        Requester = request.Requester,
        Agent = request.Agent,
        Group = request.Group,
        Service = request.Service,
        Priority = request.Priority,
        Category = request.Category,
        State = SurveyState.Invited,
        InvitedAt = now,
        ExpiresAt = now.AddDays(settings.ExpiryDays),
        RemindAt = settings.ReminderAfterDays > 0 && settings.ReminderAfterDays < settings.ExpiryDays ? now.AddDays(settings.ReminderAfterDays) : null,
        LinkId = linkId,
    };

    /// <summary>Why an answer is refused (null: it may be recorded).</summary>
    public static string? Refusal(Survey survey, string linkId, DateTimeOffset now) =>
        survey.LinkId != linkId ? "This link does not belong to this survey."
        : survey.State == SurveyState.Answered ? "This survey is already answered; thank you."
        : survey.State == SurveyState.Expired || now >= survey.ExpiresAt ? "This survey has expired."
        : null;

    public static Survey Answer(Survey survey, int rating, string? comment, DateTimeOffset now) =>
        survey with { State = SurveyState.Answered, Rating = rating, Comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim(), AnsweredAt = now, RemindAt = null };

    public static string PeriodKey(DateTimeOffset at, string period) => period switch
    {
        "day" => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        "week" => $"{ISOWeek.GetYear(at.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(at.UtcDateTime):00}",
        _ => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture),
    };

    /// <summary>Groups surveys (by the invitation's period for <see cref="SurveyGrouping.Period"/>); "(none)" for surveys without the grouping's value.</summary>
    public static IReadOnlyList<SurveyResultRow> Aggregate(IEnumerable<Survey> surveys, SurveyGrouping grouping, string period) =>
        surveys
            .GroupBy(s => grouping switch
            {
                SurveyGrouping.Agent => s.Agent?.Id ?? "(none)",
                SurveyGrouping.Group => s.Group ?? "(none)",
                SurveyGrouping.Service => s.Service ?? "(none)",
                _ => PeriodKey(s.InvitedAt, period),
            })
            .Select(Row)
            .OrderBy(r => r.Key, StringComparer.Ordinal)
            .ToList();

    public static SurveyResultRow Row(IGrouping<string, Survey> group) => Row(group.Key, group);

    public static SurveyResultRow Row(string key, IEnumerable<Survey> surveys)
    {
        var all = surveys.ToList();
        var answered = all.Where(s => s.State == SurveyState.Answered && s.Rating is not null).ToList();
        var ratings = Enumerable.Range(1, 5).Select(r => answered.Count(s => s.Rating == r)).ToArray();
        return new SurveyResultRow(
            key,
            all.Count,
            answered.Count,
            all.Count == 0 ? 0 : Math.Round((double)answered.Count / all.Count, 3),
            answered.Count == 0 ? null : Math.Round(answered.Average(s => s.Rating!.Value), 2),
            ratings);
    }
}
