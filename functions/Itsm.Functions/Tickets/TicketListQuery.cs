using System.Globalization;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tickets;

/// <summary>The query string of <c>GET /api/tickets</c>: filters, sort, page size and continuation token.</summary>
public sealed record TicketListQuery(IReadOnlyList<QueryFilter> Filters, QuerySort Sort, int PageSize, string? Continuation, Dictionary<string, string[]> Errors)
{
    public const int MaxPageSize = 100;

    public static readonly IReadOnlyList<string> Parameters =
    [
        "type", "state", "priority", "assignee", "group", "requester", "ci", "q",
        "createdFrom", "createdTo", "updatedFrom", "updatedTo", "sort", "pageSize", "continuationToken",
    ];

    private static readonly HashSet<string> Known = new(Parameters, StringComparer.Ordinal);

    private static readonly string[] Sortable = ["createdAt", "updatedAt", "priority", "number"];

    public static TicketListQuery Parse(HttpTriggerRequest request, CallerPrincipal caller)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var filters = new List<QueryFilter>();
        foreach (var name in request.Query.Keys.Where(k => !Known.Contains(k)))
        {
            errors[name] = ["is not a known query parameter."];
        }

        string? Value(string name) => request.QueryValue(name) is { Length: > 0 } v ? v : null;

        ListQueryParameters.AddEnumList<TicketType>(filters, errors, "type", Value("type"));
        ListQueryParameters.AddEnumList<TicketState>(filters, errors, "state", Value("state"));

        if (Value("priority") is { } priorities)
        {
            var values = priorities.Split(',').Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 5 ? n : -1).ToArray();
            if (values.Contains(-1))
            {
                errors["priority"] = ["must be a comma-separated list of priorities 1 to 5."];
            }
            else
            {
                filters.Add(new QueryFilter("priority", FilterOperator.In, values.Cast<object>().ToArray()));
            }
        }

        AddText(filters, errors, "assignee", "assignee", Value("assignee") == "me" ? caller.UserId : Value("assignee"));
        AddText(filters, errors, "group", "assignmentGroup", Value("group"));
        if (Value("ci") is { } ci)
        {
            filters.Add(new QueryFilter("configurationItems", FilterOperator.ArrayContains, ci));
        }

        if (Value("q") is { } text)
        {
            if (text.Length > 100)
            {
                errors["q"] = ["must be at most 100 characters."];
            }
            else
            {
                filters.Add(new QueryFilter("title", FilterOperator.Contains, text));
            }
        }

        if (caller.IsAgent)
        {
            AddText(filters, errors, "requester", "requester", Value("requester") == "me" ? caller.UserId : Value("requester"));
        }
        else
        {
            // A requester's list is always their own tickets, whatever they ask for.
            filters.Add(new QueryFilter("requester", FilterOperator.Equals, caller.UserId));
        }

        ListQueryParameters.AddInstant(filters, errors, "createdFrom", "createdAt", Value("createdFrom"), FilterOperator.GreaterThanOrEqual);
        ListQueryParameters.AddInstant(filters, errors, "createdTo", "createdAt", Value("createdTo"), FilterOperator.LessThan);
        ListQueryParameters.AddInstant(filters, errors, "updatedFrom", "updatedAt", Value("updatedFrom"), FilterOperator.GreaterThanOrEqual);
        ListQueryParameters.AddInstant(filters, errors, "updatedTo", "updatedAt", Value("updatedTo"), FilterOperator.LessThan);
        var sort = ListQueryParameters.Sort(Value("sort"), Sortable, "-updatedAt", errors);
        var pageSize = ListQueryParameters.PageSize(Value("pageSize"), MaxPageSize, errors);
        return new TicketListQuery(filters, sort, pageSize, Value("continuationToken"), errors);
    }

    private static void AddText(List<QueryFilter> filters, Dictionary<string, string[]> errors, string parameter, string field, string? value)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length > 100)
        {
            errors[parameter] = ["must be at most 100 characters."];
            return;
        }

        filters.Add(new QueryFilter(field, FilterOperator.Equals, value));
    }
}
