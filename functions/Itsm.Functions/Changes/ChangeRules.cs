using System.Text.Json.Serialization;
using Itsm.Functions.Approvals;
using Itsm.Functions.Sla;

namespace Itsm.Functions.Changes;

/// <summary>The short risk questionnaire a change owner answers; each "yes" that raises risk adds points.</summary>
public sealed record RiskQuestionnaire(
    bool ServiceOutageExpected = false,
    bool TestedOutsideProduction = true,
    bool BackoutTested = true,
    bool ComplexImplementation = false);

public sealed record ChangeRisk(int Score, RiskLevel Level, IReadOnlyList<string> Factors)
{
    public static readonly ChangeRisk Unassessed = new(0, RiskLevel.Low, ["not assessed"]);
}

[JsonConverter(typeof(JsonStringEnumConverter<ConflictRule>))]
public enum ConflictRule
{
    SameCi,
    RelatedCi,
    FreezeWindow,
    OutsideMaintenanceWindow,
    AssigneeDoubleBooked,
}

public sealed record ChangeConflict(ConflictRule Rule, string Detail, string? OtherChange = null, string? Ci = null);

/// <summary>A change as the calendar and the conflict rules see it.</summary>
public sealed record ScheduledChange(
    string Id,
    string Number,
    string Title,
    string State,
    string ChangeType,
    DateTimeOffset Start,
    DateTimeOffset End,
    IReadOnlyList<string> Cis,
    string? Service,
    string? AssignmentGroup,
    string? Assignee)
{
    public bool Overlaps(DateTimeOffset start, DateTimeOffset end) => Start < end && start < End;
}

[JsonConverter(typeof(JsonStringEnumConverter<ChangeWindowKind>))]
public enum ChangeWindowKind
{
    Freeze,
    Maintenance,
}

/// <summary>
/// Weekly hours in local wall-clock time of an IANA time zone (e.g. Sundays 02:00-06:00 in Europe/Berlin), as a
/// business calendar's weekly hours are written; the window's start and end bound the series.
/// </summary>
public sealed record WindowRecurrence(string TimeZone, IReadOnlyDictionary<string, IReadOnlyList<string>> WeeklyHours)
{
    /// <summary>The recurrence as a calendar whose working time is the window's occurrences, so DST is handled as for SLAs; null with errors when invalid.</summary>
    public BusinessCalendar? ToCalendar(string at, Dictionary<string, string[]> errors)
    {
        var weekly = new Dictionary<DayOfWeek, IReadOnlyList<WorkingInterval>>();
        foreach (var (day, hours) in WeeklyHours ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (!Enum.TryParse<DayOfWeek>(day, ignoreCase: true, out var weekday) || int.TryParse(day, out _))
            {
                errors[$"{at}.weeklyHours.{day}"] = ["is not a day of the week (monday to sunday)."];
                continue;
            }

            try
            {
                weekly[weekday] = (hours ?? []).Select(WorkingInterval.Parse).ToArray();
            }
            catch (FormatException ex)
            {
                errors[$"{at}.weeklyHours.{day}"] = [ex.Message];
            }
        }

        var calendar = new BusinessCalendar(TimeZone ?? "", weekly);
        foreach (var (field, messages) in calendar.Validate())
        {
            // The calendar names its fields as its record does; the caller wrote "timeZone" and lower-case days.
            var named = field == "timeZoneId" ? "timeZone" : field.StartsWith("weeklyHours.", StringComparison.Ordinal) ? "weeklyHours." + field["weeklyHours.".Length..].ToLowerInvariant() : field;
            errors[$"{at}.{named}"] = messages;
        }

        return errors.Keys.Any(k => k.StartsWith(at + ".", StringComparison.Ordinal)) ? null : calendar;
    }
}

/// <summary>
/// A freeze (blackout) window or a maintenance window, for some CIs and/or services. A freeze window with neither
/// applies to everything; a CI with maintenance windows may only be changed inside one of them. With a
/// <see cref="Recurrence"/>, the window is its weekly occurrences between <see cref="Start"/> and <see cref="End"/>.
/// </summary>
public sealed record ChangeWindow(
    string Name,
    ChangeWindowKind Kind,
    DateTimeOffset Start,
    DateTimeOffset End,
    IReadOnlyList<string>? Cis = null,
    IReadOnlyList<string>? Services = null,
    WindowRecurrence? Recurrence = null)
{
    public bool AppliesTo(string? ci, string? service) =>
        (Cis?.Contains(ci ?? "") ?? false) || (Services?.Contains(service ?? "") ?? false);

    public bool IsGlobal => (Cis is null || Cis.Count == 0) && (Services is null || Services.Count == 0);

    /// <summary>Whether some of [start, end) falls in the window (in one of its occurrences, when it recurs).</summary>
    public bool Overlaps(DateTimeOffset start, DateTimeOffset end)
    {
        var (from, to) = (Max(start, Start), Min(end, End));
        return from < to && (Occurrences() is not { } calendar || calendar.BusinessTimeBetween(from, to) > TimeSpan.Zero);
    }

    /// <summary>Whether all of [start, end) falls in the window (back-to-back occurrences, such as 22:00-24:00 and 00:00-02:00, count as one).</summary>
    public bool Contains(DateTimeOffset start, DateTimeOffset end) =>
        Start <= start && end <= End && (Occurrences() is not { } calendar || calendar.BusinessTimeBetween(start, end) == end - start);

    /// <summary>The occurrences of a recurring window that fall in [from, to), clipped to it (at most <paramref name="max"/>); null for a one-span window.</summary>
    public IReadOnlyList<WindowOccurrence>? OccurrencesBetween(DateTimeOffset from, DateTimeOffset to, int max) =>
        Occurrences()?.WorkingStretches(Max(from, Start), Min(to, End), max).Select(s => new WindowOccurrence(s.Start, s.End)).ToArray();

    public string Describe() =>
        Recurrence is { } weekly
            ? $"weekly {string.Join(", ", weekly.WeeklyHours.Select(d => $"{d.Key} {string.Join(" ", d.Value)}"))} {weekly.TimeZone}, {Start:O} to {End:O}"
            : $"{Start:O} to {End:O}";

    private BusinessCalendar? Occurrences() => Recurrence?.ToCalendar("recurrence", []);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

/// <summary>One occurrence of a recurring window, as instants.</summary>
public sealed record WindowOccurrence(DateTimeOffset Start, DateTimeOffset End);

/// <summary>The tenant's change windows and the CMDB depth used to find related CIs.</summary>
public sealed record ChangeSettings(IReadOnlyList<ChangeWindow> Windows, int RelatedCiDepth = 1)
{
    public static readonly ChangeSettings Empty = new([]);

    /// <summary>Occurrences are counted with the calendar arithmetic, which looks at most 100 years ahead; a decade is plenty.</summary>
    private static readonly TimeSpan MaxRecurringSeries = TimeSpan.FromDays(10 * 366);

    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, string[]>();
        if (RelatedCiDepth is < 0 or > 5)
        {
            errors["relatedCiDepth"] = ["must be between 0 and 5."];
        }

        for (var i = 0; i < Windows.Count; i++)
        {
            var window = Windows[i];
            if (string.IsNullOrWhiteSpace(window.Name))
            {
                errors[$"windows[{i}].name"] = ["is required."];
            }

            if (window.End <= window.Start)
            {
                errors[$"windows[{i}].end"] = ["must be after the start."];
            }

            if (window.Kind == ChangeWindowKind.Maintenance && window.IsGlobal)
            {
                errors[$"windows[{i}].cis"] = ["A maintenance window names the CIs or services it is for."];
            }

            if (window.Recurrence is not null && window.End - window.Start > MaxRecurringSeries)
            {
                errors[$"windows[{i}].end"] = ["A recurring window's series spans at most 10 years; add another window for later years."];
            }

            window.Recurrence?.ToCalendar($"windows[{i}].recurrence", errors);
        }

        return errors;
    }
}

/// <summary>The pure change rules: risk scoring and conflict detection.</summary>
public static class ChangeRules
{
    /// <summary>
    /// Questionnaire (0-6) + highest CI criticality above 1 (0-4) + affected services (at most 5) + recent failure rate on
    /// the same CIs (0-5). Low up to 4, Medium up to 9, High above.
    /// </summary>
    public static ChangeRisk Score(RiskQuestionnaire? answers, int maxCriticality, int affectedServices, double recentFailureRate)
    {
        var factors = new List<string>();
        var score = 0;
        if (answers is not null)
        {
            score += Add(answers.ServiceOutageExpected, 2, "service outage expected", factors);
            score += Add(!answers.TestedOutsideProduction, 2, "not tested outside production", factors);
            score += Add(!answers.BackoutTested, 1, "back-out not tested", factors);
            score += Add(answers.ComplexImplementation, 1, "complex implementation", factors);
        }
        else
        {
            factors.Add("questionnaire not answered");
        }

        var criticality = Math.Clamp(maxCriticality, 1, 5) - 1;
        score += Add(criticality > 0, criticality, $"CI criticality {maxCriticality}", factors);
        var services = Math.Min(affectedServices, 5);
        score += Add(services > 0, services, $"{affectedServices} affected service(s)", factors);
        var failures = (int)Math.Round(Math.Clamp(recentFailureRate, 0, 1) * 5, MidpointRounding.AwayFromZero);
        score += Add(failures > 0, failures, $"{recentFailureRate:P0} of recent changes on these CIs failed", factors);
        var level = score <= 4 ? RiskLevel.Low : score <= 9 ? RiskLevel.Medium : RiskLevel.High;
        return new ChangeRisk(score, level, factors);
    }

    private static int Add(bool applies, int points, string factor, List<string> factors)
    {
        if (!applies)
        {
            return 0;
        }

        factors.Add($"{factor} (+{points})");
        return points;
    }

    /// <summary>Every conflict of <paramref name="change"/>: overlapping changes on the same or related CIs, windows, a double-booked assignee.</summary>
    public static IReadOnlyList<ChangeConflict> Detect(
        ScheduledChange change,
        IEnumerable<ScheduledChange> others,
        IReadOnlyList<ChangeWindow> windows,
        IReadOnlyDictionary<string, IReadOnlySet<string>> relatedCis)
    {
        var conflicts = new List<ChangeConflict>();
        foreach (var other in others.Where(o => o.Id != change.Id && o.Overlaps(change.Start, change.End)))
        {
            var same = change.Cis.Intersect(other.Cis, StringComparer.Ordinal).ToArray();
            foreach (var ci in same)
            {
                conflicts.Add(new ChangeConflict(ConflictRule.SameCi, $"{other.Number} changes {ci} at an overlapping time ({other.Start:O} to {other.End:O}).", other.Number, ci));
            }

            foreach (var ci in change.Cis)
            {
                var related = relatedCis.TryGetValue(ci, out var set) ? set : new HashSet<string>();
                foreach (var hit in other.Cis.Where(o => o != ci && related.Contains(o) && !same.Contains(o)).Distinct())
                {
                    conflicts.Add(new ChangeConflict(ConflictRule.RelatedCi, $"{other.Number} changes {hit}, related to {ci}, at an overlapping time.", other.Number, hit));
                }
            }

            if (change.Assignee is not null && change.Assignee == other.Assignee)
            {
                conflicts.Add(new ChangeConflict(ConflictRule.AssigneeDoubleBooked, $"{change.Assignee} is also implementing {other.Number} at an overlapping time.", other.Number));
            }
        }

        foreach (var freeze in windows.Where(w => w.Kind == ChangeWindowKind.Freeze && w.Overlaps(change.Start, change.End)))
        {
            if (freeze.IsGlobal || change.Cis.Any(ci => freeze.AppliesTo(ci, null)) || freeze.AppliesTo(null, change.Service))
            {
                conflicts.Add(new ChangeConflict(ConflictRule.FreezeWindow, $"The change falls in the freeze window '{freeze.Name}' ({freeze.Describe()})."));
            }
        }

        foreach (var ci in change.Cis)
        {
            var maintenance = windows.Where(w => w.Kind == ChangeWindowKind.Maintenance && w.AppliesTo(ci, null)).ToArray();
            if (maintenance.Length > 0 && !maintenance.Any(w => w.Contains(change.Start, change.End)))
            {
                conflicts.Add(new ChangeConflict(ConflictRule.OutsideMaintenanceWindow, $"{ci} may only be changed inside its maintenance windows ({string.Join(", ", maintenance.Select(w => w.Name))}).", Ci: ci));
            }
        }

        return conflicts;
    }
}
