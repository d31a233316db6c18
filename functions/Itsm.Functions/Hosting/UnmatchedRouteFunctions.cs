using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Requests under <c>/api</c> that no function's route and method match: 404, or 405 with <c>Allow</c> when the path
/// is a route of other methods, both as problem details, under either host. Without it the Functions host answers an
/// empty 404 for both. It is a catch-all route, so it must be the last route either host tries: the standalone host
/// tries catch-alls last anyway, and the Functions host goes by function name, which the function index checks
/// (the name sorts after every other HTTP function's).
/// </summary>
public sealed class UnmatchedRouteFunctions(HttpEndpoint http, FunctionIndex index)
{
    public const string Name = "Unmatched";

    // Every method a client might send, listed: with none, the Worker SDK would write no methods into the metadata.
    [Function(Name)]
    public Task<IResult> Unmatched([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options", Route = "{*path}")] HttpRequest req) =>
        http.PublicAsync(req, _ => Task.FromResult(Answer(index, req.Method, req.Path)));

    public static HttpResponseOutput Answer(FunctionIndex index, string method, PathString path)
    {
        var relative = path.StartsWithSegments("/" + Standalone.StandaloneHttpEndpoints.RoutePrefix, StringComparison.OrdinalIgnoreCase, out var rest) ? rest : path;
        var allowed = index.OfKind(TriggerKind.Http)
            .Where(f => f.Name != Name && Matches(f.Route, relative))
            .SelectMany(f => f.HttpMethods)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToArray();
        if (allowed.Length == 0)
        {
            return HttpResults.Problem(404, "Not found.", $"No route matches '{path}'.");
        }

        var problem = HttpResults.Problem(405, "Method not allowed.", $"'{path}' does not accept {method.ToUpperInvariant()}.");
        return problem with { Headers = new Dictionary<string, string>(problem.Headers) { ["Allow"] = string.Join(", ", allowed) } };
    }

    private static bool Matches(string route, PathString path) =>
        new TemplateMatcher(TemplateParser.Parse(route.Trim('/')), new RouteValueDictionary()).TryMatch(path.HasValue ? path : "/", new RouteValueDictionary());
}
