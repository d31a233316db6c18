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
    public IEnumerable<FunctionBinding> AllBindings => Bindings.Prepend(Trigger);
}

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
