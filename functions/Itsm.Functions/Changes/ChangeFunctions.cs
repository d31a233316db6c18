using Itsm.Functions.Approvals;
using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Changes;

/// <summary>The change management API under <c>/api/changes</c>: calendar, risk, conflicts, overrides, windows.</summary>
public sealed class ChangeFunctions(HttpEndpoint http)
{
    [Function("Changes_Calendar")]
    [ApiDoc("Scheduled changes and change windows overlapping [from, to), filtered by ci, service or group (agents).", QueryParameters = ["from", "to", "ci", "service", "group"])]
    public Task<IResult> ChangesCalendar([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "changes/calendar")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).CalendarAsync(api));

    [Function("Changes_ReadAssessment")]
    [ApiDoc("A change's risk score, its conflicts and its approvals (agents).")]
    public Task<IResult> ChangesAssessment([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "changes/{id}/assessment")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).AssessmentAsync(api, Id(api)));

    [Function("Changes_PutRisk")]
    [ApiDoc("Answer the change's risk questionnaire; returns the new risk score (agents).")]
    public Task<IResult> ChangesPutRisk([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "changes/{id}/risk")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PutRiskAsync(api, Id(api)));

    [Function("Changes_OverrideConflicts")]
    [ApiDoc("Let an emergency change's approval go on despite its conflicts, with a recorded reason (change managers).")]
    public Task<IResult> ChangesOverrideConflicts([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "changes/{id}/override-conflicts")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, OverrideAsync, durable);

    [Function("Changes_ListTemplates")]
    [ApiDoc("The standard change catalogue: active pre-approved templates (admins also see retired ones).")]
    public Task<IResult> ChangesListTemplates([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "changes/templates")] HttpRequest req) =>
        http.ApiAsync(req, api => Templates(api).ListAsync(api));

    [Function("Changes_GetTemplate")]
    [ApiDoc("A standard change template, its current version or ?version=N (agents).", QueryParameters = ["version"])]
    public Task<IResult> ChangesGetTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "changes/templates/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Templates(api).GetAsync(api, Id(api)));

    [Function("Changes_RaiseFromTemplate")]
    [ApiDoc("Raise a standard change from an active template: {plannedStart, plannedEnd?, title?, description?, configurationItems?, assignee?} (agents).")]
    public Task<IResult> ChangesRaiseFromTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "changes/templates/{id}/changes")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Templates(api).RaiseAsync(api, Id(api)), durable);

    [Function("Admin_PutChangeTemplate")]
    [ApiDoc("Create a standard change template or save its next version (admins).")]
    public Task<IResult> AdminPutChangeTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/changes/templates/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Templates(api).PutAsync(api, Id(api)));

    [Function("Admin_GetChangeSettings")]
    [ApiDoc("The tenant's freeze and maintenance windows and the related-CI depth of conflict detection.")]
    public Task<IResult> AdminGetChangeSettings([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/changes/settings")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).GetSettingsAsync(api));

    [Function("Admin_PutChangeSettings")]
    [ApiDoc("Replace the tenant's freeze and maintenance windows (admins).")]
    public Task<IResult> AdminPutChangeSettings([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/changes/settings")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).PutSettingsAsync(api));

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

        var reason = body.String("reason", required: true, maxLength: 1000, multiLine: true);
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

/// <summary>The feature's services.</summary>
public static class ChangeFeature
{
    public static IServiceCollection AddChanges(this IServiceCollection services)
    {
        services.TryAddSingleton<IChangeCmdb, StandaloneChangeCmdb>();
        return services.AddSingleton<ChangeService>().AddSingleton<StandardChangeTemplates>();
    }
}
