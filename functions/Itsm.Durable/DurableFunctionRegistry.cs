using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Itsm.Durable;

/// <summary>
/// The orchestrators and activities of the app, by name. Names are compared case-insensitively
/// (as the Durable extension does) and must be unique across both kinds, because each one is a
/// function folder of the Functions app.
/// </summary>
public sealed class DurableFunctionRegistry
{
    private readonly Dictionary<string, Func<IServiceProvider, ITaskOrchestrator>> orchestrators = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Func<IServiceProvider, ITaskActivity>> activities = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> OrchestratorNames => orchestrators.Keys;

    public IReadOnlyCollection<string> ActivityNames => activities.Keys;

    /// <summary>Registers an orchestrator class, built per episode with constructor injection from the services.</summary>
    public DurableFunctionRegistry AddOrchestrator<TOrchestrator>(string name)
        where TOrchestrator : class, ITaskOrchestrator =>
        AddOrchestrator(name, services => ActivatorUtilities.CreateInstance<TOrchestrator>(services));

    /// <summary>Registers an orchestrator built by a factory, once per episode.</summary>
    public DurableFunctionRegistry AddOrchestrator<TOrchestrator>(string name, Func<IServiceProvider, TOrchestrator> factory)
        where TOrchestrator : class, ITaskOrchestrator
    {
        ArgumentNullException.ThrowIfNull(factory);
        EnsureNewName(name);
        orchestrators.Add(name, factory);
        return this;
    }

    /// <summary>Registers an orchestrator written as a function.</summary>
    public DurableFunctionRegistry AddOrchestrator<TInput, TOutput>(string name, Func<TaskOrchestrationContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return AddOrchestrator(name, _ => new DelegateOrchestrator<TInput, TOutput>(implementation));
    }

    /// <summary>Registers an activity class, built per call with constructor injection from the services.</summary>
    public DurableFunctionRegistry AddActivity<TActivity>(string name)
        where TActivity : class, ITaskActivity =>
        AddActivity(name, services => ActivatorUtilities.CreateInstance<TActivity>(services));

    public DurableFunctionRegistry AddActivity<TActivity>(string name, Func<IServiceProvider, TActivity> factory)
        where TActivity : class, ITaskActivity
    {
        ArgumentNullException.ThrowIfNull(factory);
        EnsureNewName(name);
        activities.Add(name, factory);
        return this;
    }

    /// <summary>Registers an activity written as a function.</summary>
    public DurableFunctionRegistry AddActivity<TInput, TOutput>(string name, Func<TaskActivityContext, TInput, Task<TOutput>> implementation)
    {
        ArgumentNullException.ThrowIfNull(implementation);
        return AddActivity(name, _ => new DelegateActivity<TInput, TOutput>(implementation));
    }

    public bool ContainsOrchestrator(string name) => orchestrators.ContainsKey(name);

    public bool ContainsActivity(string name) => activities.ContainsKey(name);

    /// <summary>Creates the orchestrator registered under <paramref name="name"/>, if any.</summary>
    public bool TryCreateOrchestrator(string name, IServiceProvider services, [NotNullWhen(true)] out ITaskOrchestrator? orchestrator)
    {
        orchestrator = orchestrators.TryGetValue(name, out var factory) ? factory(services) : null;
        return orchestrator is not null;
    }

    /// <summary>Creates the activity registered under <paramref name="name"/>, if any.</summary>
    public bool TryCreateActivity(string name, IServiceProvider services, [NotNullWhen(true)] out ITaskActivity? activity)
    {
        activity = activities.TryGetValue(name, out var factory) ? factory(services) : null;
        return activity is not null;
    }

    private void EnsureNewName(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (orchestrators.ContainsKey(name) || activities.ContainsKey(name))
        {
            throw new ArgumentException($"A durable function named '{name}' is already registered (names are case-insensitive).", nameof(name));
        }
    }
}

/// <summary>Used when the caller has no service provider: resolves nothing.</summary>
internal sealed class EmptyServiceProvider : IServiceProvider
{
    public static EmptyServiceProvider Instance { get; } = new();

    public object? GetService(Type serviceType) => null;
}
