namespace Itsm.Durable.Tests.Engine;

/// <summary>A gate an activity waits on, so a test can hold it "running" while the engine stops.</summary>
public sealed class ActivityGate
{
    private readonly TaskCompletionSource entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool Closed { get; set; }

    public Task Entered => entered.Task;

    public async Task PassAsync(CancellationToken ct)
    {
        entered.TrySetResult();
        if (Closed)
        {
            await release.Task.WaitAsync(ct);
        }
    }

    public void Open()
    {
        Closed = false;
        release.TrySetResult();
        release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>The orchestrators and activities the engine tests run.</summary>
public static class SampleOrchestrations
{
    public static DurableFunctionRegistry Registry(ActivityGate? gate = null)
    {
        gate ??= new ActivityGate();
        return new DurableFunctionRegistry()
            .AddActivity<string, string>("Echo", (_, s) => Task.FromResult(s))
            .AddActivity<string, string>("Upper", (_, s) => Task.FromResult(s.ToUpperInvariant()))
            .AddActivity<int, int>("Square", (_, i) => Task.FromResult(i * i))
            .AddActivity<string, string>("Fail", (_, s) => throw new InvalidOperationException($"Boom: {s}"))
            .AddActivity<string, string>("Slow", async (ctx, s) =>
            {
                await gate.PassAsync(ctx.CancellationToken);
                return $"slow {s}";
            })
            .AddOrchestrator<string, string>("Chain", async (ctx, input) =>
            {
                var echoed = await ctx.CallActivityAsync<string>("Echo", input);
                return await ctx.CallActivityAsync<string>("Upper", echoed);
            })
            .AddOrchestrator<int, int>("FanOut", async (ctx, count) =>
            {
                var squares = await Task.WhenAll(Enumerable.Range(1, count).Select(i => ctx.CallActivityAsync<int>("Square", i)));
                return squares.Sum();
            })
            .AddOrchestrator<string, string>("Approval", async (ctx, _) =>
            {
                using var cancelTimer = new CancellationTokenSource();
                var approval = ctx.WaitForExternalEvent<bool>("Approval");
                var deadline = ctx.CreateTimer(TimeSpan.FromHours(24), cancelTimer.Token);
                if (await Task.WhenAny(approval, deadline) == approval)
                {
                    cancelTimer.Cancel();
                    return approval.Result ? "approved" : "rejected";
                }

                return "timed out";
            })
            .AddOrchestrator<string, string>("Parent", async (ctx, input) =>
                "parent of " + await ctx.CallSubOrchestratorAsync<string>("Chain", input, instanceId: $"{ctx.InstanceId}-child"))
            .AddOrchestrator<string, string>("FailingParent", async (ctx, input) =>
            {
                try
                {
                    return await ctx.CallSubOrchestratorAsync<string>("Failing", input);
                }
                catch (SubOrchestrationFailedException failed)
                {
                    return "child failed: " + failed.FailureDetails.InnerFailure?.ErrorMessage;
                }
            })
            .AddOrchestrator<string, string>("Failing", async (ctx, input) => await ctx.CallActivityAsync<string>("Fail", input))
            .AddOrchestrator<int, int>("Counter", (ctx, n) =>
            {
                if (n < 3)
                {
                    ctx.ContinueAsNew(n + 1);
                }

                return Task.FromResult(n);
            })
            .AddOrchestrator<string, string>("WaitForGo", async (ctx, input) =>
            {
                ctx.SetCustomStatus(new { stage = "waiting", input });
                var go = await ctx.WaitForExternalEvent<string>("Go");
                ctx.SetCustomStatus(new { stage = "done" });
                return $"went with {go}";
            })
            .AddOrchestrator<int, string>("Alarm", async (ctx, hours) =>
            {
                await ctx.CreateTimer(TimeSpan.FromHours(hours), CancellationToken.None);
                return $"rang after {hours} h";
            })
            .AddOrchestrator<string, string>("Sender", (ctx, target) =>
            {
                ctx.SendEvent(target, "Go", "a message");
                return Task.FromResult("sent");
            })
            .AddOrchestrator<string, string>("SlowChain", async (ctx, input) => await ctx.CallActivityAsync<string>("Slow", input));
    }
}
