using Itsm.Functions.Hosting;
using Itsm.Functions.Security;

namespace Itsm.Functions.Tickets;

/// <summary>The tickets API under <c>/api/tickets</c>.</summary>
public static class TicketFunctions
{
    public static FunctionCatalogBuilder MapTickets(this FunctionCatalogBuilder functions) =>
        functions
            .MapApi("Tickets_Create", "POST", "tickets", api => Service(api).CreateAsync(api))
            .MapApi("Tickets_List", "GET", "tickets", api => Service(api).ListAsync(api))
            .MapApi("Tickets_Get", "GET", "tickets/{id}", api => Service(api).GetAsync(api, Id(api)))
            .MapApi("Tickets_Update", "PATCH", "tickets/{id}", api => Service(api).PatchAsync(api, Id(api)))
            .MapApi("Tickets_Act", "POST", "tickets/{id}/actions/{action}", api => Service(api).ActAsync(api, Id(api), api.Request.RouteValue("action") ?? ""))
            .MapApi("Tickets_Comments", "GET", "tickets/{id}/comments", api => Service(api).CommentsAsync(api, Id(api)))
            .MapApi("Tickets_History", "GET", "tickets/{id}/history", api => Service(api).HistoryAsync(api, Id(api)))
            .MapApi("Admin_GetPriorityMatrix", "GET", "admin/priority-matrix", api => api.Services.GetRequiredService<PriorityMatrixSettings>().GetAsync(api))
            .MapApi("Admin_SetPriorityMatrix", "PUT", "admin/priority-matrix", api => api.Services.GetRequiredService<PriorityMatrixSettings>().PutAsync(api));

    public static IServiceCollection AddTickets(this IServiceCollection services) =>
        services.AddSingleton<TicketStore>().AddSingleton<PriorityMatrixSettings>().AddSingleton<TicketService>();

    private static TicketService Service(ApiContext api) => api.Services.GetRequiredService<TicketService>();

    private static string Id(ApiContext api) => api.Request.RouteValue("id") ?? "";
}
