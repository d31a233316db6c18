using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Itsm.Functions.Hosting;

/// <summary>
/// The HTTP request object the Functions host places in <c>Data.&lt;triggerName&gt;</c> for an HTTP-triggered
/// function: <c>{Url, Method, Query, Headers, Params, Identities, Body}</c>.
/// </summary>
public sealed record HttpTriggerRequest(
    string Url,
    string Method,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Headers,
    IReadOnlyDictionary<string, string> Params,
    string? Body)
{
    public string? Header(string name) =>
        Headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    public string? QueryValue(string name) => Query.TryGetValue(name, out var value) ? value : null;

    public string? RouteValue(string name) => Params.TryGetValue(name, out var value) ? value : null;

    public static HttpTriggerRequest Parse(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new EnvelopeFormatException("The HTTP trigger value must be a JSON object.");
        }

        string url = "", method = "";
        string? body = null;
        var query = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var headers = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        var routeParams = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name.ToUpperInvariant())
            {
                case "URL":
                    url = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : "";
                    break;
                case "METHOD":
                    method = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()!.ToUpperInvariant() : "";
                    break;
                case "BODY":
                    body = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Null or JsonValueKind.Undefined => null,
                        _ => property.Value.GetRawText(),
                    };
                    break;
                case "QUERY":
                    ReadStringMap(property.Value, query);
                    break;
                case "PARAMS":
                    ReadStringMap(property.Value, routeParams);
                    break;
                case "HEADERS":
                    if (property.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var header in property.Value.EnumerateObject())
                        {
                            headers[header.Name] = header.Value.ValueKind switch
                            {
                                JsonValueKind.Array => header.Value.EnumerateArray().Select(v => v.ToString()).ToArray(),
                                JsonValueKind.String => [header.Value.GetString()!],
                                _ => [header.Value.GetRawText()],
                            };
                        }
                    }

                    break;
            }
        }

        if (method.Length == 0)
        {
            throw new EnvelopeFormatException("The HTTP trigger value has no 'Method'.");
        }

        return new HttpTriggerRequest(url, method, query, headers, routeParams, body);
    }

    public JsonObject ToJson()
    {
        var headers = new JsonObject();
        foreach (var (name, values) in Headers)
        {
            headers[name] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        }

        return new JsonObject
        {
            ["Url"] = Url,
            ["Method"] = Method,
            ["Query"] = ToJsonObject(Query),
            ["Headers"] = headers,
            ["Params"] = ToJsonObject(Params),
            ["Identities"] = new JsonArray(),
            ["Body"] = Body,
        };
    }

    private static JsonObject ToJsonObject(IReadOnlyDictionary<string, string> map)
    {
        var json = new JsonObject();
        foreach (var (key, value) in map)
        {
            json[key] = value;
        }

        return json;
    }

    private static void ReadStringMap(JsonElement element, Dictionary<string, string> target)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var entry in element.EnumerateObject())
        {
            target[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
        }
    }
}

/// <summary>The <c>http</c> output binding value: <c>{statusCode, headers, body}</c>, body always a string.</summary>
public sealed record HttpResponseOutput(int StatusCode, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    public JsonObject ToJson()
    {
        var headers = new JsonObject();
        foreach (var (name, value) in Headers)
        {
            headers[name] = value;
        }

        return new JsonObject { ["statusCode"] = StatusCode, ["headers"] = headers, ["body"] = Body };
    }

    public static HttpResponseOutput Parse(JsonNode? node)
    {
        if (node is not JsonObject json)
        {
            throw new EnvelopeFormatException("The http output must be a JSON object.");
        }

        var status = 200;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? body = null;
        foreach (var (key, value) in json)
        {
            switch (key.ToUpperInvariant())
            {
                case "STATUSCODE":
                    status = value is JsonValue v && v.TryGetValue<int>(out var code) ? code
                        : int.TryParse(value?.ToString(), out var parsed) ? parsed : 200;
                    break;
                case "HEADERS" when value is JsonObject h:
                    foreach (var (name, headerValue) in h)
                    {
                        headers[name] = headerValue?.ToString() ?? "";
                    }

                    break;
                case "BODY":
                    body = value is JsonValue s && s.TryGetValue<string>(out var text) ? text : value?.ToJsonString();
                    break;
            }
        }

        return new HttpResponseOutput(status, headers, body);
    }

    public byte[] BodyBytes() => Body is null ? [] : Encoding.UTF8.GetBytes(Body);
}
