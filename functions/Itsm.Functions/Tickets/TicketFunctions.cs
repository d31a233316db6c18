using Itsm.Functions.Hosting;
using Itsm.Functions.Security;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Tickets;

/// <summary>The tickets API under <c>/api/tickets</c>.</summary>
public sealed class TicketFunctions(HttpEndpoint http)
{
    [Function("Tickets_Create")]
    [ApiDoc("Raise an incident, service request, problem or change.", SuccessStatus = 201, RequestSchema = "TicketInput", ResponseSchema = "Ticket")]
    public Task<IResult> TicketsCreate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tickets")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Service(api).CreateAsync(api), durable);

    [Function("Tickets_List")]
    [ApiDoc("List tickets with filters, a sort and a continuation token.", ResponseSchema = "TicketPage", QueryParametersOf = typeof(TicketListQuery))]
    public Task<IResult> TicketsList([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).ListAsync(api));

    [Function("Tickets_Get")]
    [ApiDoc("Read a ticket; the ETag header is its version.", ResponseSchema = "Ticket")]
    public Task<IResult> TicketsGet([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).GetAsync(api, Id(api)));

    [Function("Tickets_Update")]
    [ApiDoc("Change fields (JSON merge patch; If-Match required).", RequestSchema = "TicketInput", ResponseSchema = "Ticket")]
    public Task<IResult> TicketsUpdate([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "tickets/{id}")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Service(api).PatchAsync(api, Id(api)), durable);

    [Function("Tickets_Act")]
    [ApiDoc("Run an action: a lifecycle transition, comment, work-note, link, time-entry or merge.", RequestSchema = "TicketAction", ResponseSchema = "Ticket")]
    public Task<IResult> TicketsAct([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "tickets/{id}/actions/{action}")] HttpRequest req, [DurableClient] DurableTaskClient durable) =>
        http.ApiAsync(req, api => Service(api).ActAsync(api, Id(api), api.Request.RouteValue("action") ?? ""), durable);

    [Function("Tickets_Comments")]
    [ApiDoc("Public comments (and work notes for agents).")]
    public Task<IResult> TicketsComments([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/comments")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).CommentsAsync(api, Id(api)));

    [Function("Tickets_History")]
    [ApiDoc("The audit trail; ?format=csv exports it.", QueryParameters = ["format"])]
    public Task<IResult> TicketsHistory([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "tickets/{id}/history")] HttpRequest req) =>
        http.ApiAsync(req, api => Service(api).HistoryAsync(api, Id(api)));

    [Function("Tickets_Page")]
    [ApiDoc("The page a ticket link opens in a browser (number, title, state; no sign-in: the signed link is the key).", RequiresToken = false, QueryParameters = ["t"])]
    public Task<IResult> TicketsPage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "ticket-page")] HttpRequest req) =>
        http.PublicAsync(req, TicketStatusPage.ShowAsync);

    [Function("Admin_GetPriorityMatrix")]
    [ApiDoc("The tenant's impact x urgency priority matrix.")]
    public Task<IResult> AdminGetPriorityMatrix([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/priority-matrix")] HttpRequest req) =>
        http.ApiAsync(req, api => api.Services.GetRequiredService<PriorityMatrixSettings>().GetAsync(api));

    [Function("Admin_SetPriorityMatrix")]
    [ApiDoc("Replace the tenant's priority matrix (admins).")]
    public Task<IResult> AdminSetPriorityMatrix([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/priority-matrix")] HttpRequest req) =>
        http.ApiAsync(req, api => api.Services.GetRequiredService<PriorityMatrixSettings>().PutAsync(api));

    private static TicketService Service(ApiContext api) => api.Services.GetRequiredService<TicketService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}

/// <summary>The feature's services.</summary>
public static class TicketFeature
{
    public static IServiceCollection AddTickets(this IServiceCollection services) =>
        services.AddSingleton<TicketStore>().AddSingleton<PriorityMatrixSettings>().AddSingleton<TicketService>().AddSingleton<TicketPageLinks>().AddSingleton<TicketFollowUps>()
            .AddSingleton<ITicketFollowUpHandler, TicketMergeCompletion>();
}
