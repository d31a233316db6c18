using System.Globalization;

namespace Itsm.Functions.Reports;

/// <summary>A column of a report: its name (JSON and CSV), its label with unit (charts), and how it follows from summed counters.</summary>
public sealed record ReportColumn(string Name, string Label, Func<IReadOnlyDictionary<string, long>, double?> Value, bool Charted = false);

/// <summary>A report: what it measures, in which unit, which types of ticket it covers.</summary>
public sealed record ReportDefinition(string Name, string Title, string Unit, string Covers, IReadOnlyList<ReportColumn> Columns);

/// <summary>The reports <c>/api/reports/{name}</c> serves, computed from summed counters. Pure.</summary>
public static class ReportCatalog
{
    public const string Backlog = "backlog";
    public const string Satisfaction = "satisfaction";

    private static double? Ratio(IReadOnlyDictionary<string, long> v, string part, string whole, double scale) =>
        v.GetValueOrDefault(whole) is var w && w > 0 ? Math.Round(v.GetValueOrDefault(part) * scale / w, 2) : null;

    private static double? Count(IReadOnlyDictionary<string, long> v, string measure) => v.GetValueOrDefault(measure);

    public static readonly IReadOnlyList<ReportDefinition> All =
    [
        new("volume", "Tickets raised and finished", "tickets", "all ticket types", [
            new("created", "Raised (tickets)", v => Count(v, Measures.Created), Charted: true),
            new("finished", "Resolved, closed or cancelled (tickets)", v => Count(v, Measures.LeftBacklog), Charted: true),
        ]),
        new("mtta", "Mean time to acknowledge", "minutes", "incidents and service requests, by the day of the first response", [
            new("responded", "Responded (tickets)", v => Count(v, Measures.Responded)),
            new("mttaMinutes", "MTTA, wall clock (minutes)", v => Ratio(v, Measures.ResponseSeconds, Measures.Responded, 1 / 60d), Charted: true),
            new("mttaBusinessMinutes", "MTTA, business hours (minutes)", v => Ratio(v, Measures.ResponseBusinessSeconds, Measures.RespondedBusiness, 1 / 60d), Charted: true),
        ]),
        new("mttr", "Mean time to resolve", "hours", "incidents and service requests, by the day they were resolved", [
            new("resolved", "Resolved (tickets)", v => Count(v, Measures.Resolved)),
            new("mttrHours", "MTTR, wall clock (hours)", v => Ratio(v, Measures.ResolutionSeconds, Measures.Resolved, 1 / 3600d), Charted: true),
            new("mttrBusinessHours", "MTTR, business hours (hours)", v => Ratio(v, Measures.ResolutionBusinessSeconds, Measures.ResolvedBusiness, 1 / 3600d), Charted: true),
        ]),
        new("sla", "SLA attainment", "%", "tickets whose SLA clock stopped, by the day it stopped", [
            new("responseMeasured", "Response clocks stopped", v => Count(v, Measures.SlaResponseMeasured)),
            new("responseAttainment", "Response met (%)", v => Ratio(v, Measures.SlaResponseMet, Measures.SlaResponseMeasured, 100), Charted: true),
            new("resolutionMeasured", "Resolution clocks stopped", v => Count(v, Measures.SlaResolutionMeasured)),
            new("resolutionAttainment", "Resolution met (%)", v => Ratio(v, Measures.SlaResolutionMet, Measures.SlaResolutionMeasured, 100), Charted: true),
        ]),
        new(Backlog, "Backlog", "tickets", "all ticket types", []),
        new("reopen-rate", "Reopen rate", "%", "incidents and service requests resolved, by the day they were resolved", [
            new("resolved", "Resolved (tickets)", v => Count(v, Measures.Resolved)),
            new("reopened", "Of which reopened before (tickets)", v => Count(v, Measures.ReopenedResolved)),
            new("reopenRate", "Reopen rate (%)", v => Ratio(v, Measures.ReopenedResolved, Measures.Resolved, 100), Charted: true),
        ]),
        new("first-contact-resolution", "First contact resolution", "%", "incidents and service requests resolved without a reopen or a move to another group", [
            new("resolved", "Resolved (tickets)", v => Count(v, Measures.Resolved)),
            new("firstContact", "Resolved at first contact (tickets)", v => Count(v, Measures.FirstContact)),
            new("firstContactRate", "First contact resolution (%)", v => Ratio(v, Measures.FirstContact, Measures.Resolved, 100), Charted: true),
        ]),
        new("changes", "Change success and emergency changes", "%", "changes: raised (emergency share) and closed with a review outcome (success rate)", [
            new("raised", "Changes raised", v => Count(v, Measures.ChangesCreated)),
            new("emergencyShare", "Emergency changes (%)", v => Ratio(v, Measures.EmergencyChanges, Measures.ChangesCreated, 100), Charted: true),
            new("reviewed", "Changes closed with a review", v => Count(v, Measures.ChangesReviewed)),
            new("successRate", "Successful changes (%)", v => Ratio(v, Measures.ChangesSuccessful, Measures.ChangesReviewed, 100), Charted: true),
        ]),
        new("approval-turnaround", "Approval turnaround", "hours", "changes in Authorize and service requests awaiting approval, by the day the wait ended", [
            new("approvals", "Approvals decided", v => Count(v, Measures.Approvals)),
            new("turnaroundHours", "Mean turnaround (hours)", v => Ratio(v, Measures.ApprovalSeconds, Measures.Approvals, 1 / 3600d), Charted: true),
        ]),
        new(Satisfaction, "Satisfaction", "score", "answered satisfaction surveys, by the day they were answered (1-5)", []),
    ];

    /// <summary>The backlog's columns by group: open now, by age.</summary>
    public static readonly IReadOnlyList<(string Name, string Label, int MinDays, int MaxDays)> AgeBuckets =
    [
        ("age0to1d", "Open under 1 day", 0, 1),
        ("age1to3d", "Open 1-3 days", 1, 3),
        ("age3to7d", "Open 3-7 days", 3, 7),
        ("age7to30d", "Open 7-30 days", 7, 30),
        ("ageOver30d", "Open over 30 days", 30, int.MaxValue),
    ];

    public static ReportDefinition? Find(string name) => All.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));

    /// <summary>Which age bucket a ticket created on <paramref name="createdDay"/> is in on <paramref name="today"/>.</summary>
    public static string AgeBucket(DateOnly createdDay, DateOnly today)
    {
        var days = today.DayNumber - createdDay.DayNumber;
        return AgeBuckets.First(b => days < b.MaxDays).Name;
    }

    public static DateOnly ParseDay(string day) => DateOnly.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}
