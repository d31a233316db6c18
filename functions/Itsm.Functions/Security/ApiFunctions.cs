using Itsm.Functions.Hosting;

namespace Itsm.Functions.Security;

/// <summary>An API call by an authenticated caller.</summary>
public sealed record ApiContext(HttpFunctionContext Http, CallerPrincipal Caller)
{
    public HttpTriggerRequest Request => Http.Request;

    public IServiceProvider Services => Http.Services;

    public CancellationToken CancellationToken => Http.CancellationToken;
}

public static class ApiFunctions
{
    /// <summary>Declares an HTTP API function that only runs for a caller with a valid bearer token (401 otherwise).</summary>
    public static FunctionCatalogBuilder MapApi(
        this FunctionCatalogBuilder functions,
        string name,
        string method,
        string route,
        Func<ApiContext, Task<HttpResponseOutput>> handler,
        ApiDocs docs,
        bool durableClient = false) =>
        functions.MapHttp(name, method, route, async http =>
        {
            var authenticator = http.Services.GetRequiredService<ICallerAuthenticator>();
            AuthenticationResult result;
            try
            {
                result = await authenticator.AuthenticateAsync(http.Request.Header("Authorization"), http.CancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The identity provider's signing keys could not be fetched: an outage, not the caller's fault.
                http.Services.GetRequiredService<ILogger<ApiContext>>().LogError(ex, "Bearer token validation failed for lack of signing keys.");
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
        durableClient: durableClient,
        docs: docs);

    public static HttpResponseOutput Forbidden(string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        HttpResults.Problem(403, "Not allowed.", detail, errors, "urn:itsm:problem:forbidden");

    public static HttpResponseOutput NotFound(string what) =>
        HttpResults.Problem(404, "Not found.", $"{what} does not exist or you may not see it.");
}
