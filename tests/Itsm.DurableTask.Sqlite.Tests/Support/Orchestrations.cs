using System.Collections.Concurrent;
using Microsoft.DurableTask;

namespace Itsm.DurableTask.Sqlite.Tests.Support;

/// <summary>The orchestrators and activities the conformance scenarios run.</summary>
internal static class Orchestrations
{
    public static IEnumerable<(string Name, Func<ITaskOrchestrator> Create)> Orchestrators =>
    [
        (nameof(ChainOrchestrator), () => new ChainOrchestrator()),
        (nameof(RetryOrchestrator), () => new RetryOrchestrator()),
        (nameof(CaughtFailureOrchestrator), () => new CaughtFailureOrchestrator()),
        (nameof(UncaughtFailureOrchestrator), () => new UncaughtFailureOrchestrator()),
        (nameof(TimerOrchestrator), () => new TimerOrchestrator()),
        (nameof(AlarmOrchestrator), () => new AlarmOrchestrator()),
        (nameof(ApprovalOrchestrator), () => new ApprovalOrchestrator()),
        (nameof(ParentOrchestrator), () => new ParentOrchestrator()),
        (nameof(FanOutOrchestrator), () => new FanOutOrchestrator()),
        (nameof(CounterOrchestrator), () => new CounterOrchestrator()),
        (nameof(GateOrchestrator), () => new GateOrchestrator()),
    ];

    public static IEnumerable<(string Name, Func<ITaskActivity> Create)> Activities =>
    [
        (nameof(AddOneActivity), () => new AddOneActivity()),
        (nameof(FlakyActivity), () => new FlakyActivity()),
        (nameof(FailingActivity), () => new FailingActivity()),
        (nameof(SquareActivity), () => new SquareActivity()),
    ];
}

internal sealed record ApprovalInput(int TimeoutMs, bool PreludeActivity);

/// <summary>Three activities in a row: start + 3.</summary>
internal sealed class ChainOrchestrator : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var value = input;
        for (var i = 0; i < 3; i++)
        {
            value = await context.CallActivityAsync<int>(nameof(AddOneActivity), value);
        }

        return value;
    }
}

internal sealed class AddOneActivity : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input + 1);
}

internal sealed class RetryOrchestrator : TaskOrchestrator<string, int>
{
    public override Task<int> RunAsync(TaskOrchestrationContext context, string input) =>
        context.CallActivityAsync<int>(nameof(FlakyActivity), input, TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromMilliseconds(20))));
}

/// <summary>Fails the first two attempts for a key, then returns the attempt number.</summary>
internal sealed class FlakyActivity : TaskActivity<string, int>
{
    public static ConcurrentDictionary<string, int> Attempts { get; } = new(StringComparer.Ordinal);

    public override Task<int> RunAsync(TaskActivityContext context, string input)
    {
        var attempt = Attempts.AddOrUpdate(input, 1, (_, n) => n + 1);
        return attempt <= 2 ? throw new InvalidOperationException($"attempt {attempt} fails") : Task.FromResult(attempt);
    }
}

internal sealed class FailingActivity : TaskActivity<string, string>
{
    public override Task<string> RunAsync(TaskActivityContext context, string input) =>
        throw new InvalidOperationException($"the CMDB refused {input}");
}

internal sealed class CaughtFailureOrchestrator : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        try
        {
            return await context.CallActivityAsync<string>(nameof(FailingActivity), input);
        }
        catch (TaskFailedException failure)
        {
            return $"caught {failure.FailureDetails.ErrorType}: {failure.FailureDetails.ErrorMessage}";
        }
    }
}

internal sealed class UncaughtFailureOrchestrator : TaskOrchestrator<string, string>
{
    public override Task<string> RunAsync(TaskOrchestrationContext context, string input) =>
        context.CallActivityAsync<string>(nameof(FailingActivity), input);
}

internal sealed class TimerOrchestrator : TaskOrchestrator<int, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, int input)
    {
        var started = context.CurrentUtcDateTime;
        await context.CreateTimer(started.AddMilliseconds(input), CancellationToken.None);
        return $"waited {(context.CurrentUtcDateTime - started).TotalMilliseconds >= input}";
    }
}

/// <summary>A timer at an absolute time (for the fake clock).</summary>
internal sealed class AlarmOrchestrator : TaskOrchestrator<DateTime, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, DateTime input)
    {
        await context.CreateTimer(input, CancellationToken.None);
        return "rang";
    }
}

/// <summary>An approval raced against a timeout, as the change approval flow does.</summary>
internal sealed class ApprovalOrchestrator : TaskOrchestrator<ApprovalInput, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, ApprovalInput input)
    {
        if (input.PreludeActivity)
        {
            await context.CallActivityAsync<int>(nameof(AddOneActivity), 1);
        }

        using var timeout = new CancellationTokenSource();
        var approval = context.WaitForExternalEvent<string>("Approval");
        var timer = context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(input.TimeoutMs), timeout.Token);
        context.SetCustomStatus("waiting");
        var winner = await Task.WhenAny(approval, timer);
        if (winner == approval)
        {
            // Cancel synchronously: CancelAsync would resume the orchestrator off its replay thread, and it would never finish.
            timeout.Cancel();
            return $"approved by {approval.Result}";
        }

        return "timed out";
    }
}

internal sealed class ParentOrchestrator : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
    {
        var first = await context.CallSubOrchestratorAsync<int>(nameof(ChainOrchestrator), input);
        var second = await context.CallSubOrchestratorAsync<int>(nameof(ChainOrchestrator), first);
        return second;
    }
}

internal sealed class FanOutOrchestrator : TaskOrchestrator<int, long>
{
    public override async Task<long> RunAsync(TaskOrchestrationContext context, int input)
    {
        var tasks = Enumerable.Range(1, input).Select(i => context.CallActivityAsync<long>(nameof(SquareActivity), i)).ToList();
        var squares = await Task.WhenAll(tasks);
        return squares.Sum();
    }
}

internal sealed class SquareActivity : TaskActivity<int, long>
{
    public override Task<long> RunAsync(TaskActivityContext context, int input) => Task.FromResult((long)input * input);
}

internal sealed record CounterState(int Total, int Generation);

/// <summary>Adds one "Add" event per generation, continuing as new with the events it has not handled yet.</summary>
internal sealed class CounterOrchestrator : TaskOrchestrator<CounterState, CounterState>
{
    public override async Task<CounterState> RunAsync(TaskOrchestrationContext context, CounterState input)
    {
        var add = await context.WaitForExternalEvent<int>("Add");
        var next = new CounterState(input.Total + add, input.Generation + 1);
        if (add == 0)
        {
            return next;
        }

        context.ContinueAsNew(next, preserveUnprocessedEvents: true);
        return next;
    }
}

/// <summary>Waits for "Go" and returns its payload, reporting its stage in the custom status.</summary>
internal sealed class GateOrchestrator : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
    {
        context.SetCustomStatus(new GateStatus("waiting", input));
        var value = await context.WaitForExternalEvent<string>("Go");
        context.SetCustomStatus(new GateStatus("done", value));
        return $"{input} went with {value}";
    }
}

internal sealed record GateStatus(string Stage, string Detail);
