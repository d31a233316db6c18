using System.Text.Json;
using System.Text.RegularExpressions;

namespace Itsm.Functions.Hosting;

/// <summary>Every function the app declares, looked up by name (case-insensitive, as the host does).</summary>
public sealed class FunctionCatalog
{
    private readonly Dictionary<string, FunctionDefinition> _byName;

    internal FunctionCatalog(IReadOnlyList<FunctionDefinition> functions)
    {
        Functions = functions;
        _byName = functions.ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<FunctionDefinition> Functions { get; }

    public FunctionDefinition? Find(string name) => _byName.GetValueOrDefault(name);
}

/// <summary>Features declare their functions here, each through its own static <c>MapXxx</c> extension.</summary>
public sealed partial class FunctionCatalogBuilder
{
    public const string HttpTriggerBinding = "req";
    public const string HttpOutputBindingName = "res";
    public const string DefaultServiceBusConnection = "ServiceBusConnection";
    public const string DurableClientBindingName = "starter";

    private readonly List<FunctionDefinition> _functions = [];

    public FunctionCatalogBuilder Add(FunctionDefinition function)
    {
        _functions.Add(function);
        return this;
    }

    public FunctionCatalogBuilder MapHttp(
        string name,
        string method,
        string route,
        Func<HttpFunctionContext, Task<HttpResponseOutput>> handler,
        HttpAuthLevel authLevel = HttpAuthLevel.Anonymous,
        bool durableClient = false,
        ApiDocs? docs = null)
    {
        var trigger = new HttpTrigger(HttpTriggerBinding, [method.ToUpperInvariant()], route, authLevel);
        var bindings = new List<FunctionBinding> { new HttpOutputBinding(HttpOutputBindingName) };
        if (durableClient)
        {
            bindings.Add(new DurableClientBinding(DurableClientBindingName));
        }

        return Add(new FunctionDefinition(name, trigger, bindings, invocation => HttpFunctionContext.RunAsync(invocation, handler)) { Docs = docs });
    }

    public FunctionCatalogBuilder MapServiceBusQueue(
        string name,
        string queueName,
        Func<QueueMessageContext, Task> handler,
        string connection = DefaultServiceBusConnection)
    {
        var trigger = new ServiceBusQueueTrigger("message", queueName, connection);
        return Add(new FunctionDefinition(name, trigger, [], invocation => QueueMessageContext.RunAsync(invocation, handler)));
    }

    public FunctionCatalogBuilder MapTimer(string name, string schedule, Func<TimerContext, Task> handler, bool runOnStartup = false)
    {
        _ = NCrontabSchedule.Parse(schedule);
        var trigger = new TimerTrigger("timer", schedule, runOnStartup);
        return Add(new FunctionDefinition(name, trigger, [], invocation => TimerContext.RunAsync(invocation, handler)));
    }

    public FunctionCatalog Build()
    {
        var errors = new List<string>();
        foreach (var duplicate in _functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            errors.Add($"Function '{duplicate.Key}' is declared {duplicate.Count()} times.");
        }

        foreach (var function in _functions)
        {
            if (!FunctionName().IsMatch(function.Name))
            {
                errors.Add($"Function name '{function.Name}' must start with a letter and contain only letters, digits, '_' and '-' (at most 127).");
            }

            foreach (var duplicate in function.AllBindings.GroupBy(b => b.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
            {
                errors.Add($"Function '{function.Name}' has more than one binding named '{duplicate.Key}'.");
            }

            if (function.AllBindings.Any(b => b.Name == "$return") && function.Trigger is OrchestrationTrigger or ActivityTrigger)
            {
                errors.Add($"Durable function '{function.Name}' must not declare '$return'.");
            }
        }

        var routes = _functions
            .Where(f => f.Trigger is HttpTrigger)
            .SelectMany(f => ((HttpTrigger)f.Trigger).Methods.Select(m => (Method: m, Route: NormaliseRoute(((HttpTrigger)f.Trigger).Route), f.Name)))
            .GroupBy(r => (r.Method, r.Route));
        foreach (var clash in routes.Where(g => g.Count() > 1))
        {
            errors.Add($"{clash.Key.Method} {clash.Key.Route} is declared by {string.Join(", ", clash.Select(c => c.Name))}.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid function declarations: " + string.Join(" ", errors));
        }

        return new FunctionCatalog(_functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToArray());
    }

    private static string NormaliseRoute(string route) =>
        RouteParameter().Replace(route.Trim('/').ToLowerInvariant(), "{}");

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,126}$")]
    private static partial Regex FunctionName();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex RouteParameter();
}

/// <summary>An HTTP-triggered invocation as a function sees it.</summary>
public sealed class HttpFunctionContext
{
    private HttpFunctionContext(FunctionInvocation invocation, HttpTriggerRequest request)
    {
        Invocation = invocation;
        Request = request;
    }

    public FunctionInvocation Invocation { get; }

    public HttpTriggerRequest Request { get; }

    public IServiceProvider Services => Invocation.Services;

    public CancellationToken CancellationToken => Invocation.CancellationToken;

    /// <summary>The Durable client of a function declared with <c>durableClient: true</c>.</summary>
    public Itsm.Durable.Client.IDurableClient DurableClient() =>
        Services.GetRequiredService<Durable.DurableClientResolver>().Resolve(Invocation);

    internal static async Task<InvocationResult> RunAsync(FunctionInvocation invocation, Func<HttpFunctionContext, Task<HttpResponseOutput>> handler)
    {
        if (!invocation.Request.Data.TryGetValue(FunctionCatalogBuilder.HttpTriggerBinding, out var raw))
        {
            throw new EnvelopeFormatException($"Data has no '{FunctionCatalogBuilder.HttpTriggerBinding}' request object.");
        }

        var request = HttpTriggerRequest.Parse(raw);
        var limits = invocation.Services.GetService(typeof(HttpLimits)) as HttpLimits ?? HttpLimits.Default;
        var response = request.Body is { } body && body.Length > limits.MaxRequestBodyBytes
            ? HttpResults.Problem(413, "The request body is too large.", $"At most {limits.MaxRequestBodyBytes} bytes are accepted.")
            : await handler(new HttpFunctionContext(invocation, request));
        return invocation.Succeeded(outputs: new Dictionary<string, System.Text.Json.Nodes.JsonNode?>
        {
            [FunctionCatalogBuilder.HttpOutputBindingName] = response.ToJson(),
        });
    }
}

/// <summary>A queue-triggered invocation: the message body and the broker's metadata.</summary>
public sealed class QueueMessageContext
{
    private QueueMessageContext(FunctionInvocation invocation, string body)
    {
        Invocation = invocation;
        Body = body;
    }

    public FunctionInvocation Invocation { get; }

    public string Body { get; }

    public string? MessageId => Invocation.GetMetadata("MessageId") is { ValueKind: JsonValueKind.String } id ? id.GetString() : null;

    public int DeliveryCount => Invocation.GetMetadata("DeliveryCount") is { } count && count.ValueKind == JsonValueKind.Number ? count.GetInt32() : 1;

    public IServiceProvider Services => Invocation.Services;

    public CancellationToken CancellationToken => Invocation.CancellationToken;

    internal static async Task<InvocationResult> RunAsync(FunctionInvocation invocation, Func<QueueMessageContext, Task> handler)
    {
        var binding = invocation.Function.Trigger.Name;
        if (!invocation.Request.Data.TryGetValue(binding, out var raw))
        {
            throw new EnvelopeFormatException($"Data has no '{binding}' message.");
        }

        await handler(new QueueMessageContext(invocation, InvocationEnvelope.DecodeString(raw)));
        return invocation.Succeeded();
    }
}

/// <summary>A timer-triggered invocation: whether it is past due, and the schedule status the host keeps.</summary>
public sealed class TimerContext
{
    private TimerContext(FunctionInvocation invocation, bool isPastDue, DateTimeOffset? last, DateTimeOffset? next)
    {
        Invocation = invocation;
        IsPastDue = isPastDue;
        Last = last;
        Next = next;
    }

    public FunctionInvocation Invocation { get; }

    public bool IsPastDue { get; }

    public DateTimeOffset? Last { get; }

    public DateTimeOffset? Next { get; }

    public IServiceProvider Services => Invocation.Services;

    public CancellationToken CancellationToken => Invocation.CancellationToken;

    internal static async Task<InvocationResult> RunAsync(FunctionInvocation invocation, Func<TimerContext, Task> handler)
    {
        var value = invocation.GetData(invocation.Function.Trigger.Name);
        bool pastDue = false;
        DateTimeOffset? last = null, next = null;
        if (value is { ValueKind: JsonValueKind.Object } timer)
        {
            foreach (var property in timer.EnumerateObject())
            {
                if (string.Equals(property.Name, "IsPastDue", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind is JsonValueKind.True)
                {
                    pastDue = true;
                }
                else if (string.Equals(property.Name, "ScheduleStatus", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (var status in property.Value.EnumerateObject())
                    {
                        if (status.Value.ValueKind == JsonValueKind.String && status.Value.TryGetDateTimeOffset(out var instant))
                        {
                            if (string.Equals(status.Name, "Last", StringComparison.OrdinalIgnoreCase))
                            {
                                last = instant;
                            }
                            else if (string.Equals(status.Name, "Next", StringComparison.OrdinalIgnoreCase))
                            {
                                next = instant;
                            }
                        }
                    }
                }
            }
        }

        await handler(new TimerContext(invocation, pastDue, last, next));
        return invocation.Succeeded();
    }
}

/// <summary>Request size limits for HTTP functions.</summary>
public sealed record HttpLimits(int MaxRequestBodyBytes)
{
    public static readonly HttpLimits Default = new(1024 * 1024);
}
