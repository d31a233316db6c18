namespace Itsm.Functions.Hosting;

/// <summary>
/// How an HTTP function appears in the OpenAPI document: a summary, the named schemas of its request body and
/// success response, its success status, its query parameters and whether a bearer token is required.
/// Functions without it are served but not documented.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ApiDocAttribute(string summary) : Attribute
{
    public string Summary { get; } = summary;

    public int SuccessStatus { get; init; } = 200;

    public string? RequestSchema { get; init; }

    public string? ResponseSchema { get; init; }

    public string[]? QueryParameters { get; init; }

    /// <summary>A type whose public static <c>Parameters</c> (a list of strings) names the query parameters, for lists kept in code.</summary>
    public Type? QueryParametersOf { get; init; }

    public bool RequiresToken { get; init; } = true;

    public IReadOnlyList<string> AllQueryParameters =>
        [.. QueryParameters ?? [], .. QueryParametersOf?.GetField("Parameters")?.GetValue(null) as IEnumerable<string> ?? []];
}
