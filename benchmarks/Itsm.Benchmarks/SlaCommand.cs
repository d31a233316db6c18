using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Itsm.Functions.Hosting.Standalone;
using Itsm.Functions.Security;
using Itsm.Functions.Sla;
using Itsm.Functions.Storage;
using Itsm.Functions.Tickets;
using Microsoft.Extensions.DependencyInjection;

namespace Itsm.Benchmarks;

/// <summary>
/// SLA clocks at scale through the real standalone app (Kestrel on loopback, the embedded store, queue and Durable
/// engine, the real clock):
/// <code>
/// sla [--tickets 100000] [--workers 16] [--alarms 1000]
/// </code>
/// 1. raises --tickets incidents over HTTP under a 7-day resolution target (one clock orchestration each) and times
///    until every clock is waiting on its first durable timer: clocks started per second;
/// 2. memory and database size with all of them waiting;
/// 3. raises --alarms more in a tenant whose target is one minute (warning at 50 %, breach at 100 %) over about 10 s,
///    and reads from each ticket's audit trail how late the warning and the breach were acted on.
/// </summary>
internal static class SlaCommand
{
    private const string AlwaysOn = """
        {"name":"24x7","timeZone":"Etc/UTC","weeklyHours":{"monday":["00:00-24:00"],"tuesday":["00:00-24:00"],"wednesday":["00:00-24:00"],
         "thursday":["00:00-24:00"],"friday":["00:00-24:00"],"saturday":["00:00-24:00"],"sunday":["00:00-24:00"]}}
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(Measure.Machine());
        var tickets = Measure.IntOption(args, "--tickets", 100_000);
        var workers = Measure.IntOption(args, "--workers", 16);
        var alarms = Measure.IntOption(args, "--alarms", 1000);
        await using var bench = await BenchApp.StartAsync("sla", workers * 2);
        var (app, http, database) = (bench.App, bench.Http, bench.DatabasePath);
        var engine = app.Services.GetRequiredService<StandaloneDurableWorker>();
        await ConfigureAsync(http, database, "bench", 7 * 24 * 60, "[50,75,90]");
        await ConfigureAsync(http, database, "bench-late", 1, "[50]");
        Console.WriteLine($"app started, SLA policies set: {Measure.Memory()}");

        var agent = Token(database, "bench");
        var watch = Stopwatch.StartNew();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) is var i && i <= tickets)
            {
                await RaiseAsync(http, agent, i);
                if (i % 20_000 == 0)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {i} raised at {watch.Elapsed.TotalSeconds:F1} s"));
                }
            }
        }));
        var raised = watch.Elapsed;
        await engine.WaitForIdleAsync(CancellationToken.None);
        var waiting = watch.Elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{tickets} tickets raised over HTTP by {workers} workers in {raised.TotalSeconds:F1} s ({tickets / raised.TotalSeconds:F0}/s); " +
            $"every clock waiting on its timer at {waiting.TotalSeconds:F1} s: {tickets / waiting.TotalSeconds:F0} clocks started/s"));
        Console.WriteLine($"{tickets} clocks waiting: {Measure.Memory()}, {Measure.FileSizes(database)}; load average {Measure.LoadAverage()}");

        // Lateness: --alarms tickets over ~10 s, each due one minute later, while the others wait.
        var late = Token(database, "bench-late");
        var ids = new List<string>();
        var alarmWatch = Stopwatch.StartNew();
        for (var i = 0; i < alarms; i++)
        {
            ids.Add(await RaiseAsync(http, late, i));
            var due = TimeSpan.FromSeconds(10.0 * (i + 1) / alarms);
            if (alarmWatch.Elapsed < due)
            {
                await Task.Delay(due - alarmWatch.Elapsed);
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(75));
        await engine.WaitForIdleAsync(CancellationToken.None);
        var store = app.Services.GetRequiredService<TicketStore>();
        var warnings = new List<double>();
        var breaches = new List<double>();
        foreach (var id in ids)
        {
            var events = await store.QueryPartitionAsync<AuditEvent>("bench-late", id, AuditEvent.DocumentType, 100, null, CancellationToken.None);
            foreach (var e in events.Items.Select(i => i.Document))
            {
                if (e.Action == "sla.warning")
                {
                    warnings.Add((e.At - Instant(e, "reachedAt")).TotalMilliseconds);
                }
                else if (e.Action == "sla.breach")
                {
                    breaches.Add((e.At - Instant(e, "breachedAt")).TotalMilliseconds);
                }
            }
        }

        Console.WriteLine($"lateness of the 50 % warning (acted on minus reached), {alarms} clocks due over 10 s while {tickets} others wait: {Measure.Summary(warnings, " ms")}");
        Console.WriteLine($"lateness of the breach: {Measure.Summary(breaches, " ms")}");
        Console.WriteLine($"after: {Measure.Memory()}, {Measure.FileSizes(database)}; load average {Measure.LoadAverage()}");
        return warnings.Count == alarms && breaches.Count == alarms ? 0 : 1;
    }

    private static DateTimeOffset Instant(AuditEvent e, string field) =>
        e.Changes.Single(c => c.Field == field).New!.Value.GetDateTimeOffset();

    private static string Token(string database, string tenant) =>
        DevTokens.Mint(AuthOptions.DefaultDevKeyPath(database), "bench-agent", [AppRoles.Agent, AppRoles.Admin], tenant, lifetime: TimeSpan.FromHours(8));

    private static async Task ConfigureAsync(HttpClient http, string database, string tenant, int minutes, string warnings)
    {
        var admin = Token(database, tenant);
        await SendAsync(http, HttpMethod.Put, "/api/manage/sla/calendars/24x7", admin, AlwaysOn);
        await SendAsync(http, HttpMethod.Put, "/api/manage/sla/policies/bench", admin,
            $$$"""{"name":"Bench","calendarId":"24x7","resolutionMinutes":{"3":{{{minutes}}}},"warnings":{{{warnings}}},"onBreach":{"notify":[]}}""");
    }

    private static async Task<string> RaiseAsync(HttpClient http, string token, int i)
    {
        var body = await SendAsync(http, HttpMethod.Post, "/api/tickets", token,
            $$"""{"type":"Incident","title":"Bench incident {{i}}","impact":2,"urgency":2,"category":"network"}""");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<string> SendAsync(HttpClient http, HttpMethod method, string path, string token, string json)
    {
        using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? text : throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
    }
}
