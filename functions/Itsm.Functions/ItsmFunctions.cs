using Itsm.Functions.Approvals;
using Itsm.Functions.Catalog;
using Itsm.Functions.Changes;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Events;
using Itsm.Functions.Intake;
using Itsm.Functions.Kb;
using Itsm.Functions.Notifications;
using Itsm.Functions.Reports;
using Itsm.Functions.Sla;
using Itsm.Functions.Surveys;
using Itsm.Functions.Tickets;

namespace Itsm.Functions;

/// <summary>The list of features: each registers its services through its own <c>AddXxx</c>; their functions are the <c>[Function]</c> methods of their folders.</summary>
public static class ItsmFunctions
{
    public static IServiceCollection AddItsmFeatures(this IServiceCollection services) =>
        services.AddIntake().AddTickets().AddSla().AddCmdb().AddNotifications().AddChanges().AddApprovals().AddCatalog().AddKb().AddEvents().AddReports().AddSurveys();
}
