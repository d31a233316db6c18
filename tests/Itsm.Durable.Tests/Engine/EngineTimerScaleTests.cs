using System.Diagnostics;
using Itsm.Durable.Engine;

namespace Itsm.Durable.Tests.Engine;

public sealed class EngineTimerScaleTests
{
    [Fact]
    public async Task Ten_thousand_instances_waiting_on_timers_complete_when_the_clock_passes_their_due_times()
    {
        const int count = 10_000;
        await using var harness = await EngineHarness.StartAsync(options => options with { MaxConcurrentOrchestrations = 32 });
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await harness.Engine.StartAsync("Alarm", $"alarm-{i:D5}", (1 + (i % 3)).ToString(System.Globalization.CultureInfo.InvariantCulture), CancellationToken.None);
        }

        var created = watch.Elapsed;
        await harness.IdleAsync();
        var started = watch.Elapsed;

        // Every instance now waits on a timer; the engine holds only its next wake-up.
        Assert.InRange(harness.Clock.ActiveTimers, 0, 2);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("alarm-00000")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await harness.StatusAsync("alarm-00000")).RuntimeStatus);
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await harness.StatusAsync("alarm-00001")).RuntimeStatus);

        await harness.AdvanceAsync(TimeSpan.FromHours(2));
        watch.Stop();

        for (var i = 0; i < count; i++)
        {
            var status = await harness.Engine.GetStatusAsync($"alarm-{i:D5}", includeInputsAndOutputs: false, CancellationToken.None);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, status!.RuntimeStatus);
        }

        Assert.Equal(2 * count, harness.Invoker.Calls("Alarm"));
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(2), $"created {created}, first episodes {started}, all {watch.Elapsed}");
    }
}
