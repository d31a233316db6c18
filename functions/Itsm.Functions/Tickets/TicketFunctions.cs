using Itsm.Functions.Hosting;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tickets;

/// <summary>The tickets API under <c>/api/tickets</c>.</summary>
public static class TicketFunctions
{
    public static FunctionCatalogBuilder MapTickets(this FunctionCatalogBuilder functions) =>
        functions
            .MapApi("Tickets_Create", "POST", "tickets", api => Service(api).CreateAsync(api),
                new ApiDocs("Raise an incident, service request, problem or change.", 201, "TicketInput", "Ticket"), durableClient: true)
            .MapApi("Tickets_List", "GET", "tickets", api => Service(api).ListAsync(api),
                new ApiDocs("List tickets with filters, a sort and a continuation token.", ResponseSchema: "TicketPage", QueryParameters: TicketListQuery.Parameters))
            .MapApi("Tickets_Get", "GET", "tickets/{id}", api => Service(api).GetAsync(api, Id(api)),
                new ApiDocs("Read a ticket; the ETag header is its version.", ResponseSchema: "Ticket"))
            .MapApi("Tickets_Update", "PATCH", "tickets/{id}", api => Service(api).PatchAsync(api, Id(api)),
                new ApiDocs("Change fields (JSON merge patch; If-Match required).", RequestSchema: "TicketInput", ResponseSchema: "Ticket"), durableClient: true)
            .MapApi("Tickets_Act", "POST", "tickets/{id}/actions/{action}", api => Service(api).ActAsync(api, Id(api), api.Request.RouteValue("action") ?? ""),
                new ApiDocs("Run an action: a lifecycle transition, comment, work-note, link, time-entry or merge.", RequestSchema: "TicketAction", ResponseSchema: "Ticket"), durableClient: true)
            .MapApi("Tickets_Comments", "GET", "tickets/{id}/comments", api => Service(api).CommentsAsync(api, Id(api)),
                new ApiDocs("Public comments (and work notes for agents)."))
            .MapApi("Tickets_History", "GET", "tickets/{id}/history", api => Service(api).HistoryAsync(api, Id(api)),
                new ApiDocs("The audit trail; ?format=csv exports it.", QueryParameters: ["format"]))
            .MapApi("Admin_GetPriorityMatrix", "GET", "admin/priority-matrix", api => api.Services.GetRequiredService<PriorityMatrixSettings>().GetAsync(api),
                new ApiDocs("The tenant's impact x urgency priority matrix."))
            .MapApi("Admin_SetPriorityMatrix", "PUT", "admin/priority-matrix", api => api.Services.GetRequiredService<PriorityMatrixSettings>().PutAsync(api),
                new ApiDocs("Replace the tenant's priority matrix (admins)."));

    public static IServiceCollection AddTickets(this IServiceCollection services) =>
        services.AddSingleton<TicketStore>().AddSingleton<PriorityMatrixSettings>().AddSingleton<TicketService>();

    private static TicketService Service(ApiContext api) => api.Services.GetRequiredService<TicketService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}
