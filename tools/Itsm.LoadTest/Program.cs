using System.Diagnostics;
using System.Globalization;
using System.Net;

// A closed-loop HTTP load generator: N workers each send the next request as soon as the previous one
// answers, for a fixed duration after a warm-up. Prints throughput and latency percentiles.
var options = LoadOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Itsm.LoadTest --url URL [--method GET|POST] [--body TEXT] [--header \"Name: value\"]... (repeatable) [--concurrency 32] [--duration 20] [--warmup 3]");
    return 2;
}

using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

await RunAsync(client, options, TimeSpan.FromSeconds(options.WarmupSeconds), record: false);
var result = await RunAsync(client, options, TimeSpan.FromSeconds(options.DurationSeconds), record: true);

var latencies = result.Latencies;
latencies.Sort();
double Percentile(double p) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p / 100 * latencies.Count) - 1)];
var seconds = result.Elapsed.TotalSeconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{options.Method} {options.Url} concurrency={options.Concurrency} duration={seconds:F1}s requests={latencies.Count} errors={result.Errors} " +
    $"throughput={latencies.Count / seconds:F0}/s p50={Percentile(50):F2}ms p90={Percentile(90):F2}ms p99={Percentile(99):F2}ms max={(latencies.Count == 0 ? 0 : latencies[^1]):F2}ms"));
return result.Errors == 0 ? 0 : 1;

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
                using var request = new HttpRequestMessage(new HttpMethod(options.Method), options.Url);
                if (options.Body is not null)
                {
                    request.Content = new StringContent(options.Body, System.Text.Encoding.UTF8, "application/json");
                }

                foreach (var (name, value) in options.Headers)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }

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

internal sealed record LoadOptions(Uri Url, string Method, string? Body, IReadOnlyList<(string Name, string Value)> Headers, int Concurrency, int DurationSeconds, int WarmupSeconds)
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

        return new LoadOptions(
            url,
            (Value("--method") ?? "GET").ToUpperInvariant(),
            Value("--body"),
            headers,
            int.Parse(Value("--concurrency") ?? "32", CultureInfo.InvariantCulture),
            int.Parse(Value("--duration") ?? "20", CultureInfo.InvariantCulture),
            int.Parse(Value("--warmup") ?? "3", CultureInfo.InvariantCulture));
    }
}
