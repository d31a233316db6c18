using Itsm.Durable;
using Itsm.Functions.Approvals;
using Itsm.Functions.Changes;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Health;
using Itsm.Functions.Hosting;
using Itsm.Functions.Hosting.Durable;
using Itsm.Functions.Intake;
using Itsm.Functions.Notifications;
using Itsm.Functions.Sla;
using Itsm.Functions.Tickets;

namespace Itsm.Functions;

/// <summary>The list of features: each declares its functions once, through its own <c>MapXxx</c>.</summary>
public static class ItsmFunctions
{
    public static FunctionCatalog CreateCatalog(Action<FunctionCatalogBuilder>? extra = null)
    {
        var functions = new FunctionCatalogBuilder()
            .MapHealth()
            .MapOpenApi()
            .MapIntake()
            .MapNotifications()
            .MapTickets()
            .MapSla()
            .MapCmdb()
            .MapChanges()
            .MapApprovals()
            .MapDurableFunctions(CreateDurableRegistry());
        extra?.Invoke(functions);
        return functions.Build();
    }

    /// <summary>The product's orchestrators and activities: each feature adds its own through an <c>AddXxx</c> extension.</summary>
    public static DurableFunctionRegistry CreateDurableRegistry() => new DurableFunctionRegistry().AddSlaClocks().AddCmdbImports().AddApprovals();

    public static IServiceCollection AddItsmFeatures(this IServiceCollection services) =>
        services.AddIntake().AddTickets().AddSla().AddCmdb().AddNotifications().AddChanges().AddApprovals();
}
