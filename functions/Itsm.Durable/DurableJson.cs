using System.Text.Encodings.Web;
using System.Text.Json;

namespace Itsm.Durable;

/// <summary>
/// The one JSON configuration used for every durable payload: orchestration inputs and outputs,
/// activity inputs and results, event data and custom status (web defaults: camelCase names,
/// case-insensitive reads, numbers allowed in strings). Payloads are written with relaxed escaping
/// (<c>+</c>, accents and other non-ASCII text stay readable): they travel inside protobuf strings
/// and are read as JSON, never embedded in HTML.
/// </summary>
public static class DurableJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>JSON text for a value, or null (payload absent on the wire) when the value is null.</summary>
    public static string? Serialize(object? value) =>
        value is null ? null : JsonSerializer.Serialize(value, value.GetType(), Options);

    /// <summary>Reads JSON text; an absent payload or the literal <c>null</c> gives <c>default</c>.</summary>
    public static T? Deserialize<T>(string? json) =>
        IsNull(json) ? default : JsonSerializer.Deserialize<T>(json!, Options);

    public static object? Deserialize(string? json, Type type) =>
        IsNull(json) ? null : JsonSerializer.Deserialize(json!, type, Options);

    private static bool IsNull(string? json) =>
        string.IsNullOrWhiteSpace(json) || json.AsSpan().Trim().SequenceEqual("null");
}
