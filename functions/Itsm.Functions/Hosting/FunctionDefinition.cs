namespace Itsm.Functions.Hosting;

/// <summary>
/// One function, declared once. <c>function.json</c>, the standalone endpoint map and the
/// standalone triggers are all derived from these records.
/// </summary>
public sealed record FunctionDefinition(
    string Name,
    FunctionTrigger Trigger,
    IReadOnlyList<FunctionBinding> Bindings,
    FunctionHandler Handler)
{
    /// <summary>How an HTTP function appears in the OpenAPI document (none: not documented).</summary>
    public ApiDocs? Docs { get; init; }

    public IEnumerable<FunctionBinding> AllBindings => Bindings.Prepend(Trigger);
}

/// <summary>
/// OpenAPI facts of an HTTP function: a summary, the named schemas of its request body and success
/// response (components of the document), its success status, its query parameters, and whether a
/// bearer token is required.
/// </summary>
public sealed record ApiDocs(
    string Summary,
    int SuccessStatus = 200,
    string? RequestSchema = null,
    string? ResponseSchema = null,
    IReadOnlyList<string>? QueryParameters = null,
    bool RequiresToken = true);

/// <summary>Runs one invocation. The envelope has already been parsed and string values decoded.</summary>
public delegate Task<InvocationResult> FunctionHandler(FunctionInvocation invocation);

public abstract record FunctionBinding(string Name, string Type, BindingDirection Direction);

public enum BindingDirection
{
    In,
    Out,
}

public abstract record FunctionTrigger(string Name, string Type) : FunctionBinding(Name, Type, BindingDirection.In);

public enum HttpAuthLevel
{
    Anonymous,
    Function,
    Admin,
}

/// <summary>HTTP trigger. <paramref name="Route"/> is relative to the <c>api</c> prefix, in Functions route syntax.</summary>
public sealed record HttpTrigger(string Name, IReadOnlyList<string> Methods, string Route, HttpAuthLevel AuthLevel)
    : FunctionTrigger(Name, "httpTrigger");

public sealed record ServiceBusQueueTrigger(string Name, string QueueName, string Connection)
    : FunctionTrigger(Name, "serviceBusTrigger");

/// <summary>Timer trigger with a six-field NCRONTAB schedule (seconds first), evaluated in UTC.</summary>
public sealed record TimerTrigger(string Name, string Schedule, bool RunOnStartup = false, bool UseMonitor = true)
    : FunctionTrigger(Name, "timerTrigger");

public sealed record OrchestrationTrigger(string Name) : FunctionTrigger(Name, "orchestrationTrigger");

public sealed record ActivityTrigger(string Name) : FunctionTrigger(Name, "activityTrigger");

public sealed record HttpOutputBinding(string Name) : FunctionBinding(Name, "http", BindingDirection.Out);

public sealed record DurableClientBinding(string Name) : FunctionBinding(Name, "durableClient", BindingDirection.In);

public sealed record ServiceBusOutputBinding(string Name, string QueueName, string Connection)
    : FunctionBinding(Name, "serviceBus", BindingDirection.Out);
