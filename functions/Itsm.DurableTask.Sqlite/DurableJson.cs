using System.Globalization;
using DurableTask.Core;
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
