using System.Text.Json;

namespace Itsm.Functions.Hosting;

/// <summary>
/// Runs a function from a request envelope and answers with a response envelope. Both hosts call this:
/// the Functions host over <c>POST /{FunctionName}</c>, the standalone host in process with an envelope it
/// built the same way.
/// </summary>
public sealed class FunctionDispatcher(FunctionCatalog catalog, IServiceScopeFactory scopes, ILogger<FunctionDispatcher> logger)
{
    public FunctionCatalog Catalog => catalog;

    public async Task<DispatchResult> DispatchAsync(string functionName, ReadOnlyMemory<byte> envelope, string? invocationId, CancellationToken cancellationToken)
    {
        var function = catalog.Find(functionName);
        if (function is null)
        {
            return DispatchResult.Problem(HttpResults.Problem(404, "Unknown function.", $"No function named '{functionName}' is declared."));
        }

        InvocationRequest request;
        try
        {
            request = InvocationEnvelope.ParseRequest(envelope.Span);
        }
        catch (EnvelopeFormatException ex)
        {
            return DispatchResult.Problem(HttpResults.Problem(400, "Malformed invocation envelope.", ex.Message));
        }

        invocationId ??= Guid.NewGuid().ToString();
        await using var scope = scopes.CreateAsyncScope();
        var invocation = new FunctionInvocation(function, request, invocationId, scope.ServiceProvider, cancellationToken);
        InvocationResult result;
        try
        {
            result = await function.Handler(invocation);
        }
        catch (EnvelopeFormatException ex)
        {
            return DispatchResult.Problem(HttpResults.Problem(400, "Malformed invocation envelope.", ex.Message));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return DispatchResult.Problem(HttpResults.Problem(503, "The invocation was cancelled.", "The app is shutting down."));
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Function {Function} failed (invocation {InvocationId}).", function.Name, invocationId);
            return DispatchResult.Problem(HttpResults.Problem(500, "The function failed.", $"Function '{function.Name}' failed; see the app's logs for invocation {invocationId}."));
        }

        return new DispatchResult(200, InvocationEnvelope.ContentType, InvocationEnvelope.SerializeResult(result));
    }
}

/// <summary>What goes back to the caller of <c>POST /{FunctionName}</c>.</summary>
public sealed record DispatchResult(int StatusCode, string ContentType, byte[] Body)
{
    public bool Succeeded => StatusCode is >= 200 and < 300;

    public static DispatchResult Problem(HttpResponseOutput problem) =>
        new(problem.StatusCode, problem.Headers["Content-Type"], problem.BodyBytes());

    public InvocationResponse ReadResponse() => InvocationEnvelope.ParseResponse(Body);

    public string? ProblemDetail()
    {
        try
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.TryGetProperty("detail", out var detail) ? detail.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
