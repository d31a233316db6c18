namespace Itsm.LoadTest;

/// <summary>
/// The load generator's arithmetic, kept pure so it can be tested: when an open-loop request is due, how late
/// it answered measured from that instant, and the percentiles printed.
/// </summary>
public static class LoadArithmetic
{
    /// <summary>
    /// The instant (Stopwatch ticks after the run's start) at which request <paramref name="index"/> (0-based) is
    /// due at a fixed arrival rate: index / rate seconds, computed from the index, so rounding never accumulates.
    /// </summary>
    public static long IntendedTicks(long index, double ratePerSecond, long ticksPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        return (long)Math.Round(index * (ticksPerSecond / ratePerSecond), MidpointRounding.AwayFromZero);
    }

    /// <summary>How many requests are due in a run of <paramref name="seconds"/> at the rate: those due before its end.</summary>
    public static long RequestsDue(double seconds, double ratePerSecond) => (long)Math.Ceiling(seconds * ratePerSecond - 1e-9);

    /// <summary>
    /// Latency in milliseconds of an open-loop request: from the instant it was due, not the instant the generator got
    /// round to sending it, so time spent queued (in the generator, the connection pool or the server) counts.
    /// </summary>
    public static double LatencyMilliseconds(long intendedTicks, long completedTicks, long ticksPerSecond) =>
        (completedTicks - intendedTicks) * 1000.0 / ticksPerSecond;

    /// <summary>Nearest-rank percentile of an ascending list; 0 when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percent / 100 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }
}
