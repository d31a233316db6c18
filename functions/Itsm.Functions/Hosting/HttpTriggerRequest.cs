using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Itsm.Functions.Hosting;

/// <summary>
/// What an HTTP function's handler reads of its request: URL, method, query, headers, route values and the body as
/// text (base64 for binary media types), read once within the size limit. Built the same way in both hosts from
/// ASP.NET Core's <see cref="HttpRequest"/>.
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

    /// <summary>Why the body cannot be read as text at all (not UTF-8, or JSON with undecodable strings); null when it can.</summary>
    public string? BodyProblem { get; init; }

    /// <summary>Reads <paramref name="request"/>; null when its body is larger than <paramref name="maxBodyBytes"/>.</summary>
    public static async Task<HttpTriggerRequest?> ReadAsync(HttpRequest request, int maxBodyBytes, CancellationToken cancellationToken)
    {
        var body = await ReadBodyAsync(request, maxBodyBytes, cancellationToken);
        if (body is null)
        {
            return null;
        }

        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var headers = request.Headers.ToDictionary(
            h => h.Key,
            h => (IReadOnlyList<string>)h.Value.Select(v => v ?? "").ToArray(),
            StringComparer.OrdinalIgnoreCase);
        var routeValues = request.RouteValues
            .Where(r => r.Value is not null)
            .ToDictionary(r => r.Key, r => Convert.ToString(r.Value, CultureInfo.InvariantCulture)!, StringComparer.OrdinalIgnoreCase);
        string? text = null;
        string? problem = null;
        if (body.Length > 0)
        {
            var mediaType = request.ContentType?.Split(';')[0].Trim() ?? "";
            var binary = mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)
                || mediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase);
            if (binary)
            {
                text = Convert.ToBase64String(body);
            }
            else
            {
                // Text bodies are UTF-8; JSON ones must also decode (form and CSV bodies are left to their handlers).
                text = JsonText.DecodeUtf8(body, out problem);
                var notJson = mediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
                    || mediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase);
                if (text is not null && !notJson)
                {
                    problem = JsonText.StringProblem(body);
                }
            }
        }

        return new HttpTriggerRequest(url, request.Method.ToUpperInvariant(), query, headers, routeValues, problem is null ? text : null) { BodyProblem = problem };
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }
}

/// <summary>An HTTP function's answer: status, headers and a text body. Functions return it as an <see cref="IResult"/>.</summary>
public sealed record HttpResponseOutput(int StatusCode, IReadOnlyDictionary<string, string> Headers, string? Body) : IResult
{
    public byte[] BodyBytes() => Body is null ? [] : Encoding.UTF8.GetBytes(Body);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        foreach (var (name, value) in Headers)
        {
            response.Headers[name] = value;
        }

        if (Body is not null)
        {
            var bytes = BodyBytes();
            response.ContentLength = bytes.Length;
            await response.Body.WriteAsync(bytes, httpContext.RequestAborted);
        }
    }
}
