using Itsm.Functions.Hosting;

namespace Itsm.Functions.Tests.Hosting;

public class NCrontabScheduleTests
{
    private static readonly DateTimeOffset Monday0800 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 */5 * * * *", "2026-03-02T08:05:00Z")]
    [InlineData("0 30 3 * * *", "2026-03-03T03:30:00Z")]
    [InlineData("*/15 * * * * *", "2026-03-02T08:00:15Z")]
    [InlineData("0 0 9 * * MON-FRI", "2026-03-02T09:00:00Z")]
    [InlineData("0 0 9 * * SAT", "2026-03-07T09:00:00Z")]
    [InlineData("0 0 0 1 JAN *", "2027-01-01T00:00:00Z")]
    [InlineData("0 0 12 29 2 *", "2028-02-29T12:00:00Z")]
    [InlineData("0 0 8,20 * * 0", "2026-03-08T08:00:00Z")]
    [InlineData("0 0 8 * * 7", "2026-03-08T08:00:00Z")]
    [InlineData("0 10-20/5 8 * * *", "2026-03-02T08:10:00Z")]
    public void Next_occurrence_is_the_first_matching_second_after_the_instant(string expression, string expected)
    {
        var next = NCrontabSchedule.Parse(expression).GetNextOccurrence(Monday0800);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), next);
    }

    [Fact]
    public void An_instant_exactly_on_an_occurrence_yields_the_following_one()
    {
        var schedule = NCrontabSchedule.Parse("0 0 * * * *");

        Assert.Equal(Monday0800.AddHours(1), schedule.GetNextOccurrence(Monday0800));
    }

    [Fact]
    public void A_schedule_that_never_occurs_has_no_next_occurrence()
    {
        Assert.Null(NCrontabSchedule.Parse("0 0 0 31 2 *").GetNextOccurrence(Monday0800));
    }

    [Theory]
    [InlineData("* * * * *", "six fields")]
    [InlineData("60 * * * * *", "second field")]
    [InlineData("0 0 24 * * *", "hour field")]
    [InlineData("0 0 0 0 * *", "day field")]
    [InlineData("0 0 0 * FOO *", "month field")]
    [InlineData("0 */0 * * * *", "step")]
    [InlineData("0 5-1 * * * *", "outside")]
    public void Invalid_expressions_are_rejected_naming_the_field(string expression, string reason)
    {
        Assert.False(NCrontabSchedule.TryParse(expression, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
