using System.Globalization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Cmdb;

/// <summary>The query string of <c>GET /api/cis</c>: filters, sort, page size and continuation token.</summary>
public sealed record CiListQuery(IReadOnlyList<QueryFilter> Filters, QuerySort Sort, int PageSize, string? Continuation, Dictionary<string, string[]> Errors)
{
    public const int MaxPageSize = 100;

    public static readonly IReadOnlyList<string> Parameters =
    [
        "class", "status", "environment", "criticality", "ownerGroup", "supportGroup", "externalKey", "q",
        "updatedFrom", "updatedTo", "sort", "pageSize", "continuationToken",
    ];

    private static readonly string[] Sortable = ["name", "updatedAt", "createdAt"];

    public static CiListQuery Parse(HttpTriggerRequest request)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var filters = new List<QueryFilter>();
        foreach (var name in request.Query.Keys.Where(k => !Parameters.Contains(k)))
        {
            errors[name] = ["is not a known query parameter."];
        }

        string? Value(string name) => request.QueryValue(name) is { Length: > 0 } v ? v : null;

        if (Value("class") is { } classes)
        {
            var names = classes.Split(',');
            if (names.Any(n => !CiClasses.NamePattern().IsMatch(n)))
            {
                errors["class"] = ["must be a comma-separated list of class names."];
            }
            else
            {
                filters.Add(new QueryFilter("class", FilterOperator.In, names.Cast<object>().ToArray()));
            }
        }

        AddEnumList<CiStatus>(filters, errors, "status", Value("status"));
        AddEnumList<CiEnvironment>(filters, errors, "environment", Value("environment"));
        AddEnumList<CiCriticality>(filters, errors, "criticality", Value("criticality"));
        foreach (var name in new[] { "ownerGroup", "supportGroup", "externalKey" })
        {
            if (Value(name) is { } text)
            {
                if (text.Length > CiRules.MaxExternalKeyLength)
                {
                    errors[name] = [$"must be at most {CiRules.MaxExternalKeyLength} characters."];
                }
                else
                {
                    filters.Add(new QueryFilter(name, FilterOperator.Equals, text));
                }
            }
        }

        if (Value("q") is { } q)
        {
            if (q.Length > 100)
            {
                errors["q"] = ["must be at most 100 characters."];
            }
            else
            {
                filters.Add(new QueryFilter("name", FilterOperator.Contains, q));
            }
        }

        AddInstant(filters, errors, Value("updatedFrom"), "updatedFrom", FilterOperator.GreaterThanOrEqual);
        AddInstant(filters, errors, Value("updatedTo"), "updatedTo", FilterOperator.LessThan);

        var sortText = Value("sort") ?? "name";
        var descending = sortText.StartsWith('-');
        var sortField = sortText.TrimStart('-');
        if (!Sortable.Contains(sortField))
        {
            errors["sort"] = [$"must be one of {string.Join(", ", Sortable)}, with '-' for descending."];
        }

        var pageSize = 25;
        if (Value("pageSize") is { } size && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > MaxPageSize))
        {
            errors["pageSize"] = [$"must be between 1 and {MaxPageSize}."];
        }

        return new CiListQuery(filters, new QuerySort(Sortable.Contains(sortField) ? sortField : "name", descending), pageSize, Value("continuationToken"), errors);
    }

    private static void AddEnumList<TEnum>(List<QueryFilter> filters, Dictionary<string, string[]> errors, string name, string? text)
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

    private static void AddInstant(List<QueryFilter> filters, Dictionary<string, string[]> errors, string? text, string parameter, FilterOperator op)
    {
        if (text is null)
        {
            return;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant) || !(text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal)))
        {
            errors[parameter] = ["must be an ISO 8601 instant with an offset, e.g. 2026-03-02T08:00:00Z."];
            return;
        }

        filters.Add(new QueryFilter("updatedAt", op, instant.ToUniversalTime()));
    }
}
