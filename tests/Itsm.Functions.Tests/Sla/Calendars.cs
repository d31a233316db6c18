using Itsm.Functions.Sla;

namespace Itsm.Functions.Tests.Sla;

/// <summary>Calendars and instants the SLA tests share.</summary>
internal static class Calendars
{
    public static readonly WorkingInterval Morning = WorkingInterval.Parse("08:00-12:00");
    public static readonly WorkingInterval Afternoon = WorkingInterval.Parse("13:00-17:00");

    /// <summary>Monday to Friday 08:00-12:00 and 13:00-17:00 in Berlin: 40 hours a week.</summary>
    public static readonly BusinessCalendar BerlinOffice = BusinessCalendar.Weekly("Europe/Berlin", BusinessCalendar.MondayToFriday, Morning, Afternoon);

    public static readonly BusinessCalendar NewYorkOffice = BusinessCalendar.Weekly("America/New_York", BusinessCalendar.MondayToFriday, WorkingInterval.Parse("09:00-17:00"));

    public static readonly BusinessCalendar BerlinAlwaysOn = BusinessCalendar.AlwaysOn("Europe/Berlin");

    /// <summary>Every day 22:00-24:00 and 00:00-06:00: the night shift works through every daylight-saving change.</summary>
    public static readonly BusinessCalendar BerlinNightShift = BusinessCalendar.Weekly(
        "Europe/Berlin", Enum.GetValues<DayOfWeek>(), WorkingInterval.Parse("00:00-06:00"), WorkingInterval.Parse("22:00-24:00"));

    /// <summary>Berlin office with German public holidays of 2026, Christmas recurring, and exceptions.</summary>
    public static readonly BusinessCalendar BerlinWithHolidays = BerlinOffice with
    {
        Holidays = [new DateOnly(2026, 4, 3), new DateOnly(2026, 4, 6), new DateOnly(2026, 5, 1)],
        RecurringHolidays = [new RecurringHoliday(12, 25), new RecurringHoliday(12, 26), new RecurringHoliday(1, 1)],
        Exceptions =
        [
            CalendarException.NonWorking(new DateOnly(2026, 3, 4)),
            new CalendarException(new DateOnly(2026, 3, 7), [WorkingInterval.Parse("10:00-14:00")]),
            new CalendarException(new DateOnly(2026, 12, 24), [WorkingInterval.Parse("08:00-12:00")]),
        ],
    };

    /// <summary>Sydney (southern daylight saving), Monday to Saturday.</summary>
    public static readonly BusinessCalendar SydneyOffice = BusinessCalendar.Weekly(
        "Australia/Sydney", [.. BusinessCalendar.MondayToFriday, DayOfWeek.Saturday], WorkingInterval.Parse("07:30-19:00"));

    /// <summary>Kolkata, a half-hour offset without daylight saving, with a 1-minute interval.</summary>
    public static readonly BusinessCalendar KolkataShifts = BusinessCalendar.Weekly(
        "Asia/Kolkata", BusinessCalendar.MondayToFriday, WorkingInterval.Parse("09:30-09:31"), WorkingInterval.Parse("10:00-18:30"));

    public static readonly IReadOnlyList<BusinessCalendar> All =
        [BerlinOffice, NewYorkOffice, BerlinAlwaysOn, BerlinNightShift, BerlinWithHolidays, SydneyOffice, KolkataShifts];

    /// <summary>Daylight-saving changes of 2026 (UTC) in Berlin and New York.</summary>
    public static readonly IReadOnlyList<DateTimeOffset> Transitions =
    [
        Utc(2026, 3, 29, 1, 0), Utc(2026, 10, 25, 1, 0), Utc(2026, 3, 8, 7, 0), Utc(2026, 11, 1, 6, 0),
        Utc(2026, 10, 3, 16, 0), Utc(2026, 4, 4, 16, 0),
    ];

    public static DateTimeOffset Utc(int year, int month, int day, int hour, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    /// <summary>A local wall-clock time of Berlin with the offset it has then (+01:00 winter, +02:00 summer).</summary>
    public static DateTimeOffset Berlin(int year, int month, int day, int hour, int minute = 0) => Local("Europe/Berlin", year, month, day, hour, minute);

    public static DateTimeOffset NewYork(int year, int month, int day, int hour, int minute = 0) => Local("America/New_York", year, month, day, hour, minute);

    private static DateTimeOffset Local(string zone, int year, int month, int day, int hour, int minute)
    {
        var local = new DateTime(year, month, day, hour, minute, 0, DateTimeKind.Unspecified);
        var timeZone = TimeZoneInfo.FindSystemTimeZoneById(zone);
        if (timeZone.IsInvalidTime(local) || timeZone.IsAmbiguousTime(local))
        {
            throw new ArgumentException($"{local} is skipped or repeated in {zone}: give the instant in UTC.");
        }

        return new DateTimeOffset(local, timeZone.GetUtcOffset(local));
    }
}
