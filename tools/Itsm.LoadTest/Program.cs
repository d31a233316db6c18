using System.Diagnostics;
using System.Globalization;
using Itsm.LoadTest;

// An HTTP load generator with two modes.
// Closed loop (default): N workers each send the next request as soon as the previous one answers, for a fixed
// duration after a warm-up; latency is from send to answer, so a slow server also slows the arrivals.
// Open loop (--rate R): requests are due at a fixed rate whatever the answers (request i at i/R s), sent
// concurrently; latency is measured from the instant each was due, so queueing (in the generator, the connection
// pool or the server) shows in the percentiles instead of hiding as a lower arrival rate.
// Prints throughput and p50/p90/p99/max.
var options = LoadOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Itsm.LoadTest --url URL [--method GET|POST] [--body TEXT] [--header \"Name: value\"]... (repeatable) [--concurrency 32 | --rate PER_SECOND [--max-in-flight 1024]] [--duration 20] [--warmup 3]");
    return 2;
}

var connections = options.Rate is null ? options.Concurrency : options.MaxInFlight;
using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

RunResult result;
RunResult warmup;
string mode;
if (options.Rate is { } rate)
{
    warmup = await RunOpenLoopAsync(client, options, rate, TimeSpan.FromSeconds(options.WarmupSeconds), record: true);
    result = await RunOpenLoopAsync(client, options, rate, TimeSpan.FromSeconds(options.DurationSeconds), record: true);
    mode = string.Create(CultureInfo.InvariantCulture, $"open-loop rate={rate:F0}/s");
}
else
{
    warmup = await RunAsync(client, options, TimeSpan.FromSeconds(options.WarmupSeconds), record: true);
    result = await RunAsync(client, options, TimeSpan.FromSeconds(options.DurationSeconds), record: true);
    mode = string.Create(CultureInfo.InvariantCulture, $"concurrency={options.Concurrency}");
}

var latencies = result.Latencies;
latencies.Sort();
double Percentile(double p) => LoadArithmetic.Percentile(latencies, p);
var seconds = result.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{options.Method} {options.Url} {mode} duration={seconds:F1}s requests={latencies.Count} errors={result.Errors} " +
    $"throughput={latencies.Count / seconds:F0}/s p50={Percentile(50):F2}ms p90={Percentile(90):F2}ms p99={Percentile(99):F2}ms max={(latencies.Count == 0 ? 0 : latencies[^1]):F2}ms"));

// Every success answer, the warm-up's included: what a write benchmark checks against the database afterwards.
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"acknowledged={warmup.Latencies.Count + latencies.Count}"));
return result.Errors == 0 ? 0 : 1;

static HttpRequestMessage NewRequest(LoadOptions options)
{
    var request = new HttpRequestMessage(new HttpMethod(options.Method), options.Url);
    if (options.Body is not null)
    {
        request.Content = new StringContent(options.Body, System.Text.Encoding.UTF8, "application/json");
    }

    foreach (var (name, value) in options.Headers)
    {
        request.Headers.TryAddWithoutValidation(name, value);
    }

    return request;
}

/// <summary>
/// Open loop: request i is due at i / rate seconds after the start; the scheduler waits for that instant (or sends at
/// once when it is already late) and never waits for answers. The run ends when every due request has answered, and
/// its elapsed time runs to that last answer, so throughput falls if the server cannot keep up.
/// </summary>
static async Task<RunResult> RunOpenLoopAsync(HttpClient client, LoadOptions options, double rate, TimeSpan duration, bool record)
{
    var due = LoadArithmetic.RequestsDue(duration.TotalSeconds, rate);
    var latencies = new double[due];
    var failed = new bool[due];
    var errors = 0;
    using var inFlight = new SemaphoreSlim(options.MaxInFlight);
    var tasks = new List<Task>((int)Math.Min(due, 1_000_000));
    var start = Stopwatch.GetTimestamp();
    for (long i = 0; i < due; i++)
    {
        var intended = start + LoadArithmetic.IntendedTicks(i, rate, Stopwatch.Frequency);
        var wait = intended - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            // Task.Delay has millisecond granularity at best: sleep for the bulk, then yield until the instant.
            var milliseconds = wait * 1000 / Stopwatch.Frequency;
            if (milliseconds >= 2)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(milliseconds - 1));
            }

            while (Stopwatch.GetTimestamp() < intended)
            {
                await Task.Yield();
            }
        }

        // Past the cap, the request waits here and its wait counts in its latency (it was due already).
        await inFlight.WaitAsync();
        var index = i;
        tasks.Add(Task.Run(async () =>
        {
            try
            {
                using var request = NewRequest(options);
                using var response = await client.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                failed[index] = !response.IsSuccessStatusCode;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                failed[index] = true;
            }
            finally
            {
                latencies[index] = LoadArithmetic.LatencyMilliseconds(intended, Stopwatch.GetTimestamp(), Stopwatch.Frequency);
                inFlight.Release();
            }
        }));
    }

    await Task.WhenAll(tasks);
    var elapsed = Stopwatch.GetElapsedTime(start);
    var recorded = new List<double>(latencies.Length);
    for (var i = 0; i < latencies.Length; i++)
    {
        if (failed[i])
        {
            errors++;
        }
        else if (record)
        {
            recorded.Add(latencies[i]);
        }
    }

    return new RunResult(elapsed, recorded, errors);
}

static async Task<RunResult> RunAsync(HttpClient client, LoadOptions options, TimeSpan duration, bool record)
{
    var stopwatch = Stopwatch.StartNew();
    var perWorker = new List<double>[options.Concurrency];
    var errors = 0;
    var workers = Enumerable.Range(0, options.Concurrency).Select(async worker =>
    {
        var latencies = perWorker[worker] = new List<double>(100_000);
        while (stopwatch.Elapsed < duration)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var request = NewRequest(options);
                using var response = await client.SendAsync(request);
                await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref errors);
                continue;
            }

            if (record)
            {
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }).ToArray();
    await Task.WhenAll(workers);
    return new RunResult(stopwatch.Elapsed, perWorker.SelectMany(l => l).ToList(), errors);
}

internal sealed record RunResult(TimeSpan Elapsed, List<double> Latencies, int Errors);

internal sealed record LoadOptions(Uri Url, string Method, string? Body, IReadOnlyList<(string Name, string Value)> Headers, int Concurrency, int DurationSeconds, int WarmupSeconds, double? Rate, int MaxInFlight)
{
    public static LoadOptions? Parse(string[] args)
    {
        string? Value(string name)
        {
            var index = Array.IndexOf(args, name);
            return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
        }

        if (!Uri.TryCreate(Value("--url"), UriKind.Absolute, out var url))
        {
            return null;
        }

        // --header may repeat: "Authorization: Bearer <token>".
        var headers = new List<(string, string)>();
        for (var i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--header")
            {
                var colon = args[i + 1].IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    return null;
                }

                headers.Add((args[i + 1][..colon].Trim(), args[i + 1][(colon + 1)..].Trim()));
            }
        }

        double? rate = Value("--rate") is { } r ? double.Parse(r, CultureInfo.InvariantCulture) : null;
        if (rate is <= 0)
        {
            return null;
        }

        return new LoadOptions(
            url,
            (Value("--method") ?? "GET").ToUpperInvariant(),
            Value("--body"),
            headers,
            int.Parse(Value("--concurrency") ?? "32", CultureInfo.InvariantCulture),
            int.Parse(Value("--duration") ?? "20", CultureInfo.InvariantCulture),
            int.Parse(Value("--warmup") ?? "3", CultureInfo.InvariantCulture),
            rate,
            int.Parse(Value("--max-in-flight") ?? "1024", CultureInfo.InvariantCulture));
    }
}
