using DurableTask.Core;
using Itsm.DurableTask.Sqlite;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Itsm.DurableTask.Sqlite.Testing;

/// <summary>
/// A DurableTask.Core <see cref="TaskHubWorker"/> running <see cref="ITaskOrchestrator"/>/<see cref="ITaskActivity"/>
/// classes through Microsoft's shims, on any orchestration service, with a <see cref="DurableTaskCoreClient"/>.
/// </summary>
internal sealed class WorkerHost : IAsyncDisposable
{
    private static readonly DurableTaskShimFactory Shims = new();

    private WorkerHost(TaskHubWorker worker, DurableTaskCoreClient client)
    {
        Worker = worker;
        Client = client;
    }

    public TaskHubWorker Worker { get; }

    public DurableTaskCoreClient Client { get; }

    public static async Task<WorkerHost> StartAsync(
        IOrchestrationService service,
        IEnumerable<(string Name, Func<ITaskOrchestrator> Create)> orchestrators,
        IEnumerable<(string Name, Func<ITaskActivity> Create)> activities,
        ILoggerFactory? loggerFactory = null)
    {
        var worker = new TaskHubWorker(service, loggerFactory ?? NullLoggerFactory.Instance)
        {
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        worker.AddTaskOrchestrations(orchestrators.Select(o => (ObjectCreator<TaskOrchestration>)new OrchestrationCreator(o.Name, o.Create)).ToArray());
        worker.AddTaskActivities(activities.Select(a => (ObjectCreator<TaskActivity>)new ActivityCreator(a.Name, a.Create)).ToArray());
        await service.CreateIfNotExistsAsync();
        await worker.StartAsync();
        return new WorkerHost(worker, new DurableTaskCoreClient((IOrchestrationServiceClient)service));
    }

    public async ValueTask DisposeAsync()
    {
        await Worker.StopAsync(isForced: true);
        Worker.Dispose();
    }

    /// <summary>A new shim for every execution, as DurableTask.Core expects.</summary>
    private sealed class OrchestrationCreator : ObjectCreator<TaskOrchestration>
    {
        private readonly Func<ITaskOrchestrator> create;

        public OrchestrationCreator(string name, Func<ITaskOrchestrator> create)
        {
            Name = name;
            Version = string.Empty;
            this.create = create;
        }

        public override TaskOrchestration Create() => Shims.CreateOrchestration(new TaskName(Name), create(), parent: null);
    }

    private sealed class ActivityCreator : ObjectCreator<TaskActivity>
    {
        private readonly Func<ITaskActivity> create;

        public ActivityCreator(string name, Func<ITaskActivity> create)
        {
            Name = name;
            Version = string.Empty;
            this.create = create;
        }

        public override TaskActivity Create() => Shims.CreateActivity(new TaskName(Name), create());
    }
}
