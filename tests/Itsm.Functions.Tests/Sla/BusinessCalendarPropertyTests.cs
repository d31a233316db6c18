using FsCheck;
using FsCheck.Fluent;
using Itsm.Functions.Sla;

namespace Itsm.Functions.Tests.Sla;

/// <summary>
/// Properties of the calendar arithmetic over the sample calendars, with instants from 2025-2028 that cluster
/// around daylight-saving changes, and durations up to 2000 business hours.
/// </summary>
public class BusinessCalendarPropertyTests
{
    private static readonly Config Quick = Config.QuickThrowOnFailure.WithMaxTest(250);

    private static readonly TimeSpan Tick = TimeSpan.FromTicks(1);

    private static readonly DateTimeOffset Epoch = Calendars.Utc(2025, 1, 1, 0);

    private static readonly Gen<BusinessCalendar> AnyCalendar = Gen.Elements(Calendars.All.ToArray());

    /// <summary>Whole seconds in 2025-2028, or within a day and a half of a daylight-saving change; sometimes with a fraction.</summary>
    private static readonly Gen<DateTimeOffset> AnyInstant =
        from instant in Gen.Frequency(
            (3, Gen.Choose(0, 4 * 366 * 86_400).Select(s => Epoch.AddSeconds(s))),
            (2, from change in Gen.Elements(Calendars.Transitions.ToArray())
                from seconds in Gen.Choose(-36 * 3600, 36 * 3600)
                select change.AddSeconds(seconds)))
        from ticks in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(0, 9_999_999)))
        select instant.AddTicks(ticks);

    /// <summary>Up to 2000 hours, mostly short, in whole seconds or minutes.</summary>
    private static readonly Gen<TimeSpan> AnyDuration = Gen.Frequency(
        (3, Gen.Choose(0, 48 * 60).Select(m => TimeSpan.FromMinutes(m))),
        (2, Gen.Choose(0, 2000 * 3600).Select(s => TimeSpan.FromSeconds(s))));

    [Fact]
    public void Business_time_between_a_start_and_the_start_plus_d_is_d()
    {
        var cases = from calendar in AnyCalendar from start in AnyInstant from duration in AnyDuration select (calendar, start, duration);

        Check.One(Quick, Prop.ForAll(cases.ToArbitrary(), c =>
            c.calendar.BusinessTimeBetween(c.start, c.calendar.AddBusinessTime(c.start, c.duration)) == c.duration));
    }

    [Fact]
    public void Adding_more_business_time_never_gives_an_earlier_instant()
    {
        var cases = from calendar in AnyCalendar from start in AnyInstant from a in AnyDuration from b in AnyDuration select (calendar, start, a, b);

        Check.One(Quick, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (shorter, longer) = c.a <= c.b ? (c.a, c.b) : (c.b, c.a);
            var early = c.calendar.AddBusinessTime(c.start, shorter);
            return early >= c.start && early <= c.calendar.AddBusinessTime(c.start, longer);
        }));
    }

    [Fact]
    public void Business_time_is_additive_over_a_split_point_and_at_most_the_wall_time()
    {
        var cases = from calendar in AnyCalendar from a in AnyInstant from b in AnyInstant from c in AnyInstant select (calendar, points: new[] { a, b, c }.Order().ToArray());

        Check.One(Quick, Prop.ForAll(cases.ToArbitrary(), x =>
        {
            var (a, b, c) = (x.points[0], x.points[1], x.points[2]);
            var whole = x.calendar.BusinessTimeBetween(a, c);
            return whole == x.calendar.BusinessTimeBetween(a, b) + x.calendar.BusinessTimeBetween(b, c)
                && whole >= TimeSpan.Zero && whole <= c - a
                && x.calendar.BusinessTimeBetween(c, a) == -whole;
        }));
    }

    [Fact]
    public void The_result_of_adding_lies_in_working_time_or_at_the_end_of_an_interval()
    {
        // The tick before the result is working time, and the duration is not reached one tick earlier.
        var cases = from calendar in AnyCalendar from start in AnyInstant from duration in AnyDuration where duration > TimeSpan.Zero select (calendar, start, duration);

        Check.One(Quick, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var due = c.calendar.AddBusinessTime(c.start, c.duration);
            return c.calendar.BusinessTimeBetween(due - Tick, due) == Tick
                && c.calendar.BusinessTimeBetween(c.start, due - Tick) == c.duration - Tick;
        }));
    }

    [Fact]
    public void An_always_on_calendar_counts_wall_time_in_every_zone()
    {
        var zones = new[] { "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "Etc/UTC" };
        var cases = from zone in Gen.Elements(zones) from start in AnyInstant from duration in AnyDuration select (calendar: BusinessCalendar.AlwaysOn(zone), start, duration);

        Check.One(Quick, Prop.ForAll(cases.ToArbitrary(), c =>
            c.calendar.AddBusinessTime(c.start, c.duration) == c.start + c.duration
            && c.calendar.BusinessTimeBetween(c.start, c.start + c.duration) == c.duration));
    }

    [Fact]
    public void Week_skipping_agrees_with_counting_day_by_day()
    {
        // Sum of one-day spans equals the span over many weeks (which skips whole weeks).
        var cases = from calendar in AnyCalendar from start in AnyInstant from days in Gen.Choose(1, 120) select (calendar, start, days);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(60), Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var daily = Enumerable.Range(0, c.days)
                .Aggregate(TimeSpan.Zero, (sum, d) => sum + c.calendar.BusinessTimeBetween(c.start.AddDays(d), c.start.AddDays(d + 1)));
            return daily == c.calendar.BusinessTimeBetween(c.start, c.start.AddDays(c.days));
        }));
    }
}
