using System.Globalization;
using System.Net;
using System.Text;

namespace Itsm.Functions.Reports;

/// <summary>
/// A report as an SVG chart that reads on its own: title, range, axes with their units, a legend. A trend (rows are
/// periods) is drawn as lines, a breakdown (rows are groups) as bars. Every text from data is escaped; no script.
/// </summary>
public static class ReportChart
{
    public const int Width = 760;
    public const int Height = 380;

    private const int Left = 70, Right = 20, Top = 56, Bottom = 92;

    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    public static string Render(ReportResult report)
    {
        var series = report.Columns.Where(c => c.Charted).ToList();
        var trend = report.RowKind == "period";
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var max = report.Rows.SelectMany(r => series.Select(s => r.Values.GetValueOrDefault(s.Name) ?? 0)).DefaultIfEmpty(0).Max();
        var top = NiceCeiling(max);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-labelledby=\"chart-title\" font-family=\"system-ui, sans-serif\" font-size=\"12\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#ffffff\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text id=\"chart-title\" x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\">{X(report.Title)}</text>");
        var subtitle = $"{report.From} to {report.To} (UTC)" + (trend ? $", per {report.Interval}" : $", by {report.RowKind}");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"40\" text-anchor=\"middle\" fill=\"#555\">{X(subtitle)}</text>");

        // Axes, grid and the y axis's unit.
        for (var i = 0; i <= 4; i++)
        {
            var value = top * i / 4;
            var y = Top + plotHeight - (plotHeight * i / 4.0);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + plotWidth}\" y2=\"{y:0.#}\" stroke=\"#e5e5e5\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{X(Format(value))}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + plotHeight}\" stroke=\"#333\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<line class=\"axis\" x1=\"{Left}\" y1=\"{Top + plotHeight}\" x2=\"{Left + plotWidth}\" y2=\"{Top + plotHeight}\" stroke=\"#333\"/>");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"y-label\" transform=\"translate(16 {Top + plotHeight / 2}) rotate(-90)\" text-anchor=\"middle\">{X(report.Unit)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text class=\"x-label\" x=\"{Left + plotWidth / 2}\" y=\"{Height - 38}\" text-anchor=\"middle\">{X(trend ? $"{Capital(report.Interval)} (start, UTC)" : Capital(report.RowKind))}</text>");

        double Y(double value) => Top + plotHeight - (top == 0 ? 0 : value / top * plotHeight);
        var count = Math.Max(report.Rows.Count, 1);
        var labelEvery = Math.Max(1, (int)Math.Ceiling(count / 10.0));
        if (report.Rows.Count == 0)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + plotWidth / 2}\" y=\"{Top + plotHeight / 2}\" text-anchor=\"middle\" fill=\"#555\">{X(report.Note ?? "No data in this range.")}</text>");
        }
        else if (trend)
        {
            var step = count > 1 ? plotWidth / (double)(count - 1) : 0;
            double Px(int i) => count > 1 ? Left + (i * step) : Left + (plotWidth / 2.0);
            foreach (var (column, s) in series.Select((c, i) => (c, i)))
            {
                var points = string.Join(' ', report.Rows.Select((r, i) => r.Values.GetValueOrDefault(column.Name) is { } v ? string.Create(CultureInfo.InvariantCulture, $"{Px(i):0.#},{Y(v):0.#}") : null).Where(p => p is not null));
                svg.Append(CultureInfo.InvariantCulture, $"<polyline class=\"series\" data-series=\"{X(column.Name)}\" fill=\"none\" stroke=\"{Colours[s % Colours.Length]}\" stroke-width=\"2\" points=\"{points}\"/>");
            }

            for (var i = 0; i < report.Rows.Count; i += labelEvery)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Px(i):0.#}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\" font-size=\"10\">{X(report.Rows[i].Key[5..])}</text>");
            }
        }
        else
        {
            var slot = plotWidth / (double)count;
            var barWidth = Math.Max(1, (slot * 0.8) / Math.Max(series.Count, 1));
            foreach (var (row, i) in report.Rows.Select((r, i) => (r, i)))
            {
                foreach (var (column, s) in series.Select((c, j) => (c, j)))
                {
                    var value = row.Values.GetValueOrDefault(column.Name) ?? 0;
                    var x = Left + (i * slot) + (slot * 0.1) + (s * barWidth);
                    svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"{x:0.#}\" y=\"{Y(value):0.#}\" width=\"{barWidth:0.#}\" height=\"{Top + plotHeight - Y(value):0.#}\" fill=\"{Colours[s % Colours.Length]}\"><title>{X($"{row.Key}: {column.Label} {Format(value)}")}</title></rect>");
                }

                if (i % labelEvery == 0)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + (i * slot) + (slot / 2):0.#}\" y=\"{Top + plotHeight + 16}\" text-anchor=\"middle\" font-size=\"10\">{X(Shorten(row.Key, Math.Max(4, (int)(slot / 6))))}</text>");
                }
            }
        }

        // Legend: one swatch per series, under the x axis label.
        var legendX = Left;
        foreach (var (column, s) in series.Select((c, i) => (c, i)))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"legend\"><rect x=\"{legendX}\" y=\"{Height - 22}\" width=\"12\" height=\"12\" fill=\"{Colours[s % Colours.Length]}\"/><text x=\"{legendX + 16}\" y=\"{Height - 12}\">{X(column.Label)}</text></g>");
            legendX += 24 + (int)(column.Label.Length * 6.2);
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Text for SVG/XML: markup characters escaped, control characters XML forbids dropped.</summary>
    public static string X(string text) => WebUtility.HtmlEncode(new string(text.Where(c => c >= ' ' || c is '\t' or '\n').ToArray()));

    private static string Capital(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Format(double value) => value.ToString(value >= 100 || value == Math.Floor(value) ? "0" : "0.#", CultureInfo.InvariantCulture);

    /// <summary>A round number at or above the largest value, so the axis reads 0, 25, 50…</summary>
    private static double NiceCeiling(double max)
    {
        if (max <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(max)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
        {
            if (step * magnitude >= max)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }
}
