using System.Globalization;
using System.Text;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;

namespace Itsm.Functions.Reports;

public sealed record ReportColumnInfo(string Name, string Label, bool Charted);

/// <summary>One row of a report: a period (its first day) or a group (a dimension value), with its column values.</summary>
public sealed record ReportRow(string Key, IReadOnlyDictionary<string, double?> Values);

/// <summary>A report as the API returns it. <see cref="RowKind"/> names what a row's key is: "period", or the dimension.</summary>
public sealed record ReportResult(
    string Report,
    string Title,
    string Unit,
    string Covers,
    string From,
    string To,
    string? By,
    string Interval,
    string RowKind,
    IReadOnlyList<ReportColumnInfo> Columns,
    IReadOnlyList<ReportRow> Rows,
    string? Note,
    bool Rebuilding,
    DateTimeOffset? RebuiltAt);

/// <summary>A report request: range (UTC days, inclusive), breakdown, interval.</summary>
public sealed record ReportQuery(DateOnly From, DateOnly To, string? By, string Interval)
{
    public const int MaxDays = 1096;

    public static readonly IReadOnlyList<string> Intervals = ["day", "week", "month"];

    public static (ReportQuery? Query, Dictionary<string, string[]> Errors) Parse(HttpTriggerRequest request, DateOnly today)
    {
        var errors = new Dictionary<string, string[]>();
        DateOnly? Day(string name)
        {
            var text = request.QueryValue(name);
            if (text is null)
            {
                return null;
            }

            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                return day;
            }

            errors[name] = ["must be a date as yyyy-MM-dd (a UTC day)."];
            return null;
        }

        var to = Day("to") ?? today;
        var from = Day("from") ?? to.AddDays(-29);
        var by = request.QueryValue("by");
        if (by is not null && by != ReportDimensions.All && !ReportDimensions.Breakdowns.Contains(by))
        {
            errors["by"] = [$"must be one of: all, {string.Join(", ", ReportDimensions.Breakdowns)}."];
        }

        var interval = request.QueryValue("interval") ?? "day";
        if (!Intervals.Contains(interval))
        {
            errors["interval"] = ["must be day, week or month."];
        }

        if (errors.Count == 0 && from > to)
        {
            errors["from"] = ["must not be after 'to'."];
        }
        else if (errors.Count == 0 && to.DayNumber - from.DayNumber + 1 > MaxDays)
        {
            errors["from"] = [$"the range may span at most {MaxDays} days."];
        }

        return (errors.Count == 0 ? new ReportQuery(from, to, by, interval) : null, errors);
    }

    public static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The first day of the period a day falls in (periods are cut at the range's start).</summary>
    public DateOnly PeriodOf(DateOnly day)
    {
        var start = Interval switch
        {
            "week" => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)),
            "month" => new DateOnly(day.Year, day.Month, 1),
            _ => day,
        };
        return start < From ? From : start;
    }

    public IEnumerable<DateOnly> Periods()
    {
        var seen = new HashSet<DateOnly>();
        for (var day = From; day <= To; day = day.AddDays(1))
        {
            if (seen.Add(PeriodOf(day)))
            {
                yield return PeriodOf(day);
            }
        }
    }
}

/// <summary>Where satisfaction answers come from (the surveys feature): per row key, the number of answers and the sum of scores.</summary>
public interface ISatisfactionSource
{
    /// <summary>Rows keyed like the other reports' rows: the period's first day, or the breakdown's value.</summary>
    Task<IReadOnlyList<(string Key, long Answers, double ScoreSum)>> AnswersAsync(string tenantId, ReportQuery query, CancellationToken cancellationToken);
}

/// <summary>Computes reports from a tenant's slices: a trend over periods, or one row per group.</summary>
public sealed class ReportService(ReportStore store, ISatisfactionSource satisfaction, TimeProvider time)
{
    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    public async Task<ReportResult> RunAsync(string tenantId, ReportDefinition report, ReportQuery query, CancellationToken cancellationToken)
    {
        var state = await store.StateAsync(tenantId, cancellationToken);
        var dimension = query.By ?? ReportDimensions.All;
        var rowKind = query.By is null ? "period" : dimension;
        ReportResult Result(IReadOnlyList<ReportColumnInfo> columns, IReadOnlyList<ReportRow> rows, string? note = null) => new(
            report.Name, report.Title, report.Unit, report.Covers, ReportQuery.Text(query.From), ReportQuery.Text(query.To), query.By, query.Interval, rowKind,
            columns, rows, note ?? (state?.Rebuilding == true ? "A rebuild is under way; figures may be incomplete until it ends." : null), state?.Rebuilding == true, state?.RebuiltAt);

        if (report.Name == ReportCatalog.Satisfaction)
        {
            var columns = new List<ReportColumnInfo> { new("answers", "Answers", false), new("averageScore", "Average score", true) };
            var answers = await satisfaction.AnswersAsync(tenantId, query, cancellationToken);
            return answers.Count == 0
                ? Result(columns, [], "No survey was answered in this range (surveys are off until an admin turns them on: PUT /api/manage/surveys/settings).")
                : Result(columns, answers.Select(a => new ReportRow(a.Key, new Dictionary<string, double?> { ["answers"] = a.Answers, ["averageScore"] = a.Answers > 0 ? Math.Round(a.ScoreSum / a.Answers, 2) : null })).ToList());
        }

        if (report.Name == ReportCatalog.Backlog)
        {
            return query.By is null ? await BacklogTrendAsync(tenantId, query, Result, cancellationToken) : await BacklogByAsync(tenantId, dimension, Result, cancellationToken);
        }

        var info = report.Columns.Select(c => new ReportColumnInfo(c.Name, c.Label, c.Charted)).ToList();
        IReadOnlyList<ReportSlice> slices;
        if (query.By is null)
        {
            slices = await store.SlicesAsync(tenantId, $"{dimension}|{ReportQuery.Text(query.From)}|", $"{dimension}|{ReportQuery.Text(query.To)}}}", cancellationToken);
            var sums = Sum(slices.Where(s => s.Bucket != ReportRules.OpenBucket), s => ReportQuery.Text(query.PeriodOf(ReportCatalog.ParseDay(s.Bucket))));
            return Result(info, query.Periods().Select(p => Row(ReportQuery.Text(p), report, sums.GetValueOrDefault(ReportQuery.Text(p)))).ToList());
        }

        // By group over whole months: the months' roll-ups, and the days only of the months the range cuts.
        slices = await ByGroupSlicesAsync(tenantId, dimension, query, cancellationToken);
        var groups = Sum(slices, s => s.Value);
        return Result(info, groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Row(g.Key, report, g.Value)).ToList());
    }

    /// <summary>The slices of a dimension over the range: whole months from their roll-ups, the rest day by day.</summary>
    private async Task<IReadOnlyList<ReportSlice>> ByGroupSlicesAsync(string tenantId, string dimension, ReportQuery query, CancellationToken cancellationToken)
    {
        var firstWhole = query.From.Day == 1 ? query.From : new DateOnly(query.From.Year, query.From.Month, 1).AddMonths(1);
        var afterLastWhole = new DateOnly(query.To.Year, query.To.Month, 1);
        if (query.To == afterLastWhole.AddMonths(1).AddDays(-1))
        {
            afterLastWhole = afterLastWhole.AddMonths(1);
        }

        if (firstWhole >= afterLastWhole)
        {
            return await store.SlicesAsync(tenantId, $"{dimension}|{ReportQuery.Text(query.From)}|", $"{dimension}|{ReportQuery.Text(query.To)}}}", cancellationToken);
        }

        var result = new List<ReportSlice>();
        if (query.From < firstWhole)
        {
            result.AddRange(await store.SlicesAsync(tenantId, $"{dimension}|{ReportQuery.Text(query.From)}|", $"{dimension}|{ReportQuery.Text(firstWhole.AddDays(-1))}}}", cancellationToken));
        }

        var months = SliceKey.MonthPrefix(dimension);
        result.AddRange(await store.SlicesAsync(tenantId, $"{months}|{Month(firstWhole)}|", $"{months}|{Month(afterLastWhole.AddMonths(-1))}}}", cancellationToken));
        if (afterLastWhole <= query.To)
        {
            result.AddRange(await store.SlicesAsync(tenantId, $"{dimension}|{ReportQuery.Text(afterLastWhole)}|", $"{dimension}|{ReportQuery.Text(query.To)}}}", cancellationToken));
        }

        return result;
    }

    private static string Month(DateOnly day) => day.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private async Task<ReportResult> BacklogTrendAsync(string tenantId, ReportQuery query, Func<IReadOnlyList<ReportColumnInfo>, IReadOnlyList<ReportRow>, string?, ReportResult> result, CancellationToken cancellationToken)
    {
        // Backlog at the end of a day E = open now - raised after E + finished after E, so only days from the range's start are read.
        var today = Today;
        var last = query.To > today ? query.To : today;
        var days = await store.SlicesAsync(tenantId, $"all|{ReportQuery.Text(query.From)}|", $"all|{ReportQuery.Text(last)}}}", cancellationToken);
        var open = await store.SlicesAsync(tenantId, "all|open|", "all|open}", cancellationToken);
        var openNow = open.SelectMany(s => s.Values.Values).Sum();
        var byDay = days.ToDictionary(s => ReportCatalog.ParseDay(s.Bucket), s => s.Values);
        var periods = query.Periods().ToList();
        var rows = new List<ReportRow>();
        foreach (var (period, index) in periods.Select((p, i) => (p, i)))
        {
            var end = index + 1 < periods.Count ? periods[index + 1].AddDays(-1) : query.To;
            long raised = 0, finished = 0;
            for (var day = period; day <= end; day = day.AddDays(1))
            {
                raised += byDay.GetValueOrDefault(day)?.GetValueOrDefault(Measures.Created) ?? 0;
                finished += byDay.GetValueOrDefault(day)?.GetValueOrDefault(Measures.LeftBacklog) ?? 0;
            }

            var later = byDay.Where(d => d.Key > end).Sum(d => d.Value.GetValueOrDefault(Measures.Created) - d.Value.GetValueOrDefault(Measures.LeftBacklog));
            rows.Add(new ReportRow(ReportQuery.Text(period), new Dictionary<string, double?>
            {
                ["raised"] = raised,
                ["finished"] = finished,
                ["backlog"] = end >= today ? openNow : openNow - later,
            }));
        }

        return result(
            [new("raised", "Raised (tickets)", false), new("finished", "Resolved, closed or cancelled (tickets)", false), new("backlog", "Open at the end of the period (tickets)", true)],
            rows,
            null);
    }

    private async Task<ReportResult> BacklogByAsync(string tenantId, string dimension, Func<IReadOnlyList<ReportColumnInfo>, IReadOnlyList<ReportRow>, string?, ReportResult> result, CancellationToken cancellationToken)
    {
        var today = Today;
        var open = await store.SlicesAsync(tenantId, $"{dimension}|open|", $"{dimension}|open}}", cancellationToken);
        var rows = open.OrderBy(s => s.Value, StringComparer.Ordinal).Select(s =>
        {
            var values = new Dictionary<string, double?> { ["open"] = s.Values.Values.Sum() };
            foreach (var bucket in ReportCatalog.AgeBuckets)
            {
                values[bucket.Name] = 0;
            }

            foreach (var (created, count) in s.Values)
            {
                var name = ReportCatalog.AgeBucket(ReportCatalog.ParseDay(created), today);
                values[name] = values[name] + count;
            }

            return new ReportRow(s.Value, values);
        }).ToList();
        return result(
            [new("open", "Open now (tickets)", false), .. ReportCatalog.AgeBuckets.Select(b => new ReportColumnInfo(b.Name, b.Label + " (tickets)", true))],
            rows,
            $"The backlog by {dimension} is as of now ({ReportQuery.Text(today)}), whatever the range.");
    }

    private static Dictionary<string, Dictionary<string, long>> Sum(IEnumerable<ReportSlice> slices, Func<ReportSlice, string> key)
    {
        var sums = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        foreach (var slice in slices)
        {
            if (!sums.TryGetValue(key(slice), out var total))
            {
                sums[key(slice)] = total = new Dictionary<string, long>(StringComparer.Ordinal);
            }

            foreach (var (measure, amount) in slice.Values)
            {
                total[measure] = total.GetValueOrDefault(measure) + amount;
            }
        }

        return sums;
    }

    private static ReportRow Row(string key, ReportDefinition report, Dictionary<string, long>? values)
    {
        var sums = (IReadOnlyDictionary<string, long>?)values ?? new Dictionary<string, long>();
        return new ReportRow(key, report.Columns.ToDictionary(c => c.Name, c => c.Value(sums)));
    }

    /// <summary>The report as CSV: one line per row, the key first; spreadsheet formulas in text cells are neutralised.</summary>
    public static string Csv(ReportResult result)
    {
        var csv = new StringBuilder();
        csv.Append(CsvCell.Of(result.RowKind));
        foreach (var column in result.Columns)
        {
            csv.Append(',').Append(CsvCell.Of(column.Name));
        }

        csv.Append('\n');
        foreach (var row in result.Rows)
        {
            csv.Append(CsvCell.Of(row.Key));
            foreach (var column in result.Columns)
            {
                csv.Append(',').Append(row.Values.GetValueOrDefault(column.Name) is { } value ? value.ToString(CultureInfo.InvariantCulture) : "");
            }

            csv.Append('\n');
        }

        return csv.ToString();
    }
}
