using Itsm.Functions.Sla;
using static Itsm.Functions.Tests.Sla.Calendars;

namespace Itsm.Functions.Tests.Sla;

public class BusinessCalendarTests
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Theory]
    [InlineData("Europe/Berlin")]
    [InlineData("America/New_York")]
    [InlineData("Australia/Sydney")]
    [InlineData("Asia/Kolkata")]
    [InlineData("Etc/UTC")]
    public void Iana_zones_resolve_with_invariant_globalization(string zone)
    {
        Assert.True(AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant);
        Assert.True(TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _));
        Assert.Empty(BusinessCalendar.AlwaysOn(zone).Validate());
    }

    [Fact]
    public void Eight_business_hours_from_monday_ten_are_due_tuesday_ten_skipping_lunch()
    {
        var start = Berlin(2026, 3, 2, 10);

        Assert.Equal(Berlin(2026, 3, 3, 10), BerlinOffice.AddBusinessTime(start, 8 * Hour));
        Assert.Equal(8 * Hour, BerlinOffice.BusinessTimeBetween(start, Berlin(2026, 3, 3, 10)));
    }

    [Fact]
    public void Work_ending_at_the_close_of_friday_is_due_friday_at_five_not_monday()
    {
        Assert.Equal(Berlin(2026, 3, 6, 17), BerlinOffice.AddBusinessTime(Berlin(2026, 3, 6, 13), 4 * Hour));
        Assert.Equal(Berlin(2026, 3, 9, 8, 1), BerlinOffice.AddBusinessTime(Berlin(2026, 3, 6, 13), (4 * Hour) + TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void A_start_outside_working_hours_begins_at_the_next_opening()
    {
        Assert.Equal(Berlin(2026, 3, 9, 9), BerlinOffice.AddBusinessTime(Berlin(2026, 3, 7, 11), Hour));
        Assert.Equal(Berlin(2026, 3, 2, 14), BerlinOffice.AddBusinessTime(Berlin(2026, 3, 2, 12, 30), Hour));
        Assert.Equal(TimeSpan.Zero, BerlinOffice.BusinessTimeBetween(Berlin(2026, 3, 7, 0), Berlin(2026, 3, 9, 8)));
    }

    [Fact]
    public void Zero_business_time_is_the_start_and_a_reversed_span_is_negative()
    {
        var saturday = Berlin(2026, 3, 7, 11);

        Assert.Equal(saturday, BerlinOffice.AddBusinessTime(saturday, TimeSpan.Zero));
        Assert.Equal(-8 * Hour, BerlinOffice.BusinessTimeBetween(Berlin(2026, 3, 3, 10), Berlin(2026, 3, 2, 10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => BerlinOffice.AddBusinessTime(saturday, -Hour));
    }

    [Fact]
    public void A_long_duration_skips_whole_weeks_and_lands_on_the_exact_hour()
    {
        // 2000 hours = 50 weeks of 40 hours, across both daylight-saving changes of 2026.
        var start = Berlin(2026, 1, 5, 8);

        var due = BerlinOffice.AddBusinessTime(start, 2000 * Hour);

        Assert.Equal(Berlin(2026, 12, 18, 17), due);
        Assert.Equal(2000 * Hour, BerlinOffice.BusinessTimeBetween(start, due));
    }

    [Fact]
    public void Always_on_counts_every_hour_over_ten_years_in_any_zone()
    {
        var from = Utc(2026, 1, 1, 0);
        var to = Utc(2036, 1, 1, 0);

        Assert.Equal(to - from, BerlinAlwaysOn.BusinessTimeBetween(from, to));
        Assert.Equal(to, BusinessCalendar.AlwaysOn("America/New_York").AddBusinessTime(from, to - from));
    }

    // Daylight saving. Berlin: 2026-03-29 02:00 -> 03:00 (01:00 UTC), 2026-10-25 03:00 -> 02:00 (01:00 UTC).
    // New York: 2026-03-08 02:00 -> 03:00 (07:00 UTC), 2026-11-01 02:00 -> 01:00 (06:00 UTC).
    [Fact]
    public void Berlin_spring_forward_day_has_23_hours_always_on_and_9_in_an_8_to_17_day()
    {
        var calendar = BusinessCalendar.Weekly("Europe/Berlin", Enum.GetValues<DayOfWeek>(), WorkingInterval.Parse("08:00-17:00"));
        var (midnight, nextMidnight) = (Berlin(2026, 3, 29, 0), Berlin(2026, 3, 30, 0));

        Assert.Equal(23 * Hour, BerlinAlwaysOn.BusinessTimeBetween(midnight, nextMidnight));
        Assert.Equal(9 * Hour, calendar.BusinessTimeBetween(midnight, nextMidnight));
        Assert.Equal(Berlin(2026, 3, 29, 17), calendar.AddBusinessTime(midnight, 9 * Hour));
    }

    [Fact]
    public void Berlin_fall_back_day_has_25_hours_always_on_and_9_in_an_8_to_17_day()
    {
        var calendar = BusinessCalendar.Weekly("Europe/Berlin", Enum.GetValues<DayOfWeek>(), WorkingInterval.Parse("08:00-17:00"));
        var (midnight, nextMidnight) = (Berlin(2026, 10, 25, 0), Berlin(2026, 10, 26, 0));

        Assert.Equal(25 * Hour, BerlinAlwaysOn.BusinessTimeBetween(midnight, nextMidnight));
        Assert.Equal(9 * Hour, calendar.BusinessTimeBetween(midnight, nextMidnight));
    }

    [Fact]
    public void A_night_shift_spanning_spring_forward_loses_the_skipped_hour()
    {
        // 00:00-06:00 on 2026-03-29: the clock never shows 02:00-03:00, so the shift is 5 hours.
        var midnight = Berlin(2026, 3, 29, 0);

        Assert.Equal(5 * Hour, BerlinNightShift.BusinessTimeBetween(midnight, Berlin(2026, 3, 29, 12)));
        Assert.Equal(Utc(2026, 3, 29, 1), BerlinNightShift.AddBusinessTime(midnight, 2 * Hour));
        Assert.Equal(Berlin(2026, 3, 29, 4), BerlinNightShift.AddBusinessTime(midnight, 3 * Hour));
    }

    [Fact]
    public void A_night_shift_spanning_fall_back_works_the_repeated_hour_twice()
    {
        // 00:00-06:00 on 2026-10-25: the clock shows 02:00-03:00 twice, so the shift is 7 hours.
        var midnight = Berlin(2026, 10, 25, 0);

        Assert.Equal(7 * Hour, BerlinNightShift.BusinessTimeBetween(midnight, Berlin(2026, 10, 25, 12)));
        Assert.Equal(Utc(2026, 10, 25, 1), BerlinNightShift.AddBusinessTime(midnight, 3 * Hour));
        Assert.Equal(Utc(2026, 10, 25, 2), BerlinNightShift.AddBusinessTime(midnight, 4 * Hour));
        Assert.Equal(Berlin(2026, 10, 25, 6), BerlinNightShift.AddBusinessTime(midnight, 7 * Hour));
    }

    [Fact]
    public void An_interval_starting_in_the_skipped_hour_opens_when_the_clock_jumps()
    {
        var calendar = BusinessCalendar.Weekly("Europe/Berlin", [DayOfWeek.Sunday], WorkingInterval.Parse("02:30-04:00"));

        Assert.Equal(Hour, calendar.BusinessTimeBetween(Berlin(2026, 3, 29, 0), Berlin(2026, 3, 29, 12)));
        Assert.Equal(Utc(2026, 3, 29, 1, 30), calendar.AddBusinessTime(Berlin(2026, 3, 29, 0), TimeSpan.FromMinutes(30)));
    }

    [Fact]
    public void An_interval_ending_in_the_repeated_hour_is_worked_in_two_pieces()
    {
        // 00:00-02:30 on 2026-10-25: 00:00-02:30 summer time (22:00-00:30 UTC), then 02:00-02:30 winter time (01:00-01:30 UTC).
        var calendar = BusinessCalendar.Weekly("Europe/Berlin", [DayOfWeek.Sunday], WorkingInterval.Parse("00:00-02:30"));
        var midnight = Berlin(2026, 10, 25, 0);

        Assert.Equal(3 * Hour, calendar.BusinessTimeBetween(midnight, Berlin(2026, 10, 25, 12)));
        Assert.Equal(Utc(2026, 10, 25, 0, 30), calendar.AddBusinessTime(midnight, 2.5 * Hour));
        Assert.Equal(Utc(2026, 10, 25, 1, 15), calendar.AddBusinessTime(midnight, 2.75 * Hour));
        Assert.Equal(TimeSpan.Zero, calendar.BusinessTimeBetween(Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1)));
    }

    [Fact]
    public void New_york_spring_forward_and_fall_back_days()
    {
        var always = BusinessCalendar.AlwaysOn("America/New_York");
        var night = BusinessCalendar.Weekly("America/New_York", [DayOfWeek.Sunday], WorkingInterval.Parse("00:00-03:00"));

        Assert.Equal(23 * Hour, always.BusinessTimeBetween(NewYork(2026, 3, 8, 0), NewYork(2026, 3, 9, 0)));
        Assert.Equal(25 * Hour, always.BusinessTimeBetween(NewYork(2026, 11, 1, 0), NewYork(2026, 11, 2, 0)));
        Assert.Equal(2 * Hour, night.BusinessTimeBetween(NewYork(2026, 3, 8, 0), NewYork(2026, 3, 8, 12)));
        Assert.Equal(4 * Hour, night.BusinessTimeBetween(NewYork(2026, 11, 1, 0), NewYork(2026, 11, 1, 12)));
        Assert.Equal(Utc(2026, 3, 8, 7), night.AddBusinessTime(NewYork(2026, 3, 8, 0), 2 * Hour));
    }

    [Fact]
    public void A_working_week_across_the_change_keeps_local_opening_hours()
    {
        // Friday 16:00 CET + 2 hours = Monday 09:00 CEST, which is 07:00 UTC rather than 08:00.
        Assert.Equal(Utc(2026, 3, 30, 7), BerlinOffice.AddBusinessTime(Berlin(2026, 3, 27, 16), 2 * Hour));
        Assert.Equal(Utc(2026, 11, 2, 15), NewYorkOffice.AddBusinessTime(NewYork(2026, 10, 30, 16), 2 * Hour));
    }

    [Fact]
    public void Holidays_on_dates_are_skipped()
    {
        // Good Friday and Easter Monday 2026.
        Assert.Equal(Berlin(2026, 4, 7, 9), BerlinWithHolidays.AddBusinessTime(Berlin(2026, 4, 2, 16), 2 * Hour));
        Assert.Equal(Hour, BerlinWithHolidays.BusinessTimeBetween(Berlin(2026, 4, 2, 16), Berlin(2026, 4, 7, 8)));
    }

    [Fact]
    public void Recurring_holidays_apply_every_year()
    {
        // 2028-12-25 and 26 are Monday and Tuesday.
        Assert.Equal(Berlin(2028, 12, 27, 9), BerlinWithHolidays.AddBusinessTime(Berlin(2028, 12, 22, 16), 2 * Hour));
        Assert.Equal(Berlin(2031, 1, 2, 9), BerlinWithHolidays.AddBusinessTime(Berlin(2030, 12, 31, 16), 2 * Hour));
        Assert.True(BerlinWithHolidays.IsHoliday(new DateOnly(2040, 12, 25)));
    }

    [Fact]
    public void February_29_recurs_in_leap_years_only()
    {
        var calendar = BerlinOffice with { RecurringHolidays = [new RecurringHoliday(2, 29)] };

        Assert.Empty(calendar.Validate());
        Assert.Empty(calendar.HoursOn(new DateOnly(2028, 2, 29)));
        Assert.Equal(2, calendar.HoursOn(new DateOnly(2027, 3, 1)).Count);
    }

    [Fact]
    public void An_exception_makes_a_weekday_non_working()
    {
        // Wednesday 2026-03-04 is closed.
        Assert.Equal(Berlin(2026, 3, 5, 9), BerlinWithHolidays.AddBusinessTime(Berlin(2026, 3, 3, 16), 2 * Hour));
    }

    [Fact]
    public void An_exception_opens_a_saturday()
    {
        // Saturday 2026-03-07 10:00-14:00.
        Assert.Equal(Berlin(2026, 3, 7, 12), BerlinWithHolidays.AddBusinessTime(Berlin(2026, 3, 6, 16), 3 * Hour));
        Assert.Equal(4 * Hour, BerlinWithHolidays.BusinessTimeBetween(Berlin(2026, 3, 7, 0), Berlin(2026, 3, 8, 0)));
    }

    [Fact]
    public void An_exception_shortens_a_day_and_overrides_a_recurring_holiday()
    {
        var calendar = BerlinWithHolidays with
        {
            Exceptions = [new CalendarException(new DateOnly(2026, 12, 24), [Morning]), new CalendarException(new DateOnly(2026, 12, 25), [WorkingInterval.Parse("10:00-11:00")])],
        };

        Assert.Equal(4 * Hour, calendar.BusinessTimeBetween(Berlin(2026, 12, 24, 0), Berlin(2026, 12, 25, 0)));
        Assert.Equal(Berlin(2026, 12, 25, 11), calendar.AddBusinessTime(Berlin(2026, 12, 24, 11), 2 * Hour));
    }

    [Fact]
    public void Hours_of_a_date_follow_exceptions_then_holidays_then_the_week()
    {
        Assert.Equal([WorkingInterval.Parse("10:00-14:00")], BerlinWithHolidays.HoursOn(new DateOnly(2026, 3, 7)));
        Assert.Empty(BerlinWithHolidays.HoursOn(new DateOnly(2026, 12, 25)));
        Assert.Equal([Morning, Afternoon], BerlinWithHolidays.HoursOn(new DateOnly(2026, 3, 2)));
        Assert.Empty(BerlinWithHolidays.HoursOn(new DateOnly(2026, 3, 8)));
    }

    [Fact]
    public void Working_intervals_parse_and_print()
    {
        Assert.Equal(new WorkingInterval(TimeSpan.FromHours(8), TimeSpan.FromHours(17)), WorkingInterval.Parse("08:00-17:00"));
        Assert.Equal(WorkingInterval.AllDay, WorkingInterval.Parse("00:00 - 24:00"));
        Assert.Equal("13:00:30-24:00", WorkingInterval.Parse("13:00:30-24:00").ToString());
        Assert.Throws<FormatException>(() => WorkingInterval.Parse("8-17"));
        Assert.Throws<FormatException>(() => WorkingInterval.Parse("08:00"));
    }
}

public class BusinessCalendarValidationTests
{
    [Fact]
    public void A_usable_calendar_has_no_problems()
    {
        Assert.All(Calendars.All, calendar => Assert.Empty(calendar.Validate()));
    }

    [Fact]
    public void An_unknown_time_zone_is_named()
    {
        var errors = (Calendars.BerlinOffice with { TimeZoneId = "Mars/Olympus_Mons" }).Validate();

        Assert.Contains("'Mars/Olympus_Mons' is not a known IANA time zone", Assert.Single(errors["timeZoneId"]), StringComparison.Ordinal);
        Assert.Contains("timeZoneId", (Calendars.BerlinOffice with { TimeZoneId = " " }).Validate().Keys);
    }

    [Fact]
    public void Windows_zone_ids_are_not_accepted()
    {
        Assert.Contains("timeZoneId", (Calendars.BerlinOffice with { TimeZoneId = "W. Europe Standard Time" }).Validate().Keys);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var calendar = new BusinessCalendar(
            "Nowhere/Atlantis",
            new Dictionary<DayOfWeek, IReadOnlyList<WorkingInterval>>
            {
                [DayOfWeek.Monday] = [WorkingInterval.Parse("08:00-12:00"), WorkingInterval.Parse("11:00-17:00")],
                [DayOfWeek.Tuesday] = [WorkingInterval.Parse("17:00-08:00"), WorkingInterval.Parse("09:00-09:00")],
                [DayOfWeek.Wednesday] = [new WorkingInterval(TimeSpan.FromHours(20), TimeSpan.FromHours(25))],
            },
            RecurringHolidays: [new RecurringHoliday(2, 30), new RecurringHoliday(13, 1)],
            Exceptions: [CalendarException.NonWorking(new DateOnly(2026, 3, 4)), new CalendarException(new DateOnly(2026, 3, 4), [WorkingInterval.Parse("12:00-10:00")])]);

        var errors = calendar.Validate();

        Assert.Equal(
            ["exceptions[1]", "exceptions[1].hours[0]", "recurringHolidays[0]", "recurringHolidays[1]", "timeZoneId", "weeklyHours.Monday", "weeklyHours.Tuesday[0]", "weeklyHours.Tuesday[1]", "weeklyHours.Wednesday[0]"],
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("overlap", errors["weeklyHours.Monday"][0], StringComparison.Ordinal);
        Assert.Contains("empty or inverted", errors["weeklyHours.Tuesday[0]"][0], StringComparison.Ordinal);
        Assert.Contains("outside the day", errors["weeklyHours.Wednesday[0]"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Touching_intervals_do_not_overlap()
    {
        var calendar = BusinessCalendar.Weekly("Europe/Berlin", [DayOfWeek.Monday], WorkingInterval.Parse("13:00-17:00"), WorkingInterval.Parse("08:00-13:00"));

        Assert.Empty(calendar.Validate());
        Assert.Equal(Calendars.Berlin(2026, 3, 2, 14), calendar.AddBusinessTime(Calendars.Berlin(2026, 3, 2, 8), TimeSpan.FromHours(6)));
    }

    [Fact]
    public void A_calendar_without_working_time_is_refused_and_its_arithmetic_throws_at_once()
    {
        var empty = BusinessCalendar.Weekly("Europe/Berlin", Enum.GetValues<DayOfWeek>());
        var allHolidays = Calendars.BerlinOffice with
        {
            RecurringHolidays = [.. Enumerable.Range(0, 366).Select(d => new DateTime(2000, 1, 1).AddDays(d)).Select(d => new RecurringHoliday(d.Month, d.Day))],
        };

        Assert.Contains("no working time", Assert.Single(empty.Validate()["weeklyHours"]), StringComparison.Ordinal);
        Assert.Contains("no working time", Assert.Single(allHolidays.Validate()["recurringHolidays"]), StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => empty.AddBusinessTime(Calendars.Utc(2026, 1, 1, 0), TimeSpan.FromHours(1)));
        Assert.Throws<InvalidOperationException>(() => allHolidays.BusinessTimeBetween(Calendars.Utc(2026, 1, 1, 0), Calendars.Utc(2026, 2, 1, 0)));
    }

    [Fact]
    public void A_calendar_too_sparse_for_the_duration_stops_at_the_horizon()
    {
        // One minute a week: 1000 hours would take over a thousand years.
        var sparse = BusinessCalendar.Weekly("Europe/Berlin", [DayOfWeek.Monday], WorkingInterval.Parse("08:00-08:01"));

        var error = Assert.Throws<InvalidOperationException>(() => sparse.AddBusinessTime(Calendars.Utc(2026, 1, 1, 0), TimeSpan.FromHours(1000)));

        Assert.Contains("36600 days", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => sparse.BusinessTimeBetween(Calendars.Utc(2026, 1, 1, 0), Calendars.Utc(2200, 1, 1, 0)));
    }
}
