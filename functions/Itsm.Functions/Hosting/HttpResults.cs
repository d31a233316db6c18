using System.Text.Json;

namespace Itsm.Functions.Hosting;

/// <summary>Responses of HTTP functions: JSON bodies and RFC 9457 problem details.</summary>
public static class HttpResults
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public static HttpResponseOutput Ok<T>(T value, IReadOnlyDictionary<string, string>? headers = null) =>
        JsonBody(200, value, headers);

    public static HttpResponseOutput JsonBody<T>(int status, T value, IReadOnlyDictionary<string, string>? headers = null)
    {
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = "application/json; charset=utf-8" };
        if (headers is not null)
        {
            foreach (var (name, headerValue) in headers)
            {
                all[name] = headerValue;
            }
        }

        return new HttpResponseOutput(status, all, JsonSerializer.Serialize(value, Json));
    }

    public static HttpResponseOutput NoContent() =>
        new(204, new Dictionary<string, string>(), null);

    public static HttpResponseOutput Problem(
        int status,
        string title,
        string? detail = null,
        IReadOnlyDictionary<string, string[]>? errors = null,
        string? type = null)
    {
        var problem = new ProblemDetails(
            Type: type ?? "about:blank",
            Title: title,
            Status: status,
            Detail: detail,
            Errors: errors);
        return new HttpResponseOutput(
            status,
            new Dictionary<string, string> { ["Content-Type"] = "application/problem+json; charset=utf-8" },
            JsonSerializer.Serialize(problem, Json));
    }

    public static HttpResponseOutput ValidationProblem(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        Problem(400, "One or more fields are invalid.", detail ?? "See 'errors' for each field and the reason.", errors, "urn:itsm:problem:validation");
}

/// <summary>RFC 9457 problem details; <c>errors</c> maps a field path to its reasons.</summary>
public sealed record ProblemDetails(
    string Type,
    string Title,
    int Status,
    string? Detail,
    IReadOnlyDictionary<string, string[]>? Errors);
