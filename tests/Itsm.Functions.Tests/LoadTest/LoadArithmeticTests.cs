using Itsm.LoadTest;

namespace Itsm.Functions.Tests.LoadTest;

/// <summary>The open-loop load generator's schedule and latency arithmetic (tools/Itsm.LoadTest, linked in).</summary>
public class LoadArithmeticTests
{
    private const long TicksPerSecond = 10_000_000;

    [Fact]
    public void Requests_are_due_at_fixed_intervals_from_the_start_without_drift()
    {
        Assert.Equal(0, LoadArithmetic.IntendedTicks(0, 200, TicksPerSecond));
        Assert.Equal(50_000, LoadArithmetic.IntendedTicks(1, 200, TicksPerSecond));

        // 1/3 s intervals: computed from the index, so the millionth is exactly on time, not off by rounding a millionfold.
        Assert.Equal(3_333_333_333_333, LoadArithmetic.IntendedTicks(1_000_000, 3, TicksPerSecond));
    }

    [Fact]
    public void A_run_sends_rate_times_duration_requests()
    {
        Assert.Equal(12_000, LoadArithmetic.RequestsDue(60, 200));
        Assert.Equal(1, LoadArithmetic.RequestsDue(0.001, 200));
        Assert.Equal(0, LoadArithmetic.RequestsDue(0, 200));
    }

    [Fact]
    public void Latency_counts_from_the_due_instant_so_time_queued_before_sending_shows()
    {
        // Due at 1 s, sent late at 1.2 s because the server was busy, answered 5 ms after sending: 205 ms, not 5 ms.
        var due = LoadArithmetic.IntendedTicks(200, 200, TicksPerSecond);
        var answered = due + (TicksPerSecond / 5) + (TicksPerSecond / 200);
        Assert.Equal(205, LoadArithmetic.LatencyMilliseconds(due, answered, TicksPerSecond), precision: 6);
    }

    [Fact]
    public void Percentiles_are_nearest_rank()
    {
        var sorted = Enumerable.Range(1, 100).Select(i => (double)i).ToList();
        Assert.Equal(50, LoadArithmetic.Percentile(sorted, 50));
        Assert.Equal(99, LoadArithmetic.Percentile(sorted, 99));
        Assert.Equal(100, LoadArithmetic.Percentile(sorted, 100));
        Assert.Equal(1, LoadArithmetic.Percentile(sorted, 0));
        Assert.Equal(7, LoadArithmetic.Percentile([7], 99));
        Assert.Equal(0, LoadArithmetic.Percentile([], 99));
    }
}
