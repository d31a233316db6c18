using Itsm.Durable;

namespace Itsm.Functions.Tests.Support;

/// <summary>The orchestration of the protocol notes' worked example: call A, then an Approval event races a 24 h timer.</summary>
public static class SampleDurableFunctions
{
    public static DurableFunctionRegistry Create() =>
        new DurableFunctionRegistry()
            .AddOrchestrator<string, ApprovalOutcome>("ApprovalFlow", async (context, input) =>
            {
                var a = await context.CallActivityAsync<string>("A", input);
                using var cancelTimer = new CancellationTokenSource();
                var timer = context.CreateTimer(context.CurrentUtcDateTime.AddHours(24), cancelTimer.Token);
                var approval = context.WaitForExternalEvent<bool>("Approval");
                if (await Task.WhenAny(approval, timer) == approval)
                {
                    // Synchronous on purpose: CancelAsync would continue on the thread pool, outside the replay scheduler.
#pragma warning disable CA1849
                    cancelTimer.Cancel();
#pragma warning restore CA1849
                    return new ApprovalOutcome(a!, await approval, TimedOut: null);
                }

                return new ApprovalOutcome(a!, false, TimedOut: true);
            })
            .AddActivity<string, string>("A", (_, _) => Task.FromResult("A-done"))
            .AddActivity<string, string>("Fails", (_, _) => throw new InvalidOperationException("the CMDB is unreachable"));
}

public sealed record ApprovalOutcome(string A, bool Approved, bool? TimedOut);
