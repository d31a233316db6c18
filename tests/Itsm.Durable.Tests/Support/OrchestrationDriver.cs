using Google.Protobuf;
using Itsm.Durable.Protocol;

namespace Itsm.Durable.Tests.Support;

/// <summary>
/// Plays the Durable extension for one instance: each episode sends the committed history as past
/// events and [OrchestratorStarted, ...new events] as new events, through the base64 entry point,
/// then commits the new events, the events generated from the returned actions and
/// OrchestratorCompleted, as DTFx does. Every episode therefore also replays all earlier ones.
/// </summary>
public sealed class OrchestrationDriver(DurableFunctionRegistry registry, string instanceId = "abc123", IServiceProvider? services = null)
{
    private readonly List<HistoryEvent> committed = [];

    public IReadOnlyList<HistoryEvent> CommittedHistory => committed;

    public OrchestratorResponse Start(string orchestratorName, object? input = null, DateTime? at = null)
    {
        var start = at ?? History.T0;
        return Episode(start, History.ExecutionStarted(orchestratorName, DurableJson.Serialize(input), start, instanceId));
    }

    public OrchestratorResponse Episode(DateTime at, params HistoryEvent[] events)
    {
        var builder = new OrchestratorRequestBuilder(instanceId)
            .Past().Add(committed)
            .New().OrchestratorStarted(at).Add(events);
        var request = builder.Build();
        var responseBase64 = OrchestrationRunner.RunBase64(builder.BuildBase64(), registry, services);
        var response = OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(responseBase64));

        committed.AddRange(request.NewEvents);
        committed.AddRange(History.ForActions(response.Actions, at));
        committed.Add(History.OrchestratorCompleted(at));
        return response;
    }
}
