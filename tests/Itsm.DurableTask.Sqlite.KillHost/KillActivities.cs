using Microsoft.DurableTask;

namespace Itsm.DurableTask.Sqlite.KillHost;

internal static class KillActivities
{
    public static ResultStore Results { get; set; } = null!;

    public static bool Block { get; set; }

    public static IEnumerable<(string Name, Func<ITaskOrchestrator> Create)> Orchestrators =>
    [
        (nameof(KillChainOrchestrator), () => new KillChainOrchestrator()),
        (nameof(KillSlowOrchestrator), () => new KillSlowOrchestrator()),
        (nameof(KillAlarmOrchestrator), () => new KillAlarmOrchestrator()),
    ];

    public static IEnumerable<(string Name, Func<ITaskActivity> Create)> Activities =>
    [
        (nameof(StepActivity), () => new StepActivity()),
        (nameof(RecordActivity), () => new RecordActivity()),
        (nameof(SlowActivity), () => new SlowActivity()),
        (nameof(RecordFiredActivity), () => new RecordFiredActivity()),
    ];
}

internal sealed record Recorded(string InstanceId, long Value);

internal sealed record Fired(string InstanceId, DateTime Due);

/// <summary>Three steps, then the result recorded once per instance (idempotently) in the side database.</summary>
internal sealed class KillChainOrchestrator : TaskOrchestrator<int, long>
{
    public override async Task<long> RunAsync(TaskOrchestrationContext context, int input)
    {
        long value = input;
        for (var i = 0; i < 3; i++)
        {
            value = await context.CallActivityAsync<long>(nameof(StepActivity), value);
        }

        await context.CallActivityAsync<bool>(nameof(RecordActivity), new Recorded(context.InstanceId, value));
        return value;
    }
}

internal sealed class StepActivity : TaskActivity<long, long>
{
    public override Task<long> RunAsync(TaskActivityContext context, long input) => Task.FromResult(input + 1);
}

internal sealed class RecordActivity : TaskActivity<Recorded, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, Recorded input) =>
        Task.FromResult(KillActivities.Results.Record(input.InstanceId, input.Value));
}

internal sealed class KillSlowOrchestrator : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        var output = await context.CallActivityAsync<string>(nameof(SlowActivity), input);
        await context.CallActivityAsync<bool>(nameof(RecordActivity), new Recorded(context.InstanceId, output.Length));
        return output;
    }
}

/// <summary>Counts its attempts; with --block it hangs after reporting, so the test can kill the process mid-activity.</summary>
internal sealed class SlowActivity : TaskActivity<string, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, string input)
    {
        var attempt = KillActivities.Results.CountAttempt(context.InstanceId);
        Console.WriteLine($"activity-running {attempt}");
        if (KillActivities.Block)
        {
            await Task.Delay(Timeout.Infinite);
        }

        return $"{input} handled";
    }
}

internal sealed class KillAlarmOrchestrator : TaskOrchestrator<DateTime, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, DateTime input)
    {
        await context.CreateTimer(input, CancellationToken.None);
        await context.CallActivityAsync<bool>(nameof(RecordFiredActivity), new Fired(context.InstanceId, input));
        return "fired";
    }
}

/// <summary>Records the real time at which the activity after the timer ran.</summary>
internal sealed class RecordFiredActivity : TaskActivity<Fired, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, Fired input)
    {
        var now = DateTime.UtcNow;
        if (input.InstanceId.StartsWith("warm-up-", StringComparison.Ordinal))
        {
            return Task.FromResult(false);
        }

        return Task.FromResult(KillActivities.Results.RecordFired(input.InstanceId, input.Due, now));
    }
}
