using System.Xml;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Sla;

/// <summary>The SLA API: a ticket's clocks, and the tenant's calendars and policies under <c>/api/manage/sla</c>.</summary>
public sealed class SlaFunctions(HttpEndpoint http)
{
    [Function("Tickets_Sla")]
    [ApiDoc("The ticket's SLA and OLA clocks: targets, due instants, elapsed, remaining and paused business time, state (agents).")]
    public Task<IResult> TicketsSla([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/sla")] HttpRequest req) =>
        http.ApiAsync(req, GetTicketSlaAsync);

    [Function("Admin_ListSlaCalendars")]
    [ApiDoc("The tenant's business calendars (current versions).")]
    public Task<IResult> AdminListSlaCalendars([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/sla/calendars")] HttpRequest req) =>
        http.ApiAsync(req, api => Settings(api).ListCalendarsAsync(api));

    [Function("Admin_GetSlaCalendar")]
    [ApiDoc("A business calendar: time zone, weekly hours, holidays, exceptions.")]
    public Task<IResult> AdminGetSlaCalendar([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/sla/calendars/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Settings(api).GetCalendarAsync(api, Id(api)));

    [Function("Admin_PutSlaCalendar")]
    [ApiDoc("Create a business calendar or its next version (admins).", RequestSchema = "CalendarDefinition")]
    public Task<IResult> AdminPutSlaCalendar([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/sla/calendars/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Settings(api).PutCalendarAsync(api, Id(api)));

    [Function("Admin_ListSlaPolicies")]
    [ApiDoc("The tenant's SLA policies, in the order they are matched.")]
    public Task<IResult> AdminListSlaPolicies([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/sla/policies")] HttpRequest req) =>
        http.ApiAsync(req, api => Settings(api).ListPoliciesAsync(api));

    [Function("Admin_GetSlaPolicy")]
    [ApiDoc("An SLA policy.")]
    public Task<IResult> AdminGetSlaPolicy([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/sla/policies/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Settings(api).GetPolicyAsync(api, Id(api)));

    [Function("Admin_PutSlaPolicy")]
    [ApiDoc("Create or replace an SLA policy (admins); open tickets follow a replaced policy when it says so.", RequestSchema = "SlaPolicy")]
    public Task<IResult> AdminPutSlaPolicy([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/sla/policies/{id}")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Settings(api).PutPolicyAsync(api, Id(api)), durable);

    private static async Task<HttpResponseOutput> GetTicketSlaAsync(ApiContext api)
    {
        var id = Id(api);
        if (!api.Caller.IsAgent)
        {
            return ApiFunctions.Forbidden("SLA clocks are for agents.");
        }

        if (id.Length is 0 or > 64 || id.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal))
        {
            return ApiFunctions.NotFound($"Ticket '{id}'");
        }

        var stored = await api.Services.GetRequiredService<TicketStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken);
        if (stored is null)
        {
            return ApiFunctions.NotFound($"Ticket '{id}'");
        }

        var settings = Settings(api);
        var now = api.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        var policies = (await settings.ReadAsync(api.Caller.TenantId, api.CancellationToken))?.Policies ?? [];
        var clocks = new List<object>();
        foreach (var sla in stored.Document.Sla)
        {
            var clock = SlaClock.Restore(sla, await settings.CalendarAsync(api.Caller.TenantId, sla.CalendarId, sla.CalendarVersion, api.CancellationToken));
            var warnings = policies.FirstOrDefault(p => p.Id == sla.PolicyId)?.Warnings ?? SlaPolicy.DefaultWarnings;
            var next = warnings.Append(100).Where(p => !sla.FiredThresholds.Contains(p)).Order()
                .Select(p => new { percent = p, at = clock.ThresholdInstant(p) }).FirstOrDefault(t => t.at is not null);
            var paused = clock.Paused(now);
            clocks.Add(new
            {
                sla.Key,
                sla.Metric,
                sla.Group,
                policy = new { id = sla.PolicyId, version = sla.PolicyVersion },
                calendar = new { id = sla.CalendarId, version = sla.CalendarVersion },
                state = clock.State,
                sla.Generation,
                startedAt = clock.StartedAt,
                target = XmlConvert.ToString(clock.Target),
                dueAt = clock.IsStopped ? null : clock.DueAt(),
                elapsed = XmlConvert.ToString(clock.Elapsed(now)),
                remaining = XmlConvert.ToString(clock.Remaining(now) < TimeSpan.Zero ? TimeSpan.Zero : clock.Remaining(now)),
                pausedBusiness = XmlConvert.ToString(paused.Business),
                pausedWall = XmlConvert.ToString(paused.Wall),
                breached = clock.State == SlaClockState.Breached || (!clock.IsStopped && clock.IsBreached(now)),
                breachedAt = clock.BreachedAt ?? (clock.IsBreached(now) ? clock.DueAt() : null),
                stoppedAt = clock.StoppedAt,
                firedThresholds = sla.FiredThresholds,
                nextThreshold = next,
            });
        }

        return HttpResults.Ok(new { ticketId = stored.Document.Id, number = stored.Document.Number, at = now, clocks });
    }

    private static SlaSettings Settings(ApiContext api) => api.Services.GetRequiredService<SlaSettings>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}

/// <summary>The feature's services.</summary>
public static class SlaFeature
{
    public static IServiceCollection AddSla(this IServiceCollection services) =>
        services
            .AddSingleton<SlaSettings>()
            .AddSingleton<ITicketWriteRule, SlaWriteRule>()
            .AddSingleton<ITicketChangeObserver, SlaClockScheduler>()
            .AddSingleton<ISlaNotifier, RecordedSlaNotifier>();
}
