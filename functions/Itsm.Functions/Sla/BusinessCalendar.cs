using System.Globalization;

namespace Itsm.Functions.Sla;

/// <summary>
/// A stretch of local wall-clock time within one day, <c>[Start, End)</c>. <see cref="End"/> may be 24:00 (the
/// next midnight), so <c>00:00-24:00</c> is a whole day.
/// </summary>
public sealed record WorkingInterval(TimeSpan Start, TimeSpan End)
{
    public static readonly WorkingInterval AllDay = new(TimeSpan.Zero, TimeSpan.FromHours(24));

    public TimeSpan Length => End - Start;

    /// <summary>Parses <c>"08:00-12:00"</c> (also <c>"13:00:30-24:00"</c>); throws <see cref="FormatException"/>.</summary>
    public static WorkingInterval Parse(string text)
    {
        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            throw new FormatException($"'{text}' is not a working interval such as 08:00-17:00.");
        }

        return new WorkingInterval(ParseTime(parts[0], text), ParseTime(parts[1], text));
    }

    public override string ToString() => $"{Format(Start)}-{Format(End)}";

    private static TimeSpan ParseTime(string part, string text)
    {
        if (part is "24:00" or "24:00:00")
        {
            return TimeSpan.FromHours(24);
        }

        return TimeOnly.TryParseExact(part, ["HH:mm", "HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time.ToTimeSpan()
            : throw new FormatException($"'{text}' is not a working interval such as 08:00-17:00.");
    }

    private static string Format(TimeSpan time) =>
        time == TimeSpan.FromHours(24) ? "24:00" : time.ToString(time.Seconds == 0 ? @"hh\:mm" : @"hh\:mm\:ss", CultureInfo.InvariantCulture);
}

/// <summary>A holiday on the same day every year, e.g. 12-25. February 29 applies in leap years only.</summary>
public sealed record RecurringHoliday(int Month, int Day)
{
    public bool IsValid => Month is >= 1 and <= 12 && Day >= 1 && Day <= DateTime.DaysInMonth(2000, Month);

    public override string ToString() => $"{Month:00}-{Day:00}";
}

/// <summary>
/// One date whose working hours differ from the week: <see cref="Hours"/> replaces the weekly hours (and any
/// holiday) of that date. Empty hours make the date non-working; hours on a Saturday make it a working day; a
/// short Christmas Eve lists its morning only.
/// </summary>
public sealed record CalendarException(DateOnly Date, IReadOnlyList<WorkingInterval> Hours)
{
    public static CalendarException NonWorking(DateOnly date) => new(date, []);
}

/// <summary>
/// When the clock of an SLA runs: weekly working hours in local wall-clock time of an IANA time zone, holidays
/// (dates and recurring dates) and exceptions. Pure: the arithmetic needs no clock and no I/O. See
/// docs/architecture.md, "SLA clocks and business calendars", for how daylight-saving changes are handled.
/// </summary>
public sealed record BusinessCalendar(
    string TimeZoneId,
    IReadOnlyDictionary<DayOfWeek, IReadOnlyList<WorkingInterval>> WeeklyHours,
    IReadOnlyList<DateOnly>? Holidays = null,
    IReadOnlyList<RecurringHoliday>? RecurringHolidays = null,
    IReadOnlyList<CalendarException>? Exceptions = null)
{
    /// <summary>
    /// How far the arithmetic looks: <see cref="AddBusinessTime"/> gives up (with an exception) when the result
    /// would lie further than this after the start, and <see cref="BusinessTimeBetween"/> refuses longer spans.
    /// </summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(100 * 366);

    public static readonly IReadOnlyList<DayOfWeek> MondayToFriday =
        [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    /// <summary>The same hours on each of <paramref name="days"/>, e.g. Monday to Friday 08:00-12:00 and 13:00-17:00.</summary>
    public static BusinessCalendar Weekly(string timeZoneId, IEnumerable<DayOfWeek> days, params WorkingInterval[] hours) =>
        new(timeZoneId, days.ToDictionary(d => d, _ => (IReadOnlyList<WorkingInterval>)hours));

    /// <summary>Every hour of every day (24x7): business time equals elapsed time.</summary>
    public static BusinessCalendar AlwaysOn(string timeZoneId = "Etc/UTC") =>
        Weekly(timeZoneId, Enum.GetValues<DayOfWeek>(), WorkingInterval.AllDay);

    /// <summary>
    /// Every problem, keyed by field path (as the API reports them): unknown time zone, empty, inverted, out of
    /// day or overlapping intervals, invalid recurring dates, a date with two exceptions, and a calendar with no
    /// working time at all. Empty when the calendar is usable.
    /// </summary>
    public IReadOnlyDictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(message);
        }

        if (string.IsNullOrWhiteSpace(TimeZoneId))
        {
            Add("timeZoneId", "A time zone is required, e.g. Europe/Berlin.");
        }
        else if (!TimeZoneInfo.TryFindSystemTimeZoneById(TimeZoneId, out _))
        {
            Add("timeZoneId", $"'{TimeZoneId}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, Etc/UTC).");
        }

        var weekly = TimeSpan.Zero;
        if (WeeklyHours is null)
        {
            Add("weeklyHours", "Weekly working hours are required.");
        }
        else
        {
            foreach (var (day, hours) in WeeklyHours.OrderBy(d => d.Key))
            {
                if (!Enum.IsDefined(day))
                {
                    Add("weeklyHours", $"{(int)day} is not a day of the week.");
                    continue;
                }

                weekly += ValidateHours($"weeklyHours.{day}", hours, Add);
            }

            if (weekly <= TimeSpan.Zero)
            {
                Add("weeklyHours", "The calendar has no working time: at least one day of the week needs working hours.");
            }
        }

        var recurring = RecurringHolidays ?? [];
        for (var i = 0; i < recurring.Count; i++)
        {
            if (recurring[i] is not { IsValid: true })
            {
                Add($"recurringHolidays[{i}]", $"{recurring[i]} is not a day of the year (month 1-12, day within the month).");
            }
        }

        if (weekly > TimeSpan.Zero && recurring.Where(h => h is { IsValid: true }).Distinct().Count() == 366)
        {
            Add("recurringHolidays", "Every day of the year is a holiday: the calendar has no working time.");
        }

        var holidays = Holidays ?? [];
        var exceptions = Exceptions ?? [];
        var seen = new HashSet<DateOnly>();
        for (var i = 0; i < exceptions.Count; i++)
        {
            if (exceptions[i] is null)
            {
                Add($"exceptions[{i}]", "An exception needs a date and its hours.");
                continue;
            }

            if (!seen.Add(exceptions[i].Date))
            {
                Add($"exceptions[{i}]", $"{exceptions[i].Date:yyyy-MM-dd} has more than one exception; list all its hours in one.");
            }

            ValidateHours($"exceptions[{i}].hours", exceptions[i].Hours, Add);
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>
    /// The instant at which <paramref name="duration"/> of business time has passed after <paramref name="start"/>.
    /// A duration ending exactly at the end of a working interval gives that end (Friday 17:00, not Monday 08:00);
    /// a zero duration gives <paramref name="start"/>. The result is in UTC. Throws
    /// <see cref="InvalidOperationException"/> for an invalid calendar or when the result lies beyond
    /// <see cref="Horizon"/>.
    /// </summary>
    public DateTimeOffset AddBusinessTime(DateTimeOffset start, TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return BusinessTime.For(this).Add(start, duration);
    }

    /// <summary>
    /// The business time in <c>[from, to)</c>; negative when <paramref name="to"/> is before <paramref name="from"/>.
    /// Throws <see cref="InvalidOperationException"/> for an invalid calendar and
    /// <see cref="ArgumentOutOfRangeException"/> for a span longer than <see cref="Horizon"/>.
    /// </summary>
    public TimeSpan BusinessTimeBetween(DateTimeOffset from, DateTimeOffset to)
    {
        if (to < from)
        {
            return -BusinessTimeBetween(to, from);
        }

        if (to - from > Horizon)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"Business time is counted over at most {Horizon.TotalDays:0} days.");
        }

        return BusinessTime.For(this).Between(from, to);
    }

    /// <summary>
    /// The working stretches in <c>[from, to)</c> as instants, in order, back-to-back ones (22:00-24:00 and 00:00-02:00)
    /// joined; at most <paramref name="max"/>. Throws <see cref="InvalidOperationException"/> for an invalid calendar.
    /// </summary>
    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> WorkingStretches(DateTimeOffset from, DateTimeOffset to, int max) =>
        to <= from ? [] : BusinessTime.For(this).Stretches(from, to, max);

    /// <summary>The working hours of one local date after holidays and exceptions, ordered.</summary>
    public IReadOnlyList<WorkingInterval> HoursOn(DateOnly date)
    {
        if (Exceptions?.FirstOrDefault(e => e.Date == date) is { } exception)
        {
            return [.. exception.Hours.OrderBy(h => h.Start)];
        }

        if (IsHoliday(date))
        {
            return [];
        }

        return WeeklyHours.TryGetValue(date.DayOfWeek, out var hours) ? [.. hours.OrderBy(h => h.Start)] : [];
    }

    public bool IsHoliday(DateOnly date) =>
        (Holidays?.Contains(date) ?? false) || (RecurringHolidays?.Contains(new RecurringHoliday(date.Month, date.Day)) ?? false);

    private static TimeSpan ValidateHours(string field, IReadOnlyList<WorkingInterval>? hours, Action<string, string> add)
    {
        if (hours is null)
        {
            add(field, "Hours must be a list of intervals (an empty list for none).");
            return TimeSpan.Zero;
        }

        var total = TimeSpan.Zero;
        var valid = new List<WorkingInterval>();
        for (var i = 0; i < hours.Count; i++)
        {
            var interval = hours[i];
            if (interval is null)
            {
                add($"{field}[{i}]", "An interval needs a start and an end.");
            }
            else if (interval.Start < TimeSpan.Zero || interval.End > TimeSpan.FromHours(24))
            {
                add($"{field}[{i}]", $"{interval} is outside the day: times run from 00:00 to 24:00.");
            }
            else if (interval.End <= interval.Start)
            {
                add($"{field}[{i}]", $"{interval} is empty or inverted: the end must be after the start.");
            }
            else
            {
                valid.Add(interval);
                total += interval.Length;
            }
        }

        var ordered = valid.OrderBy(h => h.Start).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            if (ordered[i].Start < ordered[i - 1].End)
            {
                add(field, $"{ordered[i - 1]} and {ordered[i]} overlap.");
            }
        }

        return total;
    }
}
