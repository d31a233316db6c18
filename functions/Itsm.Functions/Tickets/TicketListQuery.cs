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

        if (Value("type") is { } types)
        {
            AddEnumList<TicketType>(filters, errors, "type", types);
        }

        if (Value("state") is { } states)
        {
            AddEnumList<TicketState>(filters, errors, "state", states);
        }

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

        AddInstant(filters, errors, request, "createdFrom", "createdAt", FilterOperator.GreaterThanOrEqual);
        AddInstant(filters, errors, request, "createdTo", "createdAt", FilterOperator.LessThan);
        AddInstant(filters, errors, request, "updatedFrom", "updatedAt", FilterOperator.GreaterThanOrEqual);
        AddInstant(filters, errors, request, "updatedTo", "updatedAt", FilterOperator.LessThan);

        var sortText = Value("sort") ?? "-updatedAt";
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

        return new TicketListQuery(filters, new QuerySort(Sortable.Contains(sortField) ? sortField : "updatedAt", descending), pageSize, Value("continuationToken"), errors);
    }

    private static void AddEnumList<TEnum>(List<QueryFilter> filters, Dictionary<string, string[]> errors, string name, string text)
        where TEnum : struct, Enum
    {
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

    private static void AddInstant(List<QueryFilter> filters, Dictionary<string, string[]> errors, HttpTriggerRequest request, string parameter, string field, FilterOperator op)
    {
        if (request.QueryValue(parameter) is not { Length: > 0 } text)
        {
            return;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var instant) || !(text.EndsWith('Z') || text.Contains('+', StringComparison.Ordinal) || text.LastIndexOf('-') > 9))
        {
            errors[parameter] = ["must be an ISO 8601 instant with an offset, e.g. 2026-03-02T08:00:00Z."];
            return;
        }

        filters.Add(new QueryFilter(field, op, instant.ToUniversalTime()));
    }
}
