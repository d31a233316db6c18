using DurableTask.Core;
using Itsm.DurableTask.Sqlite;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Durable Functions without the Functions host: Microsoft's DurableTask.Core engine (<see cref="TaskHubWorker"/>:
/// dispatch, replay, retries, timers) runs every <c>[OrchestrationTrigger]</c> and <c>[ActivityTrigger]</c> function
/// of the app over the SQLite provider, each wrapped by Microsoft's shims exactly as the Durable extension wraps
/// them, and functions get a <see cref="DurableTaskClient"/> over the same provider.
/// </summary>
public static class StandaloneDurable
{
    /// <summary>The task hub's own database file, next to the app's (one writer each, so ticket writes and orchestration checkpoints do not queue behind each other).</summary>
    public static string DatabasePath(string appDatabasePath)
    {
        var full = Path.GetFullPath(appDatabasePath);
        return Path.Combine(Path.GetDirectoryName(full) ?? ".", Path.GetFileNameWithoutExtension(full) + ".durable.db");
    }

    public static IServiceCollection AddStandaloneDurable(this IServiceCollection services, ItsmOptions options)
    {
        services.AddSingleton(sp => new SqliteOrchestrationService(new SqliteOrchestrationServiceSettings(DatabasePath(options.Sqlite.Path))
        {
            TimeProvider = sp.GetRequiredService<TimeProvider>(),
            LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
        }));
        services.AddSingleton<DurableTaskClient>(sp => new DurableTaskCoreClient(sp.GetRequiredService<SqliteOrchestrationService>()));
        services.AddSingleton<LegacyDurableUpgrade>();
        services.AddSingleton<StandaloneDurableWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<StandaloneDurableWorker>());
        return services;
    }
}

/// <summary>The <see cref="TaskHubWorker"/> of the standalone host, started and stopped with it.</summary>
public sealed class StandaloneDurableWorker(FunctionIndex index, SqliteOrchestrationService service, LegacyDurableUpgrade upgrade, IServiceProvider services, ILoggerFactory loggers) : IHostedService
{
    private TaskHubWorker? _worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Standalone timers are rows in SQLite with no length limit: no need to split long ones (Azure Storage needs 6 days).
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions { MaximumTimerInterval = TimeSpan.FromDays(3650) }, loggers);
        var worker = new TaskHubWorker(service, loggers);
        foreach (var function in index.OfKind(TriggerKind.Orchestration))
        {
            worker.AddTaskOrchestrations(new ShimCreator<TaskOrchestration>(function.Name, () => shims.CreateOrchestration(function.Name, new FunctionOrchestrator(function, services))));
        }

        foreach (var function in index.OfKind(TriggerKind.Activity))
        {
            worker.AddTaskActivities(new ShimCreator<global::DurableTask.Core.TaskActivity>(function.Name, () => shims.CreateActivity(function.Name, new FunctionActivity(function, services))));
        }

        await service.CreateIfNotExistsAsync();
        await worker.StartAsync();
        _worker = worker;
        await upgrade.RunAsync(cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_worker is { } worker)
        {
            await worker.StopAsync(isForced: false);
        }
    }

    /// <summary>Completes when no orchestration or activity work is due at the clock's current time and none is running.</summary>
    public Task WaitForIdleAsync(CancellationToken cancellationToken) => service.WaitForIdleAsync(cancellationToken);

    private sealed class ShimCreator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public ShimCreator(string name, Func<T> create)
        {
            Name = name;
            Version = "";
            _create = create;
        }

        public override T Create() => _create();
    }

    /// <summary>An orchestrator function as Microsoft's shim runs it: its input typed as the function's input parameter.</summary>
    private sealed class FunctionOrchestrator(FunctionDescriptor function, IServiceProvider services) : ITaskOrchestrator
    {
        public Type InputType { get; } = FunctionInvoker.OrchestrationInputParameter(function)?.ParameterType ?? typeof(object);

        public Type OutputType => typeof(object);

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
            FunctionInvoker.InvokeAsync(function, new InvocationInput(services, CancellationToken.None, TriggerValue: input, Orchestration: context));
    }

    private sealed class FunctionActivity(FunctionDescriptor function, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => function.TriggerParameter.ParameterType;

        public Type OutputType => typeof(object);

        public async Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            await using var scope = services.CreateAsyncScope();
            return await FunctionInvoker.InvokeAsync(function, new InvocationInput(scope.ServiceProvider, CancellationToken.None, TriggerValue: input, InstanceId: context.InstanceId));
        }
    }
}
