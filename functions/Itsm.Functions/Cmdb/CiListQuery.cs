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

        ListQueryParameters.AddEnumList<CiStatus>(filters, errors, "status", Value("status"));
        ListQueryParameters.AddEnumList<CiEnvironment>(filters, errors, "environment", Value("environment"));
        ListQueryParameters.AddEnumList<CiCriticality>(filters, errors, "criticality", Value("criticality"));
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

        ListQueryParameters.AddInstant(filters, errors, "updatedFrom", "updatedAt", Value("updatedFrom"), FilterOperator.GreaterThanOrEqual);
        ListQueryParameters.AddInstant(filters, errors, "updatedTo", "updatedAt", Value("updatedTo"), FilterOperator.LessThan);
        var sort = ListQueryParameters.Sort(Value("sort"), Sortable, "name", errors);
        var pageSize = ListQueryParameters.PageSize(Value("pageSize"), MaxPageSize, errors);
        return new CiListQuery(filters, sort, pageSize, Value("continuationToken"), errors);
    }
}
