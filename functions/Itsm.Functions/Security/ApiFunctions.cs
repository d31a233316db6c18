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
    public static HttpResponseOutput Forbidden(string detail, IReadOnlyDictionary<string, string[]>? errors = null) =>
        HttpResults.Problem(403, "Not allowed.", detail, errors, "urn:itsm:problem:forbidden");

    public static HttpResponseOutput NotFound(string what) =>
        HttpResults.Problem(404, "Not found.", $"{what} does not exist or you may not see it.");
}
