using System.Globalization;
using Itsm.Durable.Protocol;

namespace Itsm.Durable.Tests.Support;

public static class ResponseExtensions
{
    /// <summary>One readable line per action, e.g. <c>#0 activity A "order-42"</c>.</summary>
    public static string[] Describe(this OrchestratorResponse response) =>
        [.. response.Actions.Select(Describe)];

    public static string Describe(this OrchestratorAction action) => action.OrchestratorActionTypeCase switch
    {
        OrchestratorAction.OrchestratorActionTypeOneofCase.ScheduleTask =>
            $"#{action.Id} activity {action.ScheduleTask.Name} {action.ScheduleTask.Input ?? "(no input)"}",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateTimer =>
            $"#{action.Id} timer {action.CreateTimer.FireAt.ToDateTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CreateSubOrchestration =>
            $"#{action.Id} sub-orchestration {action.CreateSubOrchestration.Name} as {action.CreateSubOrchestration.InstanceId} {action.CreateSubOrchestration.Input ?? "(no input)"}",
        OrchestratorAction.OrchestratorActionTypeOneofCase.SendEvent =>
            $"#{action.Id} send {action.SendEvent.Name} to {action.SendEvent.Instance.InstanceId} {action.SendEvent.Data ?? "(no data)"}",
        OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration => DescribeCompletion(action),
        _ => $"#{action.Id} {action.OrchestratorActionTypeCase}",
    };

    private static string DescribeCompletion(OrchestratorAction action)
    {
        var complete = action.CompleteOrchestration;
        var status = complete.OrchestrationStatus switch
        {
            OrchestrationStatus.Completed => "completed",
            OrchestrationStatus.Failed => "failed",
            OrchestrationStatus.Terminated => "terminated",
            OrchestrationStatus.ContinuedAsNew => "continued-as-new",
            var other => other.ToString(),
        };
        return complete.FailureDetails is { } failure
            ? $"#{action.Id} {status} {failure.ErrorType}: {failure.ErrorMessage}"
            : $"#{action.Id} {status} {complete.Result ?? "(no result)"}";
    }

    public static CompleteOrchestrationAction Completion(this OrchestratorResponse response) =>
        response.Actions.Single(a => a.OrchestratorActionTypeCase == OrchestratorAction.OrchestratorActionTypeOneofCase.CompleteOrchestration)
            .CompleteOrchestration;
}
