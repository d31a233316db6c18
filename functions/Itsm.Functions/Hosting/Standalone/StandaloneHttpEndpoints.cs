namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// The standalone host's HTTP trigger: every <c>[HttpTrigger]</c> function mapped to its route under <c>/api</c> with
/// its methods, calling the same method the Functions host calls. Queue outputs of the result are sent to the
/// embedded queue after the function returns, as the host does with output bindings.
/// </summary>
public static class StandaloneHttpEndpoints
{
    public const string RoutePrefix = "api";

    public static void MapStandaloneHttpFunctions(this WebApplication app, FunctionIndex index)
    {
        foreach (var function in index.OfKind(TriggerKind.Http))
        {
            var pattern = $"/{RoutePrefix}/{function.Route.TrimStart('/')}";
            var builder = function.HttpMethods.Count > 0
                ? app.MapMethods(pattern, function.HttpMethods, context => InvokeAsync(context, function))
                : app.Map(pattern, context => InvokeAsync(context, function));
            builder.WithName(function.Name).WithMetadata(function);
        }
    }

    private static async Task InvokeAsync(HttpContext context, FunctionDescriptor function)
    {
        var returned = await FunctionInvoker.InvokeAsync(function, new InvocationInput(context.RequestServices, context.RequestAborted, Http: context));
        var result = returned as IResult ?? (returned is null ? null : FunctionInvoker.HttpResultProperty(returned.GetType())?.GetValue(returned) as IResult);
        var queue = context.RequestServices.GetRequiredService<EmbeddedQueue>();
        foreach (var (name, message) in FunctionInvoker.QueueOutputs(returned))
        {
            await queue.SendAsync(name, new OutgoingQueueMessage(message), context.RequestAborted);
        }

        if (result is null)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        await result.ExecuteAsync(context);
    }

    internal static Task WriteProblemAsync(HttpContext context, HttpResponseOutput problem) => problem.ExecuteAsync(context);
}
