using Itsm.Functions.Hosting;

namespace Itsm.Functions.Sla;

/// <summary>
/// What a tenant starts with before its admins store SLA settings of their own: two calendars (around the clock, and
/// business hours Monday to Friday 08:00-17:00 UTC) and two policies (priority 1 and 2 incidents around the clock;
/// incidents and service requests otherwise in business hours), each with response and resolution targets per priority.
/// They are shown and read by the SLA admin API like stored ones (version 1, created by <see cref="Author"/>), and
/// the first PUT of a calendar or a policy stores the tenant's own settings, starting from these. Version 1 of a
/// default calendar is part of the product and never changes, so a clock that ran under it keeps its arithmetic.
/// </summary>
public static class SlaDefaults
{
    public const string Author = "product-defaults";
    public const string AroundTheClock = "around-the-clock";
    public const string BusinessHours = "business-hours";

    private static readonly string AllDays = string.Join(",", Enum.GetNames<DayOfWeek>().Select(d => $"\"{d.ToLowerInvariant()}\":[\"00:00-24:00\"]"));
    private static readonly string Weekdays = string.Join(",", new[] { "monday", "tuesday", "wednesday", "thursday", "friday" }.Select(d => $"\"{d}\":[\"08:00-17:00\"]"));

    private static readonly IReadOnlyDictionary<string, CalendarDefinition> Calendars = new Dictionary<string, CalendarDefinition>(StringComparer.Ordinal)
    {
        [AroundTheClock] = Calendar("""{"name":"Around the clock","timeZone":"Etc/UTC","weeklyHours":{""" + AllDays + "}}"),
        [BusinessHours] = Calendar("""{"name":"Business hours (Monday to Friday 08:00-17:00 UTC; replace it with your office's zone and holidays)","timeZone":"Etc/UTC","weeklyHours":{""" + Weekdays + "}}"),
    };

    private static readonly IReadOnlyList<SlaPolicy> Policies =
    [
        Policy("critical-incidents", """
            {"name":"Priority 1 and 2 incidents, around the clock","order":100,"appliesTo":{"types":["Incident"],"priorities":[1,2]},
             "calendarId":"around-the-clock","responseMinutes":{"1":15,"2":30},"resolutionMinutes":{"1":240,"2":480},
             "pauseStates":["OnHold:AwaitingCaller"],"warnings":[50,75,90],"onBreach":{"notify":["Assignee","GroupManager"]}}
            """),
        Policy("business-hours-service", """
            {"name":"Incidents and service requests, business hours","order":110,"appliesTo":{"types":["Incident","ServiceRequest"]},
             "calendarId":"business-hours","responseMinutes":{"1":60,"2":120,"3":240,"4":540,"5":1080},
             "resolutionMinutes":{"1":540,"2":1080,"3":1620,"4":2700,"5":5400},
             "pauseStates":["OnHold:AwaitingCaller","OnHold:AwaitingVendor","OnHold:AwaitingApproval"],"warnings":[50,75,90],
             "onBreach":{"notify":["Assignee","GroupManager"]}}
            """),
    ];

    /// <summary>The settings of a tenant that has stored none.</summary>
    public static SlaSettingsDocument Settings(string tenantId) =>
        new(SlaSettingsDocument.DocumentId, tenantId, Calendars.Keys.ToDictionary(id => id, _ => 1, StringComparer.Ordinal), Policies, DateTimeOffset.UnixEpoch, Author);

    /// <summary>Version 1 of a default calendar, as if stored; null for any other calendar or version.</summary>
    public static SlaCalendarDocument? Calendar(string tenantId, string calendarId, int version) =>
        version == 1 && Calendars.TryGetValue(calendarId, out var definition)
            ? new SlaCalendarDocument(SlaCalendarDocument.DocumentIdFor(calendarId, 1), tenantId, calendarId, 1, definition, DateTimeOffset.UnixEpoch, Author)
            : null;

    private static CalendarDefinition Calendar(string json) =>
        CalendarDefinition.Read(JsonBodyReader.Parse(json, out _)!) ?? throw new InvalidOperationException("A default calendar is invalid.");

    private static SlaPolicy Policy(string id, string json)
    {
        var body = JsonBodyReader.Parse(json, out _)!;
        return SlaPolicy.Read(body, id, [AroundTheClock, BusinessHours]) ?? throw new InvalidOperationException($"The default policy '{id}' is invalid: {string.Join("; ", body.Errors.Select(e => $"{e.Key} {e.Value[0]}"))}");
    }
}
