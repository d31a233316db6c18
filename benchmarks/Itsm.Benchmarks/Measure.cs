using System.Diagnostics;
using System.Globalization;

namespace Itsm.Benchmarks;

/// <summary>Small helpers shared by the commands: options, percentiles, machine and memory lines.</summary>
internal static class Measure
{
    public static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    public static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is { } text ? int.Parse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : fallback;

    public static double DoubleOption(string[] args, string name, double fallback) =>
        Option(args, name) is { } text ? double.Parse(text, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static string Summary(List<double> values, string unit)
    {
        values.Sort();
        return string.Create(CultureInfo.InvariantCulture,
            $"n={values.Count} p50={Percentile(values, 50):F1}{unit} p90={Percentile(values, 90):F1}{unit} p99={Percentile(values, 99):F1}{unit} max={(values.Count == 0 ? double.NaN : values[^1]):F1}{unit}");
    }

    public static string Machine() => string.Create(CultureInfo.InvariantCulture,
        $"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {Environment.OSVersion.VersionString}, .NET {Environment.Version}, " +
        $"server GC {System.Runtime.GCSettings.IsServerGC}; load average {LoadAverage()}");

    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Working set and GC heap after a full blocking collection.</summary>
    public static string Memory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        var info = GC.GetGCMemoryInfo();
        return string.Create(CultureInfo.InvariantCulture,
            $"working set {process.WorkingSet64 / 1048576.0:F0} MiB, private {process.PrivateMemorySize64 / 1048576.0:F0} MiB, " +
            $"GC heap {info.HeapSizeBytes / 1048576.0:F1} MiB (live {GC.GetTotalMemory(false) / 1048576.0:F1} MiB)");
    }

    public static string FileSizes(string databasePath)
    {
        long Size(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"database {Size(databasePath) / 1048576.0:F1} MiB + WAL {Size(databasePath + "-wal") / 1048576.0:F1} MiB");
    }
}
