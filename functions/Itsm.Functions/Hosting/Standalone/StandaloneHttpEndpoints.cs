using System.Text;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// The standalone host's HTTP trigger: one endpoint per declared HTTP function under <c>/api</c>. Each
/// request becomes the HTTP request object the Functions host would build, goes through the envelope
/// dispatcher, and the function's <c>http</c> output is written back.
/// </summary>
public static class StandaloneHttpEndpoints
{
    public const string RoutePrefix = "api";

    public static void MapStandaloneHttpFunctions(this WebApplication app, FunctionCatalog catalog)
    {
        foreach (var function in catalog.Functions)
        {
            if (function.Trigger is not HttpTrigger trigger)
            {
                continue;
            }

            app.MapMethods($"/{RoutePrefix}/{trigger.Route}", trigger.Methods, context => InvokeAsync(context, function))
                .WithName(function.Name)
                .WithMetadata(function);
        }
    }

    private static async Task InvokeAsync(HttpContext context, FunctionDefinition function)
    {
        var limits = context.RequestServices.GetRequiredService<HttpLimits>();
        var bytes = await RequestBody.ReadAsync(context, limits.MaxRequestBodyBytes);
        if (bytes is null)
        {
            await WriteProblemAsync(context, HttpResults.Problem(413, "The request body is too large.", $"At most {limits.MaxRequestBodyBytes} bytes are accepted."));
            return;
        }

        var request = ToTriggerRequest(context, bytes);
        var invoker = context.RequestServices.GetRequiredService<StandaloneInvoker>();
        var result = await invoker.InvokeHttpAsync(function, request, context.RequestAborted);
        if (!result.Succeeded)
        {
            // The Functions host answers a failed invocation with a bare 500; the problem body carries no stack trace.
            await WriteProblemAsync(context, HttpResults.Problem(result.StatusCode == 503 ? 503 : 500, "The function failed.", result.ProblemDetail()));
            return;
        }

        var outputName = function.Bindings.OfType<HttpOutputBinding>().Select(b => b.Name).FirstOrDefault() ?? FunctionCatalogBuilder.HttpOutputBindingName;
        var response = result.ReadResponse();
        if (!response.Outputs.TryGetValue(outputName, out var output))
        {
            await WriteProblemAsync(context, HttpResults.Problem(500, "The function returned no HTTP response."));
            return;
        }

        var http = HttpResponseOutput.Parse(output);
        context.Response.StatusCode = http.StatusCode;
        foreach (var (name, value) in http.Headers)
        {
            context.Response.Headers[name] = value;
        }

        if (http.Body is not null)
        {
            await context.Response.Body.WriteAsync(http.BodyBytes());
        }
    }

    internal static HttpTriggerRequest ToTriggerRequest(HttpContext context, byte[] body)
    {
        var request = context.Request;
        var url = $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var headers = request.Headers.ToDictionary(
            h => h.Key,
            h => (IReadOnlyList<string>)h.Value.Select(v => v ?? "").ToArray(),
            StringComparer.OrdinalIgnoreCase);
        var routeValues = request.RouteValues
            .Where(r => r.Value is not null)
            .ToDictionary(r => r.Key, r => Convert.ToString(r.Value, System.Globalization.CultureInfo.InvariantCulture)!, StringComparer.OrdinalIgnoreCase);
        string? text = null;
        if (body.Length > 0)
        {
            var mediaType = request.ContentType?.Split(';')[0].Trim() ?? "";
            var binary = mediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)
                || mediaType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase);
            text = binary ? Convert.ToBase64String(body) : Encoding.UTF8.GetString(body);
        }

        return new HttpTriggerRequest(url, request.Method.ToUpperInvariant(), query, headers, routeValues, text);
    }

    internal static Task WriteProblemAsync(HttpContext context, HttpResponseOutput problem)
    {
        context.Response.StatusCode = problem.StatusCode;
        context.Response.ContentType = problem.Headers["Content-Type"];
        return context.Response.Body.WriteAsync(problem.BodyBytes()).AsTask();
    }
}
