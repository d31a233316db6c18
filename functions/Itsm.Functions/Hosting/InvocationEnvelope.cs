using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The custom-handler invocation contract: the host POSTs <c>{"Data": {...}, "Metadata": {...}}</c> and
/// expects <c>{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}</c>. String-typed binding values are
/// JSON-serialised by the host and then placed as a JSON string, so they arrive encoded twice.
/// </summary>
public static class InvocationEnvelope
{
    public const string ContentType = "application/json";

    /// <summary>Parses a request envelope. Throws <see cref="EnvelopeFormatException"/> with a reason when malformed.</summary>
    public static InvocationRequest ParseRequest(ReadOnlySpan<byte> utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new EnvelopeFormatException($"The body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new EnvelopeFormatException("The body must be a JSON object with a 'Data' property.");
            }

            JsonElement? data = null;
            JsonElement? metadata = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("Data") || string.Equals(property.Name, "data", StringComparison.OrdinalIgnoreCase))
                {
                    data = property.Value;
                }
                else if (string.Equals(property.Name, "Metadata", StringComparison.OrdinalIgnoreCase))
                {
                    metadata = property.Value;
                }
            }

            if (data is not { ValueKind: JsonValueKind.Object } dataObject)
            {
                throw new EnvelopeFormatException("'Data' is missing or is not a JSON object.");
            }

            if (metadata is { } m && m.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
            {
                throw new EnvelopeFormatException("'Metadata' must be a JSON object.");
            }

            return new InvocationRequest(
                ToDictionary(dataObject),
                metadata is { ValueKind: JsonValueKind.Object } md ? ToDictionary(md) : new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase));
        }
    }

    /// <summary>
    /// Undoes the host's extra encoding of string-typed values: a JSON string whose content is itself
    /// JSON text is decoded once. A string whose content is not JSON (a date the host wrote as a JSON
    /// date, say) is returned as that string.
    /// </summary>
    public static JsonElement DecodeValue(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }

        var text = value.GetString()!;
        try
        {
            using var inner = JsonDocument.Parse(text);
            return inner.RootElement.Clone();
        }
        catch (JsonException)
        {
            return value;
        }
    }

    /// <summary>
    /// Returns the original string of a string-typed binding value (queue message bodies, Durable payloads),
    /// which arrives as JSON text inside a JSON string. An object value is returned as its JSON text.
    /// </summary>
    public static string DecodeString(JsonElement raw)
    {
        if (raw.ValueKind != JsonValueKind.String)
        {
            return raw.GetRawText();
        }

        var text = raw.GetString()!;
        try
        {
            return JsonSerializer.Deserialize<string>(text) ?? text;
        }
        catch (JsonException)
        {
            return text;
        }
    }

    /// <summary>Encodes a string-typed binding value the way the Functions host does (JSON text inside a JSON string).</summary>
    public static JsonNode EncodeString(string? value) =>
        JsonValue.Create(JsonSerializer.Serialize(value))!;

    /// <summary>Encodes a scalar or array value the way the host does: its JSON text placed as a JSON string.</summary>
    public static JsonNode EncodeJsonText(JsonNode? value) =>
        JsonValue.Create(value is null ? "null" : value.ToJsonString())!;

    public static byte[] SerializeRequest(JsonObject data, JsonObject metadata) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["Data"] = data, ["Metadata"] = metadata }.ToJsonString());

    public static byte[] SerializeResult(InvocationResult result)
    {
        var outputs = new JsonObject();
        foreach (var (name, value) in result.Outputs)
        {
            outputs[name] = value?.DeepClone();
        }

        var logs = new JsonArray(result.Logs.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        var body = new JsonObject
        {
            ["Outputs"] = outputs,
            ["Logs"] = logs,
            ["ReturnValue"] = result.ReturnValue?.DeepClone(),
        };
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    /// <summary>Reads a response envelope (what the host, or the standalone host, receives back).</summary>
    public static InvocationResponse ParseResponse(ReadOnlySpan<byte> utf8Json)
    {
        var node = JsonNode.Parse(utf8Json) as JsonObject
            ?? throw new EnvelopeFormatException("The response must be a JSON object.");
        var outputs = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        var logs = new List<string>();
        JsonNode? returnValue = null;
        foreach (var (key, value) in node)
        {
            if (string.Equals(key, "Outputs", StringComparison.OrdinalIgnoreCase) && value is JsonObject o)
            {
                foreach (var (name, output) in o)
                {
                    outputs[name] = output?.DeepClone();
                }
            }
            else if (string.Equals(key, "Logs", StringComparison.OrdinalIgnoreCase) && value is JsonArray a)
            {
                logs.AddRange(a.Select(l => l?.ToString() ?? string.Empty));
            }
            else if (string.Equals(key, "ReturnValue", StringComparison.OrdinalIgnoreCase))
            {
                returnValue = value?.DeepClone();
            }
        }

        return new InvocationResponse(outputs, logs, returnValue);
    }

    private static Dictionary<string, JsonElement> ToDictionary(JsonElement element)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            result[property.Name] = property.Value.Clone();
        }

        return result;
    }
}

/// <summary>A parsed request envelope, values exactly as received (not yet decoded).</summary>
public sealed record InvocationRequest(
    IReadOnlyDictionary<string, JsonElement> Data,
    IReadOnlyDictionary<string, JsonElement> Metadata);

/// <summary>A parsed response envelope.</summary>
public sealed record InvocationResponse(
    IReadOnlyDictionary<string, JsonNode?> Outputs,
    IReadOnlyList<string> Logs,
    JsonNode? ReturnValue);

public sealed class EnvelopeFormatException(string message) : Exception(message);
