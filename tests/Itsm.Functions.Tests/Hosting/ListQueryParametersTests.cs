using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;

namespace Itsm.Functions.Tests.Hosting;

/// <summary>The query-string rules the ticket and CMDB lists share.</summary>
public class ListQueryParametersTests
{
    [Theory]
    [InlineData("2026-03-02T08:00:00Z")]
    [InlineData("2026-03-02T09:00:00+01:00")]
    [InlineData("2026-03-02T03:00:00-05:00")]
    public void An_instant_with_an_offset_filters_at_that_utc_instant(string text)
    {
        var filters = new List<QueryFilter>();
        var errors = new Dictionary<string, string[]>();

        ListQueryParameters.AddInstant(filters, errors, "updatedFrom", "updatedAt", text, FilterOperator.GreaterThanOrEqual);

        Assert.Empty(errors);
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero), Assert.Single(filters).Value);
    }

    [Theory]
    [InlineData("2026-03-02T08:00:00")]
    [InlineData("2026-03-02")]
    [InlineData("yesterday")]
    public void An_instant_without_an_offset_is_refused_by_name(string text)
    {
        var filters = new List<QueryFilter>();
        var errors = new Dictionary<string, string[]>();

        ListQueryParameters.AddInstant(filters, errors, "updatedFrom", "updatedAt", text, FilterOperator.GreaterThanOrEqual);

        Assert.Empty(filters);
        Assert.Contains("offset", Assert.Single(errors["updatedFrom"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Sort_and_page_size_are_checked_against_their_limits()
    {
        var errors = new Dictionary<string, string[]>();

        Assert.Equal(new QuerySort("priority", true), ListQueryParameters.Sort("-priority", ["priority", "number"], "number", errors));
        Assert.Equal(new QuerySort("number", false), ListQueryParameters.Sort(null, ["priority", "number"], "number", errors));
        Assert.Equal(40, ListQueryParameters.PageSize("40", 100, errors));
        Assert.Empty(errors);

        ListQueryParameters.Sort("colour", ["priority", "number"], "number", errors);
        ListQueryParameters.PageSize("101", 100, errors);
        Assert.Equal(["pageSize", "sort"], errors.Keys.Order(StringComparer.Ordinal));
    }
}
