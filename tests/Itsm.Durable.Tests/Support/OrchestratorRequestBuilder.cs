using Google.Protobuf.WellKnownTypes;
using Itsm.Durable.Protocol;

namespace Itsm.Durable.Tests.Support;

/// <summary>
/// Test-data builder for one orchestrator episode. Events go to the past section until
/// <see cref="New"/> is called; the fluent helpers cover the common events and
/// <see cref="Add"/> takes any event from <see cref="History"/>.
/// </summary>
public sealed class OrchestratorRequestBuilder
{
    private readonly OrchestratorRequest request;
    private bool addingNewEvents;

    public OrchestratorRequestBuilder(string instanceId = "abc123")
    {
        request = new OrchestratorRequest { InstanceId = instanceId };
    }

    /// <summary>Following events are past (already committed) history.</summary>
    public OrchestratorRequestBuilder Past()
    {
        addingNewEvents = false;
        return this;
    }

    /// <summary>Following events are new in this episode.</summary>
    public OrchestratorRequestBuilder New()
    {
        addingNewEvents = true;
        return this;
    }

    public OrchestratorRequestBuilder Add(params IEnumerable<HistoryEvent> events)
    {
        (addingNewEvents ? request.NewEvents : request.PastEvents).AddRange(events);
        return this;
    }

    public OrchestratorRequestBuilder OrchestratorStarted(DateTime at) => Add(History.OrchestratorStarted(at));

    public OrchestratorRequestBuilder OrchestratorCompleted(DateTime at) => Add(History.OrchestratorCompleted(at));

    public OrchestratorRequestBuilder ExecutionStarted(string name, string? inputJson, DateTime? at = null) =>
        Add(History.ExecutionStarted(name, inputJson, at ?? History.T0, request.InstanceId));

    public OrchestratorRequestBuilder TaskScheduled(int id, string name, string? inputJson = null) => Add(History.TaskScheduled(id, name, inputJson));

    public OrchestratorRequestBuilder TaskCompleted(int id, string? resultJson) => Add(History.TaskCompleted(id, resultJson));

    public OrchestratorRequestBuilder TaskFailed(int id, string errorType, string message) => Add(History.TaskFailed(id, errorType, message));

    public OrchestratorRequestBuilder TimerCreated(int id, DateTime fireAt) => Add(History.TimerCreated(id, fireAt));

    public OrchestratorRequestBuilder TimerFired(int id, DateTime fireAt) => Add(History.TimerFired(id, fireAt));

    public OrchestratorRequestBuilder EventRaised(string name, string? inputJson) => Add(History.EventRaised(name, inputJson));

    public OrchestratorRequestBuilder ExecutionTerminated(string reason) => Add(History.ExecutionTerminated(reason));

    public OrchestratorRequestBuilder WithProperty(string name, Value value)
    {
        request.Properties[name] = value;
        return this;
    }

    public OrchestratorRequest Build() => request.Clone();

    public string BuildBase64() => Convert.ToBase64String(Google.Protobuf.MessageExtensions.ToByteArray(request));
}
