using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Approvals;

/// <summary>The approvals API under <c>/api/approvals</c>, the approval page, and the tenant's approval settings.</summary>
public sealed class ApprovalFunctions(HttpEndpoint http)
{
    [Function("Approvals_Get")]
    [ApiDoc("An approval: its levels, approvers, every decision (who, when, channel, comment, on behalf of) and the prompts sent (agents and the approval's approvers).")]
    public Task<IResult> ApprovalsGet([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approvals/{id}")] HttpRequest req) =>
        http.ApiAsync(req, GetAsync);

    [Function("Tickets_Approvals")]
    [ApiDoc("The approvals of a change or service request, oldest first (agents, and the requester of their own ticket, without the approvers' links).")]
    public Task<IResult> TicketsApprovals([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/approvals")] HttpRequest req) =>
        http.ApiAsync(req, ListForTicketAsync);

    [Function("Approvals_Decide")]
    [ApiDoc("Approve or reject as an approver (or an active delegate) of the open level: {verdict: Approve|Reject, comment?}.")]
    public Task<IResult> ApprovalsDecide([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approvals/{id}/decisions")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, DecideAsync, durable);

    [Function("ApprovalPage_Show")]
    [ApiDoc("The approval page of a signed link (?t=): the change summary, risk and conflicts. Never decides.", RequiresToken = false)]
    public Task<IResult> ApprovalPageShow([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "approval-page")] HttpRequest req) =>
        http.PublicAsync(req, ApprovalPage.ShowAsync);

    [Function("ApprovalPage_Decide")]
    [ApiDoc("The approval page's form: decides once, for the signed-in person the link was sent to.", RequiresToken = false)]
    public Task<IResult> ApprovalPageDecide([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "approval-page")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.PublicAsync(req, ApprovalPage.DecideAsync, durable);

    [Function("Admin_GetApprovalSettings")]
    [ApiDoc("The tenant's approval policies, groups, managers and delegations.")]
    public Task<IResult> AdminGetApprovalSettings([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/approvals/settings")] HttpRequest req) =>
        http.ApiAsync(req, GetSettingsAsync);

    [Function("Admin_PutApprovalSettings")]
    [ApiDoc("Replace the tenant's approval policies, groups, managers and delegations (admins).")]
    public Task<IResult> AdminPutApprovalSettings([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/approvals/settings")] HttpRequest req) =>
        http.ApiAsync(req, PutSettingsAsync);

    private static async Task<HttpResponseOutput> GetAsync(ApiContext api)
    {
        var id = api.Request.RouteValue("id") ?? "";
        var record = IsId(id) ? (await api.Services.GetRequiredService<ApprovalStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken))?.Document : null;
        var mayRead = record is not null && (api.Caller.IsAgent
            || record.Levels.Any(l => l.Approvers.Any(a => a.UserId == api.Caller.UserId || a.Delegate == api.Caller.UserId)));
        if (!mayRead)
        {
            return ApiFunctions.NotFound($"Approval '{id}'");
        }

        // Approvers see who was prompted, not the links sent to others.
        return HttpResults.Ok(api.Caller.IsAgent ? record : WithoutLinks(record!));
    }

    private static async Task<HttpResponseOutput> ListForTicketAsync(ApiContext api)
    {
        var id = api.Request.RouteValue("id") ?? "";
        var ticket = IsId(id) ? (await api.Services.GetRequiredService<Tickets.TicketStore>().ReadAsync(api.Caller.TenantId, id, api.CancellationToken))?.Document : null;
        if (ticket is null || !(api.Caller.IsAgent || ticket.Requester.Id == api.Caller.UserId))
        {
            return ApiFunctions.NotFound($"Ticket '{id}'");
        }

        var approvals = await api.Services.GetRequiredService<ApprovalStore>().ForSubjectAsync(api.Caller.TenantId, ticket.Id, api.CancellationToken);
        return HttpResults.Ok(new
        {
            ticketId = ticket.Id,
            number = ticket.Number,
            awaitingApproval = ApprovalSubjects.AwaitsApproval(ticket),
            approvals = api.Caller.IsAgent ? approvals : approvals.Select(WithoutLinks).ToArray(),
        });
    }

    private static ApprovalRecord WithoutLinks(ApprovalRecord record) => record with { Prompts = record.Prompts.Select(p => p with { Link = "" }).ToArray(), UsedLinks = [] };

    private static async Task<HttpResponseOutput> DecideAsync(ApiContext api)
    {
        var id = api.Request.RouteValue("id") ?? "";
        var body = JsonBodyReader.Parse(api.Request.Body, out var parseErrors);
        if (body is null)
        {
            return HttpResults.ValidationProblem(parseErrors);
        }

        var verdict = body.Enum<ApprovalVerdict>("verdict", required: true);
        var comment = body.String("comment", maxLength: 2000, multiLine: true);
        body.RejectUnknown();
        if (body.HasErrors)
        {
            return HttpResults.ValidationProblem(body.Errors);
        }

        if (!IsId(id))
        {
            return ApiFunctions.NotFound($"Approval '{id}'");
        }

        var decisions = api.Services.GetRequiredService<ApprovalDecisions>();
        var (record, refusal) = await decisions.AnswerAsync(api.Caller.TenantId, id, api.Caller.UserId, verdict!.Value, "api", comment, null, null, api.Http.DurableClient(), api.CancellationToken);
        if (refusal is not null)
        {
            return refusal.Status == 404 ? ApiFunctions.NotFound($"Approval '{id}'") : HttpResults.Problem(refusal.Status, refusal.Title, refusal.Detail);
        }

        return HttpResults.Ok(new { approvalId = id, recorded = record!.Decisions[^1], state = record.State });
    }

    private static async Task<HttpResponseOutput> GetSettingsAsync(ApiContext api) =>
        api.Caller.IsAgent
            ? HttpResults.Ok(await api.Services.GetRequiredService<ApprovalStore>().StoredApprovalSettingsAsync(api.Caller.TenantId, api.CancellationToken) ?? ApprovalDefaults.Settings)
            : ApiFunctions.Forbidden("Approval settings are for agents.");

    private static async Task<HttpResponseOutput> PutSettingsAsync(ApiContext api)
    {
        if (!api.Caller.IsAdmin)
        {
            return ApiFunctions.Forbidden("Only admins change approval settings.");
        }

        var settings = Changes.ChangeService.ReadStrict<ApprovalSettings>(api.Request.Body, out var errors);
        if (settings is null)
        {
            return HttpResults.ValidationProblem(errors);
        }

        if (settings.Validate() is { Count: > 0 } invalid)
        {
            return HttpResults.ValidationProblem(invalid);
        }

        var time = api.Services.GetRequiredService<TimeProvider>();
        await api.Services.GetRequiredService<ApprovalStore>().SaveAsync(api.Caller.TenantId, ApprovalStore.ApprovalSettingsId, "approval-settings", settings, time.GetUtcNow(), api.Caller.UserId, api.CancellationToken);
        return HttpResults.Ok(settings);
    }

    private static bool IsId(string id) => id.Length is > 0 and <= 100 && !id.Contains(DocumentKey.LevelSeparator, StringComparison.Ordinal);
}

/// <summary>The feature's services.</summary>
public static class ApprovalFeature
{
    public static IServiceCollection AddApprovals(this IServiceCollection services)
    {
        services.TryAddSingleton<IApprovalNotifier, RecordedApprovalNotifier>();
        services.TryAddSingleton<IApproverDirectory, SettingsApproverDirectory>();
        return services
            .AddSingleton<ApprovalStore>()
            .AddSingleton<Tickets.ITicketWriteRule, ServiceRequestApprovalGate>()
            .AddSingleton<Tickets.ITicketTransitionGuard, ApprovalTransitionGuard>()
            .AddSingleton<ApprovalLinks>()
            .AddSingleton<ApprovalDecisions>()
            .AddSingleton<Tickets.ITicketChangeObserver, ApprovalStarter>();
    }
}
