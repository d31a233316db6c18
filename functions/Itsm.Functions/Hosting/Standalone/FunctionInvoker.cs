using System.Reflection;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>What the standalone host has to hand a function for one invocation.</summary>
public sealed record InvocationInput(
    IServiceProvider Services,
    CancellationToken CancellationToken,
    HttpContext? Http = null,
    ReceivedQueueMessage? QueueMessage = null,
    TimerInfo? Timer = null,
    object? TriggerValue = null,
    string? InstanceId = null,
    TaskOrchestrationContext? Orchestration = null);

/// <summary>
/// Calls a function method the way the isolated worker does: a new instance of its class per invocation, built
/// from the invocation's services (constructor injection), and its parameters bound from the trigger. Only the
/// parameter kinds the app uses are supported; <see cref="Check"/> names any other at start, so a function that
/// could not run standalone stops the host instead of failing on its first call.
/// </summary>
public static class FunctionInvoker
{
    public static async Task<object?> InvokeAsync(FunctionDescriptor function, InvocationInput input)
    {
        var method = function.Method;
        object? instance = method.IsStatic ? null : ActivatorUtilities.CreateInstance(input.Services, method.DeclaringType!);
        try
        {
            var arguments = method.GetParameters().Select(p => Bind(function, p, input)).ToArray();
            object? returned;
            try
            {
                returned = method.Invoke(instance, arguments);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }

            return await UnwrapAsync(returned, method.ReturnType);
        }
        finally
        {
            switch (instance)
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    /// <summary>Why a parameter of <paramref name="function"/> cannot be bound standalone, one message each.</summary>
    public static IEnumerable<string> Check(FunctionDescriptor function)
    {
        foreach (var parameter in function.Method.GetParameters())
        {
            if (!CanBind(function, parameter))
            {
                yield return $"Function '{function.Name}': parameter '{parameter.Name}' ({parameter.ParameterType.Name}) cannot be bound by the standalone host.";
            }
        }

        var declared = function.Method.ReturnType;
        if (declared == typeof(ValueTask) || (declared.IsGenericType && declared.GetGenericTypeDefinition() == typeof(ValueTask<>)))
        {
            yield return $"Function '{function.Name}' returns a ValueTask; return a Task.";
        }

        var returnType = UnwrapType(declared);
        if (function.Kind == TriggerKind.Http && returnType is not null && !typeof(IResult).IsAssignableFrom(returnType) && HttpResultProperty(returnType) is null)
        {
            yield return $"Function '{function.Name}' must return an IResult (or an object with an [HttpResult] IResult property).";
        }
    }

    public static PropertyInfo? HttpResultProperty(Type type) =>
        type.GetProperties().FirstOrDefault(p => p.IsDefined(typeof(HttpResultAttribute)));

    /// <summary>The <c>[QueueOutput]</c> properties of a function's return value, with the messages each holds.</summary>
    public static IEnumerable<(string Queue, string Message)> QueueOutputs(object? returned)
    {
        if (returned is null)
        {
            yield break;
        }

        foreach (var property in returned.GetType().GetProperties())
        {
            if (property.GetCustomAttribute<QueueOutputAttribute>() is not { } output)
            {
                continue;
            }

            switch (property.GetValue(returned))
            {
                case string message:
                    yield return (output.QueueName, message);
                    break;
                case IEnumerable<string> messages:
                    foreach (var message in messages)
                    {
                        yield return (output.QueueName, message);
                    }

                    break;
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="parameter"/> (of the function's method) is its trigger parameter, by position: the runtime
    /// may hand out different <see cref="ParameterInfo"/> objects for the same parameter when two threads first read a
    /// method's parameters at once, so reference equality can fail.
    /// </summary>
    private static bool IsTrigger(FunctionDescriptor function, ParameterInfo parameter) =>
        parameter.Position == function.TriggerParameter.Position;

    private static bool CanBind(FunctionDescriptor function, ParameterInfo parameter)
    {
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken) || (type == typeof(DurableTaskClient) && parameter.IsDefined(typeof(DurableClientAttribute))))
        {
            return true;
        }

        return function.Kind switch
        {
            TriggerKind.Http => type == typeof(HttpRequest) || (type == typeof(string) && function.Route.Contains('{' + parameter.Name + '}', StringComparison.OrdinalIgnoreCase)),
            TriggerKind.Queue => IsTrigger(function, parameter) && (type == typeof(string) || type == typeof(QueueMessage)),
            TriggerKind.Timer => type == typeof(TimerInfo),
            TriggerKind.Orchestration => type == typeof(TaskOrchestrationContext) || parameter.Position == OrchestrationInputParameter(function)?.Position,
            TriggerKind.Activity => IsTrigger(function, parameter) || (type == typeof(string) && parameter.Name == "instanceId"),
            _ => false,
        };
    }

    /// <summary>As the Durable extension does: the first parameter without a binding attribute is the orchestration's input.</summary>
    public static ParameterInfo? OrchestrationInputParameter(FunctionDescriptor function) =>
        function.Method.GetParameters().FirstOrDefault(p =>
            !IsTrigger(function, p) && p.ParameterType != typeof(CancellationToken) && p.ParameterType != typeof(FunctionContext)
            && !p.GetCustomAttributes().Any(a => a is Microsoft.Azure.Functions.Worker.Extensions.Abstractions.BindingAttribute));

    private static object? Bind(FunctionDescriptor function, ParameterInfo parameter, InvocationInput input)
    {
        var type = parameter.ParameterType;
        if (type == typeof(CancellationToken))
        {
            return input.CancellationToken;
        }

        if (type == typeof(DurableTaskClient))
        {
            return input.Services.GetRequiredService<DurableTaskClient>();
        }

        return function.Kind switch
        {
            TriggerKind.Http when type == typeof(HttpRequest) => input.Http!.Request,
            TriggerKind.Http => input.Http!.Request.RouteValues.TryGetValue(parameter.Name!, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null,
            TriggerKind.Queue when type == typeof(QueueMessage) => input.QueueMessage!.ToStorageQueueMessage(),
            TriggerKind.Queue => input.QueueMessage!.Body,
            TriggerKind.Timer => input.Timer,
            TriggerKind.Orchestration when type == typeof(TaskOrchestrationContext) => input.Orchestration,
            TriggerKind.Orchestration => input.TriggerValue,
            TriggerKind.Activity when IsTrigger(function, parameter) => input.TriggerValue,
            TriggerKind.Activity => input.InstanceId,
            _ => throw new InvalidOperationException($"Function '{function.Name}': parameter '{parameter.Name}' cannot be bound."),
        };
    }

    private static Type? UnwrapType(Type type) =>
        type == typeof(void) || type == typeof(Task) ? null
        : type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Task<>) ? type.GetGenericArguments()[0]
        : type;

    private static async Task<object?> UnwrapAsync(object? returned, Type declared)
    {
        if (returned is not Task task)
        {
            return returned;
        }

        await task;
        return declared.IsGenericType && declared.GetGenericTypeDefinition() == typeof(Task<>) ? declared.GetProperty("Result")!.GetValue(task) : null;
    }
}
