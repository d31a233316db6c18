using System.Globalization;
using DurableTask.Core;
using DurableTask.Core.History;
using Newtonsoft.Json;
using Newtonsoft.Json.Serialization;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// Stores DurableTask.Core's history events and task messages as JSON with their .NET type names (they are
/// polymorphic), and reads back only DurableTask.Core's own types and plain BCL collections.
/// </summary>
internal static class DurableJson
{
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        TypeNameHandling = TypeNameHandling.Objects,
        SerializationBinder = new CoreTypesBinder(),
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
        NullValueHandling = NullValueHandling.Ignore,
        Culture = CultureInfo.InvariantCulture,
    });

    /// <summary>
    /// Builds the serializer's contracts for every history event type, so the first work items after a (re)start
    /// do not pay for reflection while timers are due.
    /// </summary>
    public static void WarmUp()
    {
        var instance = new OrchestrationInstance { InstanceId = "warm-up", ExecutionId = "warm-up" };
        HistoryEvent[] samples =
        [
            new ExecutionStartedEvent(-1, "1") { Name = "w", Version = "", OrchestrationInstance = instance, Tags = new Dictionary<string, string>() },
            new OrchestratorStartedEvent(-1), new OrchestratorCompletedEvent(-1), new TaskScheduledEvent(0) { Name = "w" },
            new TaskCompletedEvent(-1, 0, "1"), new TaskFailedEvent(-1, 0, null, null, new FailureDetails("e", "m", null, null, false)),
            new TimerCreatedEvent(1, DateTime.UtcNow), new TimerFiredEvent(-1, DateTime.UtcNow) { TimerId = 1 },
            new EventRaisedEvent(-1, "1") { Name = "e" }, new EventSentEvent(2), new ExecutionCompletedEvent(-1, "1", OrchestrationStatus.Completed),
            new ExecutionTerminatedEvent(-1, "r"), new ExecutionSuspendedEvent(-1, "r"), new ExecutionResumedEvent(-1, "r"),
            new SubOrchestrationInstanceCreatedEvent(3) { Name = "w", InstanceId = "w" }, new SubOrchestrationInstanceCompletedEvent(-1, 3, "1"),
            new SubOrchestrationInstanceFailedEvent(-1, 3, null, null, new FailureDetails("e", "m", null, null, false)), new GenericEvent(-1, "g"),
            new ContinueAsNewEvent(-1, "1"),
        ];
        foreach (var sample in samples)
        {
            Deserialize<HistoryEvent>(Serialize(sample));
            Deserialize<TaskMessage>(Serialize(new TaskMessage { Event = sample, OrchestrationInstance = instance }));
        }
    }

    public static string Serialize(object value)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        Serializer.Serialize(writer, value);
        return writer.ToString();
    }

    public static T Deserialize<T>(string json)
    {
        using var reader = new JsonTextReader(new StringReader(json));
        return Serializer.Deserialize<T>(reader) ?? throw new InvalidDataException($"Stored JSON is empty for {typeof(T).Name}.");
    }

    private sealed class CoreTypesBinder : ISerializationBinder
    {
        private static readonly System.Reflection.Assembly CoreAssembly = typeof(TaskMessage).Assembly;
        private readonly DefaultSerializationBinder inner = new();

        public Type BindToType(string? assemblyName, string typeName)
        {
            var type = inner.BindToType(assemblyName, typeName);
            var allowed = type.Assembly == CoreAssembly
                || (type.Assembly == typeof(object).Assembly && (type.IsGenericType || type.IsPrimitive || type == typeof(string)))
                || (type.IsGenericType && type.GetGenericArguments().All(a => a.Assembly == CoreAssembly || a.Assembly == typeof(object).Assembly));
            return allowed ? type : throw new JsonSerializationException($"Type '{typeName}' is not a DurableTask.Core type.");
        }

        public void BindToName(Type serializedType, out string? assemblyName, out string? typeName) =>
            inner.BindToName(serializedType, out assemblyName, out typeName);
    }
}
