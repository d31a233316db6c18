using Microsoft.AspNetCore.Http.Features;

namespace Itsm.Functions.Hosting;

/// <summary>
/// What the Functions host talks to: <c>GET /</c> for readiness and <c>POST /{FunctionName}</c> carrying the
/// invocation envelope. Every function, HTTP ones included, is served through the envelope (request
/// forwarding is off in host.json), so one code path runs in Azure and standalone.
/// </summary>
public static class CustomHandlerEndpoints
{
    public static void MapCustomHandler(this WebApplication app)
    {
        app.MapGet("/", () => Results.Text("ready", "text/plain"));
        app.MapPost("/{functionName}", InvokeAsync);
    }

    private static async Task InvokeAsync(HttpContext context, string functionName, FunctionDispatcher dispatcher, ItsmOptions options)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim();
        if (!string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(mediaType, "text/json", StringComparison.OrdinalIgnoreCase))
        {
            await WriteAsync(context, DispatchResult.Problem(HttpResults.Problem(415, "Unsupported media type.", "Invocation envelopes must be sent as application/json.")));
            return;
        }

        var body = await RequestBody.ReadAsync(context, options.Http.MaxEnvelopeBytes);
        if (body is null)
        {
            await WriteAsync(context, DispatchResult.Problem(HttpResults.Problem(413, "The invocation envelope is too large.", $"At most {options.Http.MaxEnvelopeBytes} bytes are accepted.")));
            return;
        }

        var invocationId = context.Request.Headers["X-Azure-Functions-InvocationId"].FirstOrDefault();
        var result = await dispatcher.DispatchAsync(functionName, body, invocationId, context.RequestAborted);
        await WriteAsync(context, result);
    }

    internal static async Task WriteAsync(HttpContext context, DispatchResult result)
    {
        context.Response.StatusCode = result.StatusCode;
        context.Response.ContentType = result.ContentType;
        await context.Response.Body.WriteAsync(result.Body);
    }
}

internal static class RequestBody
{
    /// <summary>Reads the body up to <paramref name="limit"/> bytes; null when it is larger.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
        {
            return null;
        }

        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        try
        {
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
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
