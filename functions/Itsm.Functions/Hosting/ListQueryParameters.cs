using System.Globalization;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The query-string rules every list endpoint shares: comma-separated enum filters, instants with an offset,
/// <c>sort</c> with '-' for descending, and <c>pageSize</c>. Each problem is recorded in <c>errors</c> under the
/// parameter's name.
/// </summary>
public static class ListQueryParameters
{
    public const int DefaultPageSize = 25;

    /// <summary>Adds an In filter on <paramref name="name"/> for a list like <c>New,InProgress</c> (case-sensitive names, no numbers).</summary>
    public static void AddEnumList<TEnum>(List<QueryFilter> filters, Dictionary<string, string[]> errors, string name, string? text)
        where TEnum : struct, Enum
    {
        if (text is null)
        {
            return;
        }

        var values = new List<object>();
        foreach (var part in text.Split(','))
        {
            if (!Enum.TryParse<TEnum>(part, ignoreCase: false, out var value) || int.TryParse(part, out _))
            {
                errors[name] = [$"must be a comma-separated list of: {string.Join(", ", Enum.GetNames<TEnum>())}."];
                return;
            }

            values.Add(value.ToString());
        }

        filters.Add(new QueryFilter(name, FilterOperator.In, values.ToArray()));
    }

    /// <summary>Adds a filter on <paramref name="field"/> for an ISO 8601 instant that states its offset (Z, +hh:mm or -hh:mm).</summary>
    public static void AddInstant(List<QueryFilter> filters, Dictionary<string, string[]> errors, string parameter, string field, string? text, FilterOperator op)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant)
            || !(text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
        {
            errors[parameter] = ["must be an ISO 8601 instant with an offset, e.g. 2026-03-02T08:00:00Z."];
            return;
        }

        filters.Add(new QueryFilter(field, op, instant.ToUniversalTime()));
    }

    /// <summary><c>sort=field</c> or <c>sort=-field</c> among <paramref name="sortable"/>; <paramref name="fallback"/> when absent or refused.</summary>
    public static QuerySort Sort(string? text, IReadOnlyCollection<string> sortable, string fallback, Dictionary<string, string[]> errors)
    {
        var value = text ?? fallback;
        var descending = value.StartsWith('-');
        var field = value.TrimStart('-');
        if (sortable.Contains(field))
        {
            return new QuerySort(field, descending);
        }

        errors["sort"] = [$"must be one of {string.Join(", ", sortable)}, with '-' for descending."];
        return new QuerySort(fallback.TrimStart('-'), fallback.StartsWith('-'));
    }

    public static int PageSize(string? text, int max, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return DefaultPageSize;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is < 1 || size > max)
        {
            errors["pageSize"] = [$"must be between 1 and {max}."];
            return DefaultPageSize;
        }

        return size;
    }
}
