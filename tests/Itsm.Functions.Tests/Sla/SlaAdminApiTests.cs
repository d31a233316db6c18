using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Security;
using Itsm.Functions.Tests.Support;

namespace Itsm.Functions.Tests.Sla;

/// <summary>The admin API for business calendars and SLA policies: validation, roles, versions and tenant isolation.</summary>
public class SlaAdminApiTests
{
    private const string Office = """
        {"name":"Berlin office","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-12:00","13:00-17:00"],"friday":["08:00-16:00"]},
         "holidays":["2026-12-24"],"recurringHolidays":["12-25"],"exceptions":[{"date":"2026-12-31","hours":["08:00-12:00"]}]}
        """;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static HttpClient Admin(StandaloneApp app, string tenant = "contoso") => app.As("root", tenant, AppRoles.Admin);

    private static async Task<Dictionary<string, string>> ErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        return problem.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => string.Join(" ", p.Value.EnumerateArray().Select(m => m.GetString())));
    }

    [Theory]
    [InlineData("""{"name":"x","timeZone":"Mars/Olympus","weeklyHours":{"monday":["08:00-17:00"]}}""", "timeZone", "not a known IANA time zone")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-12:00","11:00-17:00"]}}""", "weeklyHours.monday", "overlap")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["12:00-08:00"]}}""", "weeklyHours.monday", "inverted")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{}}""", "weeklyHours", "no working time")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["8 to 5"]}}""", "weeklyHours.monday", "not a working interval")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"funday":["08:00-17:00"]}}""", "weeklyHours.funday", "not a known field")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-17:00"]},"holidays":["24.12.2026"]}""", "holidays", "yyyy-MM-dd")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-17:00"]},"recurringHolidays":["02-30"]}""", "recurringHolidays", "not a day of the year")]
    [InlineData("""{"name":"x","timeZone":"Europe/Berlin","weeklyHours":{"monday":["08:00-17:00"]},"exceptions":[{"date":"2026-12-31"}]}""", "exceptions[0].hours", "required")]
    public async Task An_invalid_calendar_is_rejected_with_the_field_and_the_reason_and_nothing_is_stored(string body, string field, string reason)
    {
        await using var app = await StandaloneApp.StartAsync();

        var errors = await ErrorsAsync(await Admin(app).PutAsync("/api/manage/sla/calendars/office", Json(body)));

        // Interval problems name the interval: weeklyHours.monday[1].
        var messages = errors.Where(e => e.Key == field || e.Key.StartsWith(field + "[", StringComparison.Ordinal)).Select(e => e.Value).ToArray();
        Assert.True(messages.Length > 0, $"errors were: {string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"))}");
        Assert.Contains(messages, m => m.Contains(reason, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(HttpStatusCode.NotFound, (await Admin(app).GetAsync("/api/manage/sla/calendars/office")).StatusCode);
    }

    [Fact]
    public async Task A_calendar_whose_only_working_days_are_all_holidays_is_refused_rather_than_looping()
    {
        await using var app = await StandaloneApp.StartAsync();
        var everyDay = string.Join(",", Enumerable.Range(1, 12).SelectMany(m => Enumerable.Range(1, DateTime.DaysInMonth(2024, m)).Select(d => $"\"{m:00}-{d:00}\"")));

        var errors = await ErrorsAsync(await Admin(app).PutAsync("/api/manage/sla/calendars/never", Json(
            $$"""{"name":"Never","timeZone":"Etc/UTC","weeklyHours":{"monday":["08:00-17:00"]},"recurringHolidays":[{{everyDay}}]}""")));

        Assert.Contains("no working time", errors["recurringHolidays"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_calendar_is_versioned_and_read_back_as_written()
    {
        await using var app = await StandaloneApp.StartAsync();

        Assert.Equal(HttpStatusCode.Created, (await Admin(app).PutAsync("/api/manage/sla/calendars/office", Json(Office))).StatusCode);
        var second = await Admin(app).PutAsync("/api/manage/sla/calendars/office", Json(Office.Replace("Berlin office", "Berlin HQ", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var calendar = await app.As("sam", "contoso", AppRoles.Agent).GetFromJsonAsync<JsonElement>("/api/manage/sla/calendars/office");
        Assert.Equal((2, "Berlin HQ"), (calendar.GetProperty("version").GetInt32(), calendar.GetProperty("name").GetString()));
        Assert.Equal(["08:00-16:00"], calendar.GetProperty("weeklyHours").GetProperty("friday").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal("2026-12-31", calendar.GetProperty("exceptions")[0].GetProperty("date").GetString());
    }

    [Theory]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":0}}""", "resolutionMinutes.3", "between 1 and")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"7":60}}""", "resolutionMinutes.7", "priority")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"warnings":[50,100]}""", "warnings", "1 to 99")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"warnings":[0]}""", "warnings", "1 to 99")]
    [InlineData("""{"name":"P","calendarId":"nowhere","resolutionMinutes":{"3":60}}""", "calendarId", "no calendar 'nowhere'")]
    [InlineData("""{"name":"P","calendarId":"office"}""", "resolutionMinutes", "at least one target")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"pauseStates":["Resolved"]}""", "pauseStates", "cannot pause")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"pauseStates":["OnHold:AwaitingGodot"]}""", "pauseStates", "not a hold reason")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"appliesTo":{"types":["Outage"]}}""", "appliesTo.types", "not a ticket type")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"onBreach":{"notify":["Everyone"]}}""", "onBreach.notify", "not a recipient")]
    [InlineData("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60},"olas":[{"group":"net","resolutionMinutes":{"3":60}},{"group":"NET","resolutionMinutes":{"3":30}}]}""", "olas[1].group", "two OLA targets")]
    public async Task An_invalid_policy_is_rejected_with_the_field_and_the_reason_and_nothing_is_stored(string body, string field, string reason)
    {
        await using var app = await StandaloneApp.StartAsync();
        await Admin(app).PutAsync("/api/manage/sla/calendars/office", Json(Office));

        var errors = await ErrorsAsync(await Admin(app).PutAsync("/api/manage/sla/policies/p1", Json(body)));

        Assert.True(errors.ContainsKey(field), $"errors were: {string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}"))}");
        Assert.Contains(reason, errors[field], StringComparison.OrdinalIgnoreCase);
        var list = await Admin(app).GetFromJsonAsync<JsonElement>("/api/manage/sla/policies");
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), p => p.GetProperty("id").GetString() == "p1");
    }

    [Fact]
    public async Task Only_admins_change_calendars_and_policies_and_each_tenant_sees_its_own()
    {
        await using var app = await StandaloneApp.StartAsync();
        var agent = app.As("sam", "contoso", AppRoles.Agent);

        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PutAsync("/api/manage/sla/calendars/office", Json(Office))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await Admin(app).PutAsync("/api/manage/sla/calendars/office", Json(Office))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.PutAsync("/api/manage/sla/policies/p1", Json("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60}}"""))).StatusCode);
        var created = await Admin(app).PutAsync("/api/manage/sla/policies/p1", Json("""{"name":"P","calendarId":"office","resolutionMinutes":{"3":60}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await Admin(app, "fabrikam").GetAsync("/api/manage/sla/calendars/office")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin(app, "fabrikam").GetAsync("/api/manage/sla/policies/p1")).StatusCode);
        var policy = await agent.GetFromJsonAsync<JsonElement>("/api/manage/sla/policies/p1");
        Assert.Equal([50, 75, 90], policy.GetProperty("warnings").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal(1, policy.GetProperty("version").GetInt32());
    }
}
