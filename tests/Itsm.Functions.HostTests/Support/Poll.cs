using System.Diagnostics;

namespace Itsm.Functions.HostTests.Support;

/// <summary>Waiting for what users would see, with a deadline instead of fixed sleeps.</summary>
public static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);

    /// <summary>Calls <paramref name="probe"/> until it answers a value that <paramref name="done"/> accepts; fails after <paramref name="patience"/> with the last value seen.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan patience, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        T last;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                last = await probe();
                if (done(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
            {
                // The app is (re)starting: keep asking until the deadline.
                last = default!;
                lastError = ex;
            }

            if (stopwatch.Elapsed > patience)
            {
                throw new TimeoutException($"Waited {patience.TotalSeconds:0} s for {what}; last seen: {Describe(last)}{(lastError is null ? "" : $" (last error: {lastError.Message})")}");
            }

            await Task.Delay(Interval);
        }
    }

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan patience, string what) =>
        UntilAsync(condition, ok => ok, patience, what);

    private static string Describe<T>(T value) => value switch
    {
        null => "nothing",
        System.Text.Json.JsonElement json => json.ToString() is { Length: > 2000 } text ? text[..2000] + "..." : json.ToString(),
        _ => value.ToString() ?? "",
    };
}
