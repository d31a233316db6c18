using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Itsm.Functions.Changes;

/// <summary>The change management API under <c>/api/changes</c>: calendar, risk, conflicts, overrides, windows.</summary>
public static class ChangeFunctions
{
    public static FunctionCatalogBuilder MapChanges(this FunctionCatalogBuilder functions) =>
        functions
            .MapApi("Changes_Calendar", "GET", "changes/calendar", api => Service(api).CalendarAsync(api),
                new ApiDocs("Scheduled changes and change windows overlapping [from, to), filtered by ci, service or group (agents).", QueryParameters: ["from", "to", "ci", "service", "group"]))
            .MapApi("Changes_Assessment", "GET", "changes/{id}/assessment", api => Service(api).AssessmentAsync(api, Id(api)),
                new ApiDocs("A change's risk score, its conflicts and its approvals (agents)."))
            .MapApi("Changes_PutRisk", "PUT", "changes/{id}/risk", api => Service(api).PutRiskAsync(api, Id(api)),
                new ApiDocs("Answer the change's risk questionnaire; returns the new risk score (agents)."))
            .MapApi("Changes_OverrideConflicts", "POST", "changes/{id}/override-conflicts", OverrideAsync,
                new ApiDocs("Let an emergency change's approval go on despite its conflicts, with a recorded reason (change managers)."), durableClient: true)
            .MapApi("Changes_ListTemplates", "GET", "changes/templates", api => Templates(api).ListAsync(api),
                new ApiDocs("The standard change catalogue: active pre-approved templates (admins also see retired ones)."))
            .MapApi("Changes_GetTemplate", "GET", "changes/templates/{id}", api => Templates(api).GetAsync(api, Id(api)),
                new ApiDocs("A standard change template, its current version or ?version=N (agents).", QueryParameters: ["version"]))
            .MapApi("Changes_RaiseFromTemplate", "POST", "changes/templates/{id}/changes", api => Templates(api).RaiseAsync(api, Id(api)),
                new ApiDocs("Raise a standard change from an active template: {plannedStart, plannedEnd?, title?, description?, configurationItems?, assignee?} (agents)."), durableClient: true)
            .MapApi("Admin_PutChangeTemplate", "PUT", "admin/changes/templates/{id}", api => Templates(api).PutAsync(api, Id(api)),
                new ApiDocs("Create a standard change template or save its next version (admins)."))
            .MapApi("Admin_GetChangeSettings", "GET", "admin/changes/settings", api => Service(api).GetSettingsAsync(api),
                new ApiDocs("The tenant's freeze and maintenance windows and the related-CI depth of conflict detection."))
            .MapApi("Admin_PutChangeSettings", "PUT", "admin/changes/settings", api => Service(api).PutSettingsAsync(api),
                new ApiDocs("Replace the tenant's freeze and maintenance windows (admins)."));

    public static IServiceCollection AddChanges(this IServiceCollection services)
    {
        services.TryAddSingleton<IChangeCmdb, StandaloneChangeCmdb>();
        return services.AddSingleton<ChangeService>().AddSingleton<StandardChangeTemplates>();
    }

    private static async Task<HttpResponseOutput> OverrideAsync(ApiContext api)
    {
        if (!(api.Caller.IsInRole(AppRoles.ChangeManager) || api.Caller.IsAdmin))
        {
            return ApiFunctions.Forbidden("Only change managers override conflicts.");
        }

        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var reason = body.String("reason", required: true, maxLength: 1000);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        if (await Service(api).ReadChangeAsync(api, Id(api)) is not { } ticket)
        {
            return ApiFunctions.NotFound($"Change '{Id(api)}'");
        }

        var (record, refusal) = await api.Services.GetRequiredService<ApprovalDecisions>().OverrideAsync(api.Caller.TenantId, ticket.Id, api.Caller, reason!.Trim(), api.Http.DurableClient(), api.CancellationToken);
        return refusal is not null
            ? HttpResults.Problem(refusal.Status, refusal.Title, refusal.Detail)
            : HttpResults.Ok(new { approvalId = record!.Id, state = record.State, record.Override });
    }

    private static ChangeService Service(ApiContext api) => api.Services.GetRequiredService<ChangeService>();

    private static StandardChangeTemplates Templates(ApiContext api) => api.Services.GetRequiredService<StandardChangeTemplates>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}
