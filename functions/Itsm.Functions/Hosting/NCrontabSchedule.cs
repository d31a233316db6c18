using System.Globalization;

namespace Itsm.Functions.Hosting;

/// <summary>
/// A six-field NCRONTAB expression (<c>second minute hour day month day-of-week</c>) as the Functions timer
/// trigger reads it, evaluated in UTC. Day-of-month and day-of-week must both match (NCrontab semantics).
/// </summary>
public sealed class NCrontabSchedule
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] _seconds;
    private readonly bool[] _minutes;
    private readonly bool[] _hours;
    private readonly bool[] _days;
    private readonly bool[] _months;
    private readonly bool[] _daysOfWeek;

    private NCrontabSchedule(string expression, bool[][] fields)
    {
        Expression = expression;
        (_seconds, _minutes, _hours, _days, _months, _daysOfWeek) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
    }

    public string Expression { get; }

    public static NCrontabSchedule Parse(string expression)
    {
        if (!TryParse(expression, out var schedule, out var error))
        {
            throw new FormatException(error);
        }

        return schedule;
    }

    public static bool TryParse(string expression, out NCrontabSchedule schedule, out string error)
    {
        schedule = null!;
        var parts = (expression ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 6)
        {
            error = $"'{expression}' must have six fields: second minute hour day month day-of-week.";
            return false;
        }

        (string Name, int Min, int Max, string[]? Names)[] specs =
        [
            ("second", 0, 59, null), ("minute", 0, 59, null), ("hour", 0, 23, null),
            ("day", 1, 31, null), ("month", 1, 12, MonthNames), ("day-of-week", 0, 6, DayNames),
        ];
        var fields = new bool[6][];
        for (var i = 0; i < 6; i++)
        {
            var spec = specs[i];
            if (!TryParseField(parts[i], spec.Min, spec.Max, spec.Names, i == 5, out fields[i], out var reason))
            {
                error = $"The {spec.Name} field '{parts[i]}' is invalid: {reason}";
                return false;
            }
        }

        schedule = new NCrontabSchedule(string.Join(' ', parts), fields);
        error = "";
        return true;
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null if there is none within five years.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;
        var t = new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, utc.Second, DateTimeKind.Utc).AddSeconds(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!_months[t.Month])
            {
                t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
                continue;
            }

            if (!_days[t.Day] || !_daysOfWeek[(int)t.DayOfWeek])
            {
                t = t.Date.AddDays(1);
                continue;
            }

            if (!_hours[t.Hour])
            {
                t = t.Date.AddHours(t.Hour + 1);
                continue;
            }

            if (!_minutes[t.Minute])
            {
                t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1);
                continue;
            }

            if (!_seconds[t.Second])
            {
                t = t.AddSeconds(1);
                continue;
            }

            return new DateTimeOffset(t, TimeSpan.Zero);
        }

        return null;
    }

    private static bool TryParseField(string text, int min, int max, string[]? names, bool dayOfWeek, out bool[] allowed, out string reason)
    {
        allowed = new bool[max + 2];
        foreach (var item in text.Split(','))
        {
            var stepParts = item.Split('/');
            if (stepParts.Length > 2)
            {
                reason = $"'{item}' has more than one '/'.";
                return false;
            }

            var step = 1;
            if (stepParts.Length == 2 && (!int.TryParse(stepParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1))
            {
                reason = $"the step in '{item}' must be a positive number.";
                return false;
            }

            int from, to;
            var range = stepParts[0];
            if (range == "*")
            {
                (from, to) = (min, max);
            }
            else
            {
                var bounds = range.Split('-');
                if (bounds.Length > 2 || !TryValue(bounds[0], names, min, out from) || !TryValue(bounds[^1], names, min, out to))
                {
                    reason = $"'{range}' is not a number{(names is null ? "" : " or name")} or range.";
                    return false;
                }

                if (dayOfWeek && to == 7)
                {
                    to = bounds.Length == 1 ? 0 : 6;
                    from = bounds.Length == 1 ? 0 : from;
                    if (bounds.Length == 2)
                    {
                        allowed[0] = true;
                    }
                }

                if (stepParts.Length == 2 && bounds.Length == 1)
                {
                    to = max;
                }
            }

            if (from < min || to > max || from > to)
            {
                reason = $"'{item}' is outside {min}-{max}.";
                return false;
            }

            for (var v = from; v <= to; v += step)
            {
                allowed[v] = true;
            }
        }

        reason = "";
        return true;
    }

    private static bool TryValue(string text, string[]? names, int min, out int value)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        var index = names is null ? -1 : Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        value = index + min;
        return index >= 0;
    }
}
