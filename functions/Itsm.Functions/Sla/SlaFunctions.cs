using System.Xml;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Sla;

/// <summary>The SLA API: a ticket's clocks, and the tenant's calendars and policies under <c>/api/admin/sla</c>.</summary>
public static class SlaFunctions
{
    public static FunctionCatalogBuilder MapSla(this FunctionCatalogBuilder functions) =>
        functions
            .MapApi("Tickets_Sla", "GET", "tickets/{id}/sla", GetTicketSlaAsync,
                new ApiDocs("The ticket's SLA and OLA clocks: targets, due instants, elapsed, remaining and paused business time, state (agents)."))
            .MapApi("Admin_ListSlaCalendars", "GET", "admin/sla/calendars", api => Settings(api).ListCalendarsAsync(api),
                new ApiDocs("The tenant's business calendars (current versions)."))
            .MapApi("Admin_GetSlaCalendar", "GET", "admin/sla/calendars/{id}", api => Settings(api).GetCalendarAsync(api, Id(api)),
                new ApiDocs("A business calendar: time zone, weekly hours, holidays, exceptions."))
            .MapApi("Admin_PutSlaCalendar", "PUT", "admin/sla/calendars/{id}", api => Settings(api).PutCalendarAsync(api, Id(api)),
                new ApiDocs("Create a business calendar or its next version (admins).", RequestSchema: "CalendarDefinition"))
            .MapApi("Admin_ListSlaPolicies", "GET", "admin/sla/policies", api => Settings(api).ListPoliciesAsync(api),
                new ApiDocs("The tenant's SLA policies, in the order they are matched."))
            .MapApi("Admin_GetSlaPolicy", "GET", "admin/sla/policies/{id}", api => Settings(api).GetPolicyAsync(api, Id(api)),
                new ApiDocs("An SLA policy."))
            .MapApi("Admin_PutSlaPolicy", "PUT", "admin/sla/policies/{id}", api => Settings(api).PutPolicyAsync(api, Id(api)),
                new ApiDocs("Create or replace an SLA policy (admins); open tickets follow a replaced policy when it says so.", RequestSchema: "SlaPolicy"), durableClient: true);

    public static IServiceCollection AddSla(this IServiceCollection services) =>
        services
            .AddSingleton<SlaSettings>()
            .AddSingleton<ITicketWriteRule, SlaWriteRule>()
            .AddSingleton<ITicketChangeObserver, SlaClockScheduler>()
            .AddSingleton<ISlaNotifier, RecordedSlaNotifier>();

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
