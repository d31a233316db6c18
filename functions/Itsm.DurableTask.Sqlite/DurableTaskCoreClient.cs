using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using CoreQuery = DurableTask.Core.Query.OrchestrationQuery;
using CorePurgeResult = DurableTask.Core.PurgeResult;
using OrchestrationQuery = Microsoft.DurableTask.Client.OrchestrationQuery;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace Itsm.DurableTask.Sqlite;

/// <summary>
/// A <see cref="DurableTaskClient"/> over any DurableTask.Core <see cref="IOrchestrationServiceClient"/> (queries
/// and purges too when the service implements <see cref="IOrchestrationServiceQueryClient"/> and
/// <see cref="IOrchestrationServicePurgeClient"/>). Inputs, outputs and event payloads go through one
/// <see cref="DataConverter"/>, the one the worker's shims use, so both sides read what the other wrote.
/// </summary>
public sealed class DurableTaskCoreClient : DurableTaskClient
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(250);

    private readonly IOrchestrationServiceClient service;
    private readonly DataConverter converter;

    public DurableTaskCoreClient(IOrchestrationServiceClient service, DataConverter? dataConverter = null, string name = "DurableTask.Core")
        : base(name)
    {
        this.service = service ?? throw new ArgumentNullException(nameof(service));
        converter = dataConverter ?? Microsoft.DurableTask.Converters.JsonDataConverter.Default;
    }

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input, StartOrchestrationOptions? options, CancellationToken cancellation = default)
    {
        cancellation.ThrowIfCancellationRequested();
        var instance = new OrchestrationInstance
        {
            InstanceId = string.IsNullOrEmpty(options?.InstanceId) ? Guid.NewGuid().ToString("N") : options.InstanceId,
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var started = new ExecutionStartedEvent(-1, converter.Serialize(input))
        {
            Name = orchestratorName.Name,
            Version = options?.Version?.Version ?? string.Empty,
            OrchestrationInstance = instance,
            Tags = options?.Tags?.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal) ?? [],
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
        };
        var dedupe = options?.DedupeStatuses?.Select(s => ToCore(Enum.Parse<OrchestrationRuntimeStatus>(s, ignoreCase: true))).ToArray();
        await service.CreateTaskOrchestrationAsync(new TaskMessage { Event = started, OrchestrationInstance = instance }, dedupe);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        return service.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new EventRaisedEvent(-1, converter.Serialize(eventPayload)) { Name = eventName },
        });
    }

    /// <summary>DurableTask.Core has no "started" signal: polls, from 5 ms up to 250 ms apart.</summary>
    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var delay = FirstPoll;
        while (true)
        {
            var state = await service.GetOrchestrationStateAsync(instanceId, executionId: null);
            if (state is not null && state.OrchestrationStatus != OrchestrationStatus.Pending)
            {
                return ToMetadata(state, getInputsAndOutputs);
            }

            await Task.Delay(delay, cancellation);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestPoll.Ticks));
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var state = await service.WaitForOrchestrationAsync(instanceId, executionId: null, Timeout.InfiniteTimeSpan, cancellation);
            if (state is not null && IsTerminal(state.OrchestrationStatus))
            {
                return ToMetadata(state, getInputsAndOutputs);
            }
        }
    }

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        if (options?.Recursive == true)
        {
            throw new NotSupportedException("DurableTask.Core cannot terminate sub-orchestrations recursively; terminate each instance.");
        }

        return service.ForceTerminateTaskOrchestrationAsync(instanceId, converter.Serialize(options?.Output));
    }

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new ExecutionSuspendedEvent(-1, reason),
        });

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new ExecutionResumedEvent(-1, reason),
        });

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var state = await service.GetOrchestrationStateAsync(instanceId, executionId: null);
        return state is null ? null : ToMetadata(state, getInputsAndOutputs);
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null)
    {
        var query = QueryClient();
        return Pageable.Create(async (string? continuation, int? pageSize, CancellationToken cancellation) =>
        {
            var coreQuery = new CoreQuery
            {
                RuntimeStatus = filter?.Statuses?.Select(ToCore).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await query.GetOrchestrationWithQueryAsync(coreQuery, cancellation);
            var page = result.OrchestrationState.Select(s => ToMetadata(s, coreQuery.FetchInputsAndOutputs)).ToList();
            return new Page<OrchestrationMetadata>(page, result.ContinuationToken);
        });
    }

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        RejectRecursivePurge(options);
        var result = await PurgeClient().PurgeInstanceStateAsync(instanceId);
        return ToPurgeResult(result);
    }

    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        RejectRecursivePurge(options);
        var coreFilter = new PurgeInstanceFilter(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue,
            filter.CreatedTo?.UtcDateTime,
            filter.Statuses?.Select(ToCore).ToList())
        {
            Timeout = filter.Timeout,
        };
        var result = await PurgeClient().PurgeInstanceStateAsync(coreFilter);
        return ToPurgeResult(result);
    }

    /// <summary>Starts the instance's orchestrator again with its original input, under the same or a new instance id.</summary>
    public override async Task<string> RestartAsync(string instanceId, bool restartWithNewInstanceId = false, CancellationToken cancellation = default)
    {
        var state = await service.GetOrchestrationStateAsync(instanceId, executionId: null)
            ?? throw new ArgumentException($"No orchestration instance '{instanceId}' exists.", nameof(instanceId));
        if (!restartWithNewInstanceId && !IsTerminal(state.OrchestrationStatus))
        {
            throw new InvalidOperationException($"Orchestration '{instanceId}' is {state.OrchestrationStatus}; only a finished instance restarts under its own id.");
        }

        var instance = new OrchestrationInstance
        {
            InstanceId = restartWithNewInstanceId ? Guid.NewGuid().ToString("N") : instanceId,
            ExecutionId = Guid.NewGuid().ToString("N"),
        };
        var started = new ExecutionStartedEvent(-1, state.Input)
        {
            Name = state.Name,
            Version = state.Version ?? string.Empty,
            OrchestrationInstance = instance,
            Tags = state.Tags ?? new Dictionary<string, string>(StringComparer.Ordinal),
        };
        await service.CreateTaskOrchestrationAsync(new TaskMessage { Event = started, OrchestrationInstance = instance });
        return instance.InstanceId;
    }

    public override Task RewindInstanceAsync(string instanceId, string reason, CancellationToken cancellation = default) =>
        throw new NotSupportedException("Rewinding a failed orchestration is not supported by this client over DurableTask.Core.");

    public override Microsoft.DurableTask.Client.Entities.DurableEntityClient Entities =>
        throw new NotSupportedException("Durable entities are not supported by this client over DurableTask.Core.");

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

#pragma warning disable CS0618 // ContinuedAsNew and Canceled are obsolete in the client but still DurableTask.Core statuses.
    /// <summary>The client's status for a DurableTask.Core status.</summary>
    public static OrchestrationRuntimeStatus ToRuntimeStatus(OrchestrationStatus status) => status switch
    {
        OrchestrationStatus.Running => OrchestrationRuntimeStatus.Running,
        OrchestrationStatus.Completed => OrchestrationRuntimeStatus.Completed,
        OrchestrationStatus.ContinuedAsNew => OrchestrationRuntimeStatus.ContinuedAsNew,
        OrchestrationStatus.Failed => OrchestrationRuntimeStatus.Failed,
        OrchestrationStatus.Canceled => OrchestrationRuntimeStatus.Canceled,
        OrchestrationStatus.Terminated => OrchestrationRuntimeStatus.Terminated,
        OrchestrationStatus.Pending => OrchestrationRuntimeStatus.Pending,
        OrchestrationStatus.Suspended => OrchestrationRuntimeStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown orchestration status."),
    };

    public static OrchestrationStatus ToCore(OrchestrationRuntimeStatus status) => status switch
    {
        OrchestrationRuntimeStatus.Running => OrchestrationStatus.Running,
        OrchestrationRuntimeStatus.Completed => OrchestrationStatus.Completed,
        OrchestrationRuntimeStatus.ContinuedAsNew => OrchestrationStatus.ContinuedAsNew,
        OrchestrationRuntimeStatus.Failed => OrchestrationStatus.Failed,
        OrchestrationRuntimeStatus.Canceled => OrchestrationStatus.Canceled,
        OrchestrationRuntimeStatus.Terminated => OrchestrationStatus.Terminated,
        OrchestrationRuntimeStatus.Pending => OrchestrationStatus.Pending,
        OrchestrationRuntimeStatus.Suspended => OrchestrationStatus.Suspended,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown orchestration status."),
    };

#pragma warning restore CS0618

    public static TaskFailureDetails? ToTaskFailureDetails(FailureDetails? failure) => failure is null
        ? null
        : new TaskFailureDetails(
            failure.ErrorType,
            failure.ErrorMessage,
            failure.StackTrace,
            ToTaskFailureDetails(failure.InnerFailure),
            failure.Properties is null ? null : new Dictionary<string, object?>(failure.Properties, StringComparer.Ordinal));

    private OrchestrationMetadata ToMetadata(OrchestrationState state, bool getInputsAndOutputs) =>
        new(state.Name, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = converter,
            RuntimeStatus = ToRuntimeStatus(state.OrchestrationStatus),
            CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc)),
            LastUpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc)),
            SerializedInput = getInputsAndOutputs ? state.Input : null,
            SerializedOutput = getInputsAndOutputs ? state.Output : null,
            SerializedCustomStatus = getInputsAndOutputs ? state.Status : null,
            FailureDetails = ToTaskFailureDetails(state.FailureDetails),
            Tags = state.Tags is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(state.Tags, StringComparer.Ordinal),
        };

    private static bool IsTerminal(OrchestrationStatus status) => status is OrchestrationStatus.Completed or OrchestrationStatus.Failed
        or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    private static PurgeResult ToPurgeResult(CorePurgeResult result) => new(result.DeletedInstanceCount, result.IsComplete);

    private static void RejectRecursivePurge(PurgeInstanceOptions? options)
    {
        if (options?.Recursive == true)
        {
            throw new NotSupportedException("DurableTask.Core cannot purge sub-orchestrations recursively; purge each instance.");
        }
    }

    private IOrchestrationServiceQueryClient QueryClient() => service as IOrchestrationServiceQueryClient
        ?? throw new NotSupportedException($"{service.GetType().Name} does not implement IOrchestrationServiceQueryClient: instances cannot be queried.");

    private IOrchestrationServicePurgeClient PurgeClient() => service as IOrchestrationServicePurgeClient
        ?? throw new NotSupportedException($"{service.GetType().Name} does not implement IOrchestrationServicePurgeClient: instances cannot be purged.");
}
