namespace Itsm.Functions.Hosting;

/// <summary>One CSV cell of an export: quoted when it must be, and neutralised so spreadsheets do not run it as a formula.</summary>
public static class CsvCell
{
    public static string Of(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        // Cells starting with = + - @ are neutralised so spreadsheets do not run them as formulas.
        var safe = value[0] is '=' or '+' or '-' or '@' ? "'" + value : value;
        return safe.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }
}
