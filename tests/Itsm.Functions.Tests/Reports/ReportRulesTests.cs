using System.Xml.Linq;
using Itsm.Functions.Reports;
using Itsm.Functions.Sla;
using Itsm.Functions.Tests.Support;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Tests.Reports;

/// <summary>The measure rules, pure: tickets moved by hand along a fake clock, their facts and the counters they make.</summary>
public class ReportRulesTests
{
    private static readonly DateTimeOffset Monday8 = TicketBuilder.Created; // Monday 2 March 2026, 08:00 UTC

    /// <summary>Monday to Friday, 09:00-17:00 UTC.</summary>
    private static readonly BusinessCalendar Office = BusinessCalendar.Weekly("Etc/UTC", BusinessCalendar.MondayToFriday, WorkingInterval.Parse("09:00-17:00"));

    private static TicketSla Clock(SlaMetric metric, SlaClockState state, DateTimeOffset? stoppedAt) => new()
    {
        Key = TicketSla.KeyFor(metric, null),
        Metric = metric,
        PolicyId = "standard",
        PolicyVersion = 1,
        CalendarId = "office",
        CalendarVersion = 1,
        State = state,
        StartedAt = Monday8,
        Since = Monday8,
        Target = TimeSpan.FromHours(8),
        StoppedAt = stoppedAt,
    };

    /// <summary>Writes a ticket as the store does: the marks rule runs on each version.</summary>
    private static Ticket Write(Ticket ticket) => ticket with { Marks = ReportMarks.Next(ticket.Marks, ticket) };

    private static Dictionary<string, long> Sums(TicketFacts facts, string dimension = ReportDimensions.All) =>
        ReportRules.Expand(facts).Where(e => e.Key.Dimension == dimension && e.Key.Bucket.Length == 10)
            .SelectMany(e => e.Value).GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Sum(m => m.Value));

    private static TicketFacts Facts(Ticket ticket) => ReportRules.Facts(ticket, _ => Office);

    [Fact]
    public void Mtta_and_mttr_count_wall_clock_and_the_business_hours_of_the_sla_calendar()
    {
        var clock = new FakeTimeProvider(Monday8);
        var ticket = Write(new TicketBuilder().Build());
        clock.Advance(TimeSpan.FromHours(2)); // 10:00: one business hour after 09:00
        ticket = Write(ticket with { State = TicketState.InProgress, FirstRespondedAt = clock.GetUtcNow(), UpdatedAt = clock.GetUtcNow() });
        clock.Advance(TimeSpan.FromHours(24)); // Tuesday 10:00: 8 h on Monday from 09:00 + 1 h on Tuesday
        var now = clock.GetUtcNow();
        ticket = Write(ticket with
        {
            State = TicketState.Resolved,
            Resolution = new Resolution("fixed", "Replaced the cable", now, "bob"),
            UpdatedAt = now,
            Sla = [Clock(SlaMetric.Response, SlaClockState.Met, Monday8.AddHours(2)), Clock(SlaMetric.Resolution, SlaClockState.Breached, now)],
        });

        var sums = Sums(Facts(ticket));

        Assert.Equal(2 * 3600, sums[Measures.ResponseSeconds]);
        Assert.Equal(1 * 3600, sums[Measures.ResponseBusinessSeconds]);
        Assert.Equal(26 * 3600, sums[Measures.ResolutionSeconds]);
        Assert.Equal(9 * 3600, sums[Measures.ResolutionBusinessSeconds]);
        Assert.Equal((1, 1), (sums[Measures.SlaResponseMeasured], sums[Measures.SlaResponseMet]));
        Assert.Equal(1, sums[Measures.SlaResolutionMeasured]);
        Assert.False(sums.ContainsKey(Measures.SlaResolutionMet));
        Assert.Equal(1, sums[Measures.FirstContact]);
        Assert.Equal(1, sums[Measures.LeftBacklog]);

        // Each measure falls on the day it happened: responded Monday, resolved Tuesday.
        var days = ReportRules.Expand(Facts(ticket)).Where(e => e.Key.Dimension == ReportDimensions.All).ToDictionary(e => e.Key.Bucket, e => e.Value);
        Assert.Equal(1, days["2026-03-02"][Measures.Responded]);
        Assert.Equal(1, days["2026-03-03"][Measures.Resolved]);

        // And each day's counters also roll up into the month's.
        Assert.Equal(1, days["2026-03"][Measures.Resolved]);
        Assert.Equal("all/m|2026-03|all", new SliceKey(ReportDimensions.All, ReportDimensions.All, "2026-03").Slice);
    }

    [Fact]
    public void A_ticket_without_an_sla_clock_counts_in_wall_clock_means_only()
    {
        var ticket = Write(new TicketBuilder().With(t => t with { State = TicketState.InProgress, FirstRespondedAt = Monday8.AddMinutes(30), UpdatedAt = Monday8.AddMinutes(30) }).Build());

        var sums = Sums(Facts(ticket));

        Assert.Equal(1800, sums[Measures.ResponseSeconds]);
        Assert.False(sums.ContainsKey(Measures.RespondedBusiness));
    }

    [Fact]
    public void A_reopened_ticket_counts_as_reopened_and_not_as_first_contact_when_resolved_again()
    {
        var clock = new FakeTimeProvider(Monday8);
        var ticket = Write(new TicketBuilder().Build());
        Ticket Resolve(Ticket t)
        {
            clock.Advance(TimeSpan.FromHours(1));
            return Write(t with { State = TicketState.Resolved, Resolution = new Resolution("fixed", "n", clock.GetUtcNow(), "bob"), UpdatedAt = clock.GetUtcNow() });
        }

        ticket = Resolve(ticket);
        Assert.Equal(1, Sums(Facts(ticket))[Measures.FirstContact]);

        clock.Advance(TimeSpan.FromHours(1));
        ticket = Write(ticket with { State = TicketState.InProgress, Resolution = null, UpdatedAt = clock.GetUtcNow() });
        var reopened = Facts(ticket);
        Assert.False(Sums(reopened).ContainsKey(Measures.Resolved));
        Assert.Contains(reopened.Contributions, c => c.Bucket == ReportRules.OpenBucket);

        ticket = Resolve(ticket);
        var sums = Sums(Facts(ticket));
        Assert.Equal(1, ticket.Marks!.Reopens);
        Assert.Equal(1, sums[Measures.ReopenedResolved]);
        Assert.False(sums.ContainsKey(Measures.FirstContact));
    }

    [Fact]
    public void A_move_to_another_group_is_not_first_contact_but_the_first_assignment_is()
    {
        var ticket = Write(new TicketBuilder().Build());
        ticket = Write(ticket with { AssignmentGroup = "Service Desk" });
        Assert.Equal(0, ticket.Marks!.GroupChanges);
        ticket = Write(ticket with { AssignmentGroup = "Network" });
        ticket = Write(ticket with { State = TicketState.Resolved, Resolution = new Resolution("fixed", "n", Monday8.AddHours(3), "bob"), UpdatedAt = Monday8.AddHours(3) });

        var sums = Sums(Facts(ticket));

        Assert.Equal(1, ticket.Marks!.GroupChanges);
        Assert.Equal(1, sums[Measures.Resolved]);
        Assert.False(sums.ContainsKey(Measures.FirstContact));
        Assert.Equal(1, Sums(Facts(ticket), ReportDimensions.Group)[Measures.Resolved]);
        Assert.Contains(ReportRules.Expand(Facts(ticket)).Keys, k => k is { Dimension: ReportDimensions.Group, Value: "Network" });
    }

    [Fact]
    public void Changes_count_emergency_share_on_the_day_raised_and_success_on_the_day_closed_with_a_review()
    {
        var emergency = Write(new TicketBuilder().OfType(TicketType.Change).With(t => t with { Change = new ChangeRecord(ChangeType.Emergency) }).Build());
        var closed = Write(new TicketBuilder().OfType(TicketType.Change).With(t => t with
        {
            State = TicketState.Closed,
            ClosedAt = Monday8.AddDays(2),
            Change = new ChangeRecord(ChangeType.Normal, ReviewOutcome: "Unsuccessful"),
        }).Build());

        var a = Sums(Facts(emergency));
        var b = Sums(Facts(closed));

        Assert.Equal((1, 1), (a[Measures.ChangesCreated], a[Measures.EmergencyChanges]));
        Assert.Equal(1, b[Measures.ChangesReviewed]);
        Assert.False(b.ContainsKey(Measures.ChangesSuccessful));
        Assert.False(b.ContainsKey(Measures.Resolved)); // MTTR is for incidents and requests
    }

    [Fact]
    public void Approval_turnaround_runs_from_entering_authorize_to_leaving_it()
    {
        var clock = new FakeTimeProvider(Monday8);
        var change = Write(new TicketBuilder().OfType(TicketType.Change).Build());
        clock.Advance(TimeSpan.FromHours(1));
        change = Write(change with { State = TicketState.Authorize, UpdatedAt = clock.GetUtcNow() });
        Assert.False(Sums(Facts(change)).ContainsKey(Measures.Approvals));
        clock.Advance(TimeSpan.FromHours(5));
        change = Write(change with { State = TicketState.Scheduled, UpdatedAt = clock.GetUtcNow() });

        var sums = Sums(Facts(change));

        Assert.Equal((1, 5 * 3600), (sums[Measures.Approvals], sums[Measures.ApprovalSeconds]));
    }

    [Fact]
    public void The_delta_of_resolving_takes_the_ticket_out_of_the_open_backlog_in_every_dimension()
    {
        var open = Write(new TicketBuilder().With(t => t with { AssignmentGroup = "Network" }).Build());
        var resolved = Write(open with { State = TicketState.Resolved, Resolution = new Resolution("fixed", "n", Monday8.AddHours(1), "bob"), UpdatedAt = Monday8.AddHours(1) });

        var delta = ReportRules.Delta(Facts(open), Facts(resolved));

        Assert.Equal(-1, delta[new SliceKey(ReportDimensions.Group, "Network", ReportRules.OpenBucket)]["2026-03-02"]);
        Assert.Equal(1, delta[new SliceKey(ReportDimensions.All, ReportDimensions.All, "2026-03-02")][Measures.LeftBacklog]);
        Assert.DoesNotContain(delta.Values, m => m.ContainsKey(Measures.Created));
        Assert.Empty(ReportRules.Delta(Facts(resolved), Facts(resolved)));
    }

    [Theory]
    [InlineData("2026-03-02", "2026-03-02", "age0to1d")]
    [InlineData("2026-03-01", "2026-03-02", "age1to3d")]
    [InlineData("2026-02-27", "2026-03-02", "age3to7d")]
    [InlineData("2026-02-23", "2026-03-02", "age7to30d")]
    [InlineData("2026-01-31", "2026-03-02", "ageOver30d")]
    public void Open_tickets_fall_in_age_buckets(string created, string today, string bucket) =>
        Assert.Equal(bucket, ReportCatalog.AgeBucket(DateOnly.Parse(created, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Weekly_periods_start_on_monday_but_never_before_the_range()
    {
        var query = new ReportQuery(new DateOnly(2026, 3, 4), new DateOnly(2026, 3, 17), null, "week");

        Assert.Equal([new DateOnly(2026, 3, 4), new DateOnly(2026, 3, 9), new DateOnly(2026, 3, 16)], query.Periods().ToArray());
    }

    private static ReportResult Sample(string group) => new(
        "mttr", "Mean time to resolve", "hours", "incidents", "2026-03-01", "2026-03-31", "group", "day", "group",
        [new("resolved", "Resolved (tickets)", false), new("mttrHours", "MTTR <wall> (hours)", true)],
        [new ReportRow(group, new Dictionary<string, double?> { ["resolved"] = 3, ["mttrHours"] = 4.5 }), new ReportRow("Network", new Dictionary<string, double?> { ["resolved"] = 1, ["mttrHours"] = null })],
        null, false, null);

    [Fact]
    public void A_chart_escapes_every_text_and_has_title_axes_units_and_legend()
    {
        var svg = ReportChart.Render(Sample("<script>alert('x')</script>&\u0001"));

        var document = XDocument.Parse(svg); // well-formed XML: nothing from the data broke out
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Empty(document.Descendants(ns + "script"));
        Assert.DoesNotContain("<script>", svg, StringComparison.Ordinal);
        var texts = document.Descendants(ns + "text").Select(t => t.Value).ToList();
        Assert.Contains("Mean time to resolve", texts);
        Assert.Contains("hours", texts);       // y axis unit
        Assert.Contains("Group", texts);       // x axis
        Assert.Contains("MTTR <wall> (hours)", texts); // legend, escaped in the markup
        Assert.Equal(2, document.Descendants(ns + "rect").Count(r => (string?)r.Attribute("class") == "bar"));
    }

    [Fact]
    public void Csv_has_one_line_per_row_and_neutralises_formulas_in_group_names()
    {
        var csv = ReportService.Csv(Sample("=HYPERLINK(\"x\")"));

        Assert.Equal(
            "group,resolved,mttrHours\n\"'=HYPERLINK(\"\"x\"\")\",3,4.5\nNetwork,1,\n",
            csv);
    }
}
