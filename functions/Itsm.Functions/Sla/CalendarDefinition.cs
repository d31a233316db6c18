using System.Globalization;
using Itsm.Functions.Hosting;

namespace Itsm.Functions.Sla;

/// <summary>A calendar exception as the API and the store write it: a date and its hours (empty: not a working day).</summary>
public sealed record CalendarExceptionDefinition(string Date, IReadOnlyList<string> Hours);

/// <summary>
/// A business calendar as the admin API takes it and the store keeps it: plain strings, turned into a
/// <see cref="BusinessCalendar"/> by <see cref="ToCalendar"/>.
/// </summary>
public sealed record CalendarDefinition(
    string Name,
    string TimeZone,
    IReadOnlyDictionary<string, IReadOnlyList<string>> WeeklyHours,
    IReadOnlyList<string> Holidays,
    IReadOnlyList<string> RecurringHolidays,
    IReadOnlyList<CalendarExceptionDefinition> Exceptions)
{
    public BusinessCalendar ToCalendar() => new(
        TimeZone,
        WeeklyHours.ToDictionary(d => Enum.Parse<DayOfWeek>(d.Key, ignoreCase: true), d => (IReadOnlyList<WorkingInterval>)d.Value.Select(WorkingInterval.Parse).ToArray()),
        Holidays.Select(h => DateOnly.ParseExact(h, "yyyy-MM-dd", CultureInfo.InvariantCulture)).ToArray(),
        RecurringHolidays.Select(ParseRecurring).ToArray(),
        Exceptions.Select(e => new CalendarException(DateOnly.ParseExact(e.Date, "yyyy-MM-dd", CultureInfo.InvariantCulture), e.Hours.Select(WorkingInterval.Parse).ToArray())).ToArray());

    /// <summary>Reads and validates a calendar body (syntax here, then the calendar's own rules); null with errors on <paramref name="body"/>.</summary>
    public static CalendarDefinition? Read(JsonBodyReader body)
    {
        var name = body.String("name", required: true, maxLength: 200);
        var timeZone = body.String("timeZone", required: true, maxLength: 100);
        var weekly = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var week = body.Object("weeklyHours", required: true);
        if (week is not null)
        {
            foreach (var day in Enum.GetValues<DayOfWeek>())
            {
                var field = day.ToString().ToLowerInvariant();
                var hours = week.StringList(field, 10, 20);
                if (hours is not null && Intervals(week, field, hours))
                {
                    weekly[field] = hours;
                }
            }

            week.RejectUnknown();
        }

        var holidays = body.StringList("holidays", 1000, 10) ?? [];
        foreach (var holiday in holidays.Where(h => !IsDate(h)))
        {
            body.AddError("holidays", $"'{holiday}' is not a date (yyyy-MM-dd).");
        }

        var recurring = body.StringList("recurringHolidays", 366, 5) ?? [];
        foreach (var day in recurring.Where(r => ParseRecurringOrNull(r) is not { IsValid: true }))
        {
            body.AddError("recurringHolidays", $"'{day}' is not a day of the year (MM-dd, e.g. 12-25).");
        }

        var exceptions = new List<CalendarExceptionDefinition>();
        foreach (var exception in body.ObjectList("exceptions", 1000) ?? [])
        {
            var date = exception.String("date", required: true, maxLength: 10);
            var hours = exception.StringList("hours", 10, 20);
            exception.RejectUnknown();
            if (date is not null && !IsDate(date))
            {
                exception.AddError("date", $"'{date}' is not a date (yyyy-MM-dd).");
            }
            else if (date is not null && hours is null && !exception.Has("hours"))
            {
                exception.AddError("hours", "is required: the working hours of that date, or [] for a non-working day.");
            }
            else if (date is not null && Intervals(exception, "hours", hours ?? []))
            {
                exceptions.Add(new CalendarExceptionDefinition(date, hours ?? []));
            }
        }

        body.RejectUnknown();
        if (body.HasErrors)
        {
            return null;
        }

        var definition = new CalendarDefinition(name!, timeZone!, weekly, holidays, recurring, exceptions);
        foreach (var (field, messages) in definition.ToCalendar().Validate())
        {
            var path = field switch
            {
                "timeZoneId" => "timeZone",
                _ when field.StartsWith("weeklyHours.", StringComparison.Ordinal) => "weeklyHours." + field["weeklyHours.".Length..].ToLowerInvariant(),
                _ => field,
            };
            body.AddError(path, string.Join(" ", messages));
        }

        return body.HasErrors ? null : definition;
    }

    private static bool Intervals(JsonBodyReader reader, string field, IReadOnlyList<string> hours)
    {
        foreach (var text in hours)
        {
            try
            {
                WorkingInterval.Parse(text);
            }
            catch (FormatException ex)
            {
                reader.AddError(field, ex.Message);
                return false;
            }
        }

        return true;
    }

    private static bool IsDate(string text) => DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    private static RecurringHoliday ParseRecurring(string text) => ParseRecurringOrNull(text) ?? throw new FormatException($"'{text}' is not MM-dd.");

    private static RecurringHoliday? ParseRecurringOrNull(string text)
    {
        var parts = text.Split('-');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var day)
            ? new RecurringHoliday(month, day)
            : null;
    }
}
