using Itsm.Functions.Security;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Hosting;

/// <summary>An HTTP call as a handler sees it: the request read within the size limit, the services, the Durable client.</summary>
public sealed class HttpFunctionContext(HttpTriggerRequest request, IServiceProvider services, DurableTaskClient? durable, CancellationToken cancellationToken)
{
    public HttpTriggerRequest Request { get; } = request;

    public IServiceProvider Services { get; } = services;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <summary>The Durable client of a function that takes one (<c>[DurableClient]</c>), else null.</summary>
    public DurableTaskClient? Durable { get; } = durable;

    public DurableTaskClient DurableClient() =>
        Durable ?? throw new InvalidOperationException("This function takes no [DurableClient] DurableTaskClient.");
}

/// <summary>
/// Runs an HTTP function's handler the same way under both hosts: the body is read once within
/// <c>Itsm:Http:MaxRequestBodyBytes</c> (413 above), API calls need a valid bearer token (401), and an unexpected
/// exception becomes a 500 problem whose details go to the log only.
/// </summary>
public sealed class HttpEndpoint(HttpLimits limits, ICallerAuthenticator authenticator, ILogger<HttpEndpoint> logger)
{
    /// <summary>A public route (health, the OpenAPI document, webhooks that verify their callers themselves).</summary>
    public async Task<IResult> PublicAsync(HttpRequest request, Func<HttpFunctionContext, Task<HttpResponseOutput>> handler, DurableTaskClient? durable = null)
    {
        var cancellationToken = request.HttpContext.RequestAborted;
        try
        {
            var read = await HttpTriggerRequest.ReadAsync(request, limits.MaxRequestBodyBytes, cancellationToken);
            if (read is null)
            {
                return HttpResults.Problem(413, "The request body is too large.", $"At most {limits.MaxRequestBodyBytes} bytes are accepted.");
            }

            if (read.BodyProblem is { } problem)
            {
                return HttpResults.ValidationProblem(new Dictionary<string, string[]> { ["$"] = [problem] }, "The body cannot be read; nothing was changed.");
            }

            return await handler(new HttpFunctionContext(read, request.HttpContext.RequestServices, durable, cancellationToken));
        }
        catch (BadHttpRequestException ex)
        {
            return HttpResults.Problem(ex.StatusCode, "Bad request.", ex.StatusCode == 413 ? "The request body is too large." : "The request could not be read.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(ex, "Unhandled exception for {Method} {Path}.", request.Method, request.Path);
            return HttpResults.Problem(500, "An unexpected error occurred.", $"Trace id {request.HttpContext.TraceIdentifier}.");
        }
    }

    /// <summary>An API route: runs <paramref name="handler"/> only for a caller with a valid bearer token.</summary>
    public Task<IResult> ApiAsync(HttpRequest request, Func<ApiContext, Task<HttpResponseOutput>> handler, DurableTaskClient? durable = null) =>
        PublicAsync(request, async http =>
        {
            AuthenticationResult result;
            try
            {
                result = await authenticator.AuthenticateAsync(http.Request.Header("Authorization"), http.CancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The identity provider's signing keys could not be fetched: an outage, not the caller's fault.
                logger.LogError(ex, "Bearer token validation failed for lack of signing keys.");
                return HttpResults.Problem(503, "Sign-in is unavailable.", "The identity provider's signing keys could not be loaded; try again shortly.");
            }

            if (!result.Succeeded)
            {
                var problem = HttpResults.Problem(401, "Authentication required.", result.Failure);
                return problem with
                {
                    Headers = new Dictionary<string, string>(problem.Headers) { ["WWW-Authenticate"] = "Bearer error=\"invalid_token\"" },
                };
            }

            return await handler(new ApiContext(http, result.Caller!));
        },
        durable);
}

/// <summary>Request size limits for HTTP functions.</summary>
public sealed record HttpLimits(int MaxRequestBodyBytes)
{
    public static readonly HttpLimits Default = new(1024 * 1024);
}
