using Itsm.Functions.Approvals;
using Itsm.Functions.Changes;

namespace Itsm.Functions.Tests.Changes;

public class ChangeRulesTests
{
    private static readonly DateTimeOffset Monday = new(2026, 3, 9, 20, 0, 0, TimeSpan.Zero);

    private static ScheduledChange Change(string number, int startHour, int hours, string[] cis, string? assignee = null, string? service = null) =>
        new(number, number, "t", "Authorize", "Normal", Monday.AddHours(startHour), Monday.AddHours(startHour + hours), cis, service, "ops", assignee);

    private static readonly Dictionary<string, IReadOnlySet<string>> NoRelations = [];

    [Fact]
    public void An_overlapping_change_on_the_same_CI_conflicts_and_one_that_only_touches_the_end_does_not()
    {
        var subject = Change("CHG1", 0, 2, ["app-01"]);
        var conflicts = ChangeRules.Detect(subject, [Change("CHG2", 1, 2, ["app-01"]), Change("CHG3", 2, 2, ["app-01"]), Change("CHG4", 0, 2, ["other"])], [], NoRelations);
        var conflict = Assert.Single(conflicts);
        Assert.Equal((ConflictRule.SameCi, "CHG2", "app-01"), (conflict.Rule, conflict.OtherChange, conflict.Ci));
    }

    [Fact]
    public void A_change_on_a_CI_related_through_the_CMDB_conflicts()
    {
        var related = new Dictionary<string, IReadOnlySet<string>> { ["app-01"] = new HashSet<string> { "app-01", "db-01" } };
        var conflict = Assert.Single(ChangeRules.Detect(Change("CHG1", 0, 2, ["app-01"]), [Change("CHG2", 1, 1, ["db-01"])], [], related));
        Assert.Equal((ConflictRule.RelatedCi, "db-01"), (conflict.Rule, conflict.Ci));
    }

    [Fact]
    public void Freeze_windows_apply_globally_or_to_their_CIs_and_services_only()
    {
        var subject = Change("CHG1", 0, 2, ["app-01"], service: "payroll");
        ChangeWindow Freeze(string[]? cis = null, string[]? services = null, int from = -1) => new("Quarter close", ChangeWindowKind.Freeze, Monday.AddHours(from), Monday.AddHours(from + 3), cis, services);

        Assert.Equal(ConflictRule.FreezeWindow, Assert.Single(ChangeRules.Detect(subject, [], [Freeze()], NoRelations)).Rule);
        Assert.Single(ChangeRules.Detect(subject, [], [Freeze(cis: ["app-01"])], NoRelations));
        Assert.Single(ChangeRules.Detect(subject, [], [Freeze(services: ["payroll"])], NoRelations));
        Assert.Empty(ChangeRules.Detect(subject, [], [Freeze(cis: ["db-01"])], NoRelations));
        Assert.Empty(ChangeRules.Detect(subject, [], [Freeze(from: 2)], NoRelations));
    }

    [Fact]
    public void A_CI_with_maintenance_windows_may_only_change_inside_one()
    {
        var window = new ChangeWindow("Monday night", ChangeWindowKind.Maintenance, Monday, Monday.AddHours(4), ["app-01"]);
        Assert.Empty(ChangeRules.Detect(Change("CHG1", 1, 2, ["app-01"]), [], [window], NoRelations));
        var outside = Assert.Single(ChangeRules.Detect(Change("CHG1", 3, 2, ["app-01"]), [], [window], NoRelations));
        Assert.Equal((ConflictRule.OutsideMaintenanceWindow, "app-01"), (outside.Rule, outside.Ci));
        Assert.Empty(ChangeRules.Detect(Change("CHG1", 30, 2, ["db-01"]), [], [window], NoRelations));
    }

    private static readonly WindowRecurrence SundayNights = new("Europe/Berlin", new Dictionary<string, IReadOnlyList<string>> { ["sunday"] = ["22:00-24:00"], ["monday"] = ["00:00-04:00"] });

    private static ScheduledChange At(DateTimeOffset start, TimeSpan length) =>
        new("CHG1", "CHG1", "t", "Authorize", "Normal", start, start + length, ["app-01"], null, "ops", null);

    [Fact]
    public void A_weekly_maintenance_window_admits_a_change_inside_any_occurrence_across_midnight_and_refuses_one_outside()
    {
        // Sunday 22:00 to Monday 04:00 in Berlin, every week of 2026.
        var window = new ChangeWindow("Sunday night", ChangeWindowKind.Maintenance, new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), ["app-01"], Recurrence: SundayNights);
        var sunday = new DateTimeOffset(2026, 2, 15, 23, 0, 0, TimeSpan.FromHours(1)); // 23:00 CET

        Assert.Empty(ChangeRules.Detect(At(sunday, TimeSpan.FromHours(3)), [], [window], NoRelations)); // 23:00-02:00 across midnight
        Assert.Empty(ChangeRules.Detect(At(sunday.AddDays(28), TimeSpan.FromHours(4)), [], [window], NoRelations)); // a later week, to 03:00
        Assert.Single(ChangeRules.Detect(At(sunday, TimeSpan.FromHours(6)), [], [window], NoRelations)); // runs to 05:00
        Assert.Single(ChangeRules.Detect(At(sunday.AddDays(2), TimeSpan.FromHours(1)), [], [window], NoRelations)); // a Tuesday
        Assert.Single(ChangeRules.Detect(At(sunday.AddYears(1), TimeSpan.FromHours(1)), [], [window], NoRelations)); // after the series ends
    }

    [Fact]
    public void A_weekly_window_follows_local_time_across_the_daylight_saving_change()
    {
        var window = new ChangeWindow("Sunday night", ChangeWindowKind.Maintenance, new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), ["app-01"], Recurrence: SundayNights);

        // Summer time from 29 March 2026: Sunday 22:00 in Berlin is 20:00 UTC, no longer 21:00 UTC.
        var summer = new DateTimeOffset(2026, 4, 5, 20, 0, 0, TimeSpan.Zero);
        Assert.Empty(ChangeRules.Detect(At(summer, TimeSpan.FromHours(1)), [], [window], NoRelations));
        Assert.Single(ChangeRules.Detect(At(summer.AddHours(-1), TimeSpan.FromHours(1)), [], [window], NoRelations));
    }

    [Fact]
    public void A_weekly_freeze_window_conflicts_only_with_changes_touching_an_occurrence()
    {
        var businessHours = new WindowRecurrence("Europe/Berlin", new Dictionary<string, IReadOnlyList<string>> { ["monday"] = ["08:00-18:00"], ["friday"] = ["08:00-18:00"] });
        var freeze = new ChangeWindow("Trading hours", ChangeWindowKind.Freeze, new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), Recurrence: businessHours);
        var mondayEvening = new DateTimeOffset(2026, 3, 9, 18, 0, 0, TimeSpan.FromHours(1));

        Assert.Empty(ChangeRules.Detect(At(mondayEvening, TimeSpan.FromHours(2)), [], [freeze], NoRelations)); // starts as the freeze ends
        var conflict = Assert.Single(ChangeRules.Detect(At(mondayEvening.AddMinutes(-1), TimeSpan.FromHours(2)), [], [freeze], NoRelations));
        Assert.Contains("weekly", conflict.Detail, StringComparison.Ordinal);
        Assert.Empty(ChangeRules.Detect(At(mondayEvening.AddDays(1).AddHours(-8), TimeSpan.FromHours(4)), [], [freeze], NoRelations)); // Tuesday 10:00
    }

    [Fact]
    public void An_assignee_on_two_overlapping_changes_is_double_booked()
    {
        var conflict = Assert.Single(ChangeRules.Detect(Change("CHG1", 0, 2, ["a"], "sam"), [Change("CHG2", 1, 2, ["b"], "sam"), Change("CHG3", 1, 2, ["c"], "kim")], [], NoRelations));
        Assert.Equal((ConflictRule.AssigneeDoubleBooked, "CHG2"), (conflict.Rule, conflict.OtherChange));
    }

    [Theory]
    [InlineData(false, true, true, false, 1, 0, 0.0, 0, RiskLevel.Low)]
    [InlineData(true, false, false, true, 1, 0, 0.0, 6, RiskLevel.Medium)]
    [InlineData(false, true, true, false, 5, 3, 0.0, 7, RiskLevel.Medium)]
    [InlineData(true, false, false, true, 5, 9, 1.0, 20, RiskLevel.High)]
    [InlineData(false, true, true, false, 3, 0, 0.5, 5, RiskLevel.Medium)]
    public void Risk_adds_the_questionnaire_criticality_affected_services_and_recent_failures(
        bool outage, bool tested, bool backoutTested, bool complex, int criticality, int services, double failureRate, int score, RiskLevel level)
    {
        var risk = ChangeRules.Score(new RiskQuestionnaire(outage, tested, backoutTested, complex), criticality, services, failureRate);
        Assert.Equal((score, level), (risk.Score, risk.Level));
    }
}
