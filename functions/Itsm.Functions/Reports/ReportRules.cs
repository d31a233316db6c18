using System.Globalization;
using Itsm.Functions.Sla;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Reports;

/// <summary>The dimensions a report can be broken down by; every ticket counts once in "all" and once under its value of each.</summary>
public static class ReportDimensions
{
    public const string All = "all";
    public const string Type = "type";
    public const string Priority = "priority";
    public const string Group = "group";
    public const string Service = "service";
    public const string Category = "category";

    /// <summary>The value of a ticket with none (no group, no service, no category).</summary>
    public const string None = "(none)";

    public static readonly IReadOnlyList<string> Breakdowns = [Type, Priority, Group, Service, Category];

    public static IReadOnlyDictionary<string, string> Of(Ticket ticket) => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        [All] = All,
        [Type] = ticket.Type.ToString(),
        [Priority] = PriorityValue(ticket.Priority),
        [Group] = Value(ticket.AssignmentGroup),
        [Service] = Value(ticket.AffectedService),
        [Category] = Value(ticket.Category),
    };

    /// <summary>A dimension's value for something that is not a ticket but carries its fields (a survey).</summary>
    public static string Of(string dimension, TicketType type, int? priority, string? group, string? service, string? category) => dimension switch
    {
        Type => type.ToString(),
        Priority => priority is { } p ? PriorityValue(p) : None,
        Group => Value(group),
        Service => Value(service),
        Category => Value(category),
        _ => All,
    };

    private static string PriorityValue(int priority) => "P" + priority.ToString(CultureInfo.InvariantCulture);

    private static string Value(string? text) => string.IsNullOrWhiteSpace(text) ? None : text.Trim();
}

/// <summary>The counters kept per tenant, day and dimension value. Durations are whole seconds, so sums stay exact.</summary>
public static class Measures
{
    public const string Created = "created";
    public const string Responded = "responded";
    public const string ResponseSeconds = "responseSeconds";
    public const string RespondedBusiness = "respondedBusiness";
    public const string ResponseBusinessSeconds = "responseBusinessSeconds";
    public const string Resolved = "resolved";
    public const string ResolutionSeconds = "resolutionSeconds";
    public const string ResolvedBusiness = "resolvedBusiness";
    public const string ResolutionBusinessSeconds = "resolutionBusinessSeconds";
    public const string ReopenedResolved = "reopenedResolved";
    public const string FirstContact = "firstContact";
    public const string SlaResponseMeasured = "slaResponseMeasured";
    public const string SlaResponseMet = "slaResponseMet";
    public const string SlaResolutionMeasured = "slaResolutionMeasured";
    public const string SlaResolutionMet = "slaResolutionMet";
    public const string LeftBacklog = "leftBacklog";
    public const string ChangesCreated = "changesCreated";
    public const string EmergencyChanges = "emergencyChanges";
    public const string ChangesReviewed = "changesReviewed";
    public const string ChangesSuccessful = "changesSuccessful";
    public const string Approvals = "approvals";
    public const string ApprovalSeconds = "approvalSeconds";
}

/// <summary>One counter a ticket adds to: in day <see cref="Bucket"/> (yyyy-MM-dd, UTC) or, for the open backlog, the bucket "open" with the creation day as the measure.</summary>
public sealed record Contribution(string Bucket, string Measure, long Amount);

/// <summary>What one ticket adds to the tenant's counters, and under which dimension values.</summary>
public sealed record TicketFacts(IReadOnlyDictionary<string, string> Dimensions, IReadOnlyList<Contribution> Contributions);

/// <summary>
/// The measure rules, pure: what a ticket, as it is now, adds to the daily counters. Every counter is derived from the
/// current ticket (its timestamps, SLA clocks and <see cref="ReportMarks"/>), so the counters of a tenant are the sum
/// of its tickets' facts whatever order the writes were counted in, and a rebuild from the tickets gives the same sums.
/// </summary>
public static class ReportRules
{
    public const string OpenBucket = "open";

    /// <summary>Review outcomes that count as a successful change.</summary>
    public static readonly IReadOnlyList<string> SuccessfulOutcomes = ["Successful", "SuccessfulWithIssues"];

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>When the ticket left the backlog for good (resolved, closed or cancelled), or null while it is open.</summary>
    public static DateTimeOffset? LeftBacklogAt(Ticket ticket) =>
        ticket.IsOpen ? null : ticket.State == TicketState.Resolved ? ticket.Resolution?.ResolvedAt ?? ticket.UpdatedAt : ticket.ClosedAt ?? ticket.Resolution?.ResolvedAt ?? ticket.UpdatedAt;

    /// <summary>When the ticket was resolved (incidents and requests that are resolved or closed, not cancelled), else null.</summary>
    public static DateTimeOffset? ResolvedAt(Ticket ticket) =>
        ticket.State is TicketState.Resolved or TicketState.Closed ? ticket.Resolution?.ResolvedAt ?? ticket.ClosedAt : null;

    /// <param name="calendar">The business calendar of one of the ticket's SLA clocks (null when it cannot be found).</param>
    public static TicketFacts Facts(Ticket ticket, Func<TicketSla, BusinessCalendar?> calendar)
    {
        var c = new List<Contribution>();
        void Add(DateTimeOffset at, string measure, long amount)
        {
            if (amount != 0)
            {
                c.Add(new Contribution(Day(at), measure, amount));
            }
        }

        var created = ticket.CreatedAt;
        Add(created, Measures.Created, 1);
        if (LeftBacklogAt(ticket) is { } left)
        {
            Add(left, Measures.LeftBacklog, 1);
        }
        else
        {
            c.Add(new Contribution(OpenBucket, Day(created), 1));
        }

        var serviceTicket = ticket.Type is TicketType.Incident or TicketType.ServiceRequest;
        if (serviceTicket && ticket.FirstRespondedAt is { } responded && responded >= created)
        {
            Add(responded, Measures.Responded, 1);
            Add(responded, Measures.ResponseSeconds, Seconds(responded - created));
            if (Clock(ticket, SlaMetric.Response) is { } clock && calendar(clock) is { } hours)
            {
                Add(responded, Measures.RespondedBusiness, 1);
                Add(responded, Measures.ResponseBusinessSeconds, Seconds(hours.BusinessTimeBetween(created, responded)));
            }
        }

        if (serviceTicket && ResolvedAt(ticket) is { } resolved && resolved >= created)
        {
            var marks = ticket.Marks ?? new ReportMarks();
            Add(resolved, Measures.Resolved, 1);
            Add(resolved, Measures.ResolutionSeconds, Seconds(resolved - created));
            Add(resolved, Measures.ReopenedResolved, marks.Reopens > 0 ? 1 : 0);
            Add(resolved, Measures.FirstContact, marks.Reopens == 0 && marks.GroupChanges == 0 ? 1 : 0);
            if (Clock(ticket, SlaMetric.Resolution) is { } clock && calendar(clock) is { } hours)
            {
                Add(resolved, Measures.ResolvedBusiness, 1);
                Add(resolved, Measures.ResolutionBusinessSeconds, Seconds(hours.BusinessTimeBetween(created, resolved)));
            }
        }

        foreach (var (metric, measured, met) in new[] { (SlaMetric.Response, Measures.SlaResponseMeasured, Measures.SlaResponseMet), (SlaMetric.Resolution, Measures.SlaResolutionMeasured, Measures.SlaResolutionMet) })
        {
            if (Clock(ticket, metric) is { IsStopped: true, StoppedAt: { } stopped } clock)
            {
                Add(stopped, measured, 1);
                Add(stopped, met, clock.State == SlaClockState.Met ? 1 : 0);
            }
        }

        if (ticket.Type == TicketType.Change)
        {
            Add(created, Measures.ChangesCreated, 1);
            Add(created, Measures.EmergencyChanges, ticket.Change?.ChangeType == ChangeType.Emergency ? 1 : 0);
            if (ticket.State == TicketState.Closed && ticket.Change?.ReviewOutcome is { } outcome && ticket.ClosedAt is { } closed)
            {
                Add(closed, Measures.ChangesReviewed, 1);
                Add(closed, Measures.ChangesSuccessful, SuccessfulOutcomes.Contains(outcome) ? 1 : 0);
            }
        }

        if (ticket.Marks is { ApprovalRequestedAt: { } asked, ApprovalDecidedAt: { } decided } && decided >= asked)
        {
            Add(decided, Measures.Approvals, 1);
            Add(decided, Measures.ApprovalSeconds, Seconds(decided - asked));
        }

        return new TicketFacts(ReportDimensions.Of(ticket), c);
    }

    /// <summary>
    /// The counters of a ticket's facts in every slice it belongs to: key (dimension, value, bucket), then measure.
    /// </summary>
    public static Dictionary<SliceKey, Dictionary<string, long>> Expand(TicketFacts? facts)
    {
        var result = new Dictionary<SliceKey, Dictionary<string, long>>();
        if (facts is null)
        {
            return result;
        }

        foreach (var (dimension, value) in facts.Dimensions)
        {
            foreach (var contribution in facts.Contributions)
            {
                // A day's counters also go to its month's roll-up, so a long range reads months, not days.
                var isDay = contribution.Bucket.Length == 10;
                foreach (var bucket in isDay ? [contribution.Bucket, contribution.Bucket[..7]] : new[] { contribution.Bucket })
                {
                    var key = new SliceKey(dimension, value, bucket);
                    if (!result.TryGetValue(key, out var measures))
                    {
                        result[key] = measures = new Dictionary<string, long>(StringComparer.Ordinal);
                    }

                    measures[contribution.Measure] = measures.GetValueOrDefault(contribution.Measure) + contribution.Amount;
                }
            }
        }

        return result;
    }

    /// <summary>What changes when a ticket's facts go from <paramref name="before"/> to <paramref name="after"/>: per slice, the measures that move.</summary>
    public static Dictionary<SliceKey, Dictionary<string, long>> Delta(TicketFacts? before, TicketFacts? after)
    {
        var delta = Expand(after);
        foreach (var (key, measures) in Expand(before))
        {
            if (!delta.TryGetValue(key, out var target))
            {
                delta[key] = target = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            foreach (var (measure, amount) in measures)
            {
                target[measure] = target.GetValueOrDefault(measure) - amount;
            }
        }

        foreach (var key in delta.Keys.ToList())
        {
            foreach (var measure in delta[key].Where(m => m.Value == 0).Select(m => m.Key).ToList())
            {
                delta[key].Remove(measure);
            }

            if (delta[key].Count == 0)
            {
                delta.Remove(key);
            }
        }

        return delta;
    }

    private static TicketSla? Clock(Ticket ticket, SlaMetric metric) => ticket.Sla.FirstOrDefault(s => s.Metric == metric);

    private static long Seconds(TimeSpan span) => (long)Math.Max(0, Math.Round(span.TotalSeconds));
}

/// <summary>A slice of the counters: one dimension value in one bucket (a day yyyy-MM-dd, a month yyyy-MM, or "open").</summary>
public sealed record SliceKey(string Dimension, string Value, string Bucket)
{
    /// <summary>
    /// The sortable text queries range over: dimension, bucket, value. Months have their own prefix
    /// (<c>group/m|2026-03|Network</c>), so a range of days never reads a month and a range of months never a day.
    /// </summary>
    public string Slice => Bucket.Length == 7 ? $"{MonthPrefix(Dimension)}|{Bucket}|{Value}" : $"{Dimension}|{Bucket}|{Value}";

    public static string MonthPrefix(string dimension) => dimension + "/m";
}
