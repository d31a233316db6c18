using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Itsm.Functions.Reports;
using Itsm.Functions.Security;
using Itsm.Functions.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Itsm.Benchmarks;

/// <summary>
/// <c>reports [--tickets 1000000] [--days 1096] [--repeat 20]</c>: starts the standalone app on a fresh database, seeds
/// the report counters of tenant <c>bench</c> directly (the slices that many tickets spread over that many days would
/// leave: seeding a million tickets through the API is far too slow here), then times every report over HTTP (one
/// request at a time) for a 30-day trend, a one-year weekly trend, and by group and priority, plus the charts and the
/// dashboard page; and times ticket creates whose counting runs in the same request against those counters.
/// </summary>
internal static class ReportsCommand
{
    private const string Tenant = "bench";

    private static readonly string[] Groups = [.. Enumerable.Range(0, 20).Select(i => $"group-{i:00}")];
    private static readonly string[] Services = [.. Enumerable.Range(0, 30).Select(i => $"service-{i:00}")];
    private static readonly string[] Categories = [.. Enumerable.Range(0, 15).Select(i => $"category-{i:00}")];
    private static readonly string[] Types = ["Incident", "ServiceRequest", "Problem", "Change"];
    private static readonly string[] Priorities = ["P1", "P2", "P3", "P4"];

    public static async Task<int> RunAsync(string[] args)
    {
        var tickets = Measure.IntOption(args, "--tickets", 1_000_000);
        var days = Measure.IntOption(args, "--days", 1096);
        var repeat = Measure.IntOption(args, "--repeat", 20);
        Console.WriteLine(Measure.Machine());
        await using var app = await BenchApp.StartAsync("reports", 1);
        var store = app.Services.GetRequiredService<IDocumentStore>();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);

        var seeding = Stopwatch.StartNew();
        var slices = await SeedAsync(store, tickets, days, today);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {slices:N0} slices for {tickets:N0} tickets over {days} days in {seeding.Elapsed.TotalSeconds:F1} s; {Measure.FileSizes(app.DatabasePath)}"));

        var token = DevTokens.Mint(AuthOptions.DefaultDevKeyPath(app.DatabasePath), "agent", [AppRoles.Agent], Tenant, now: DateTimeOffset.UtcNow);
        app.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var monthAgo = ReportQuery.Text(today.AddDays(-29));
        var yearAgo = ReportQuery.Text(today.AddDays(-364));
        var to = ReportQuery.Text(today);
        var queries = new List<(string Label, string Path)>();
        foreach (var report in ReportCatalog.All)
        {
            queries.Add(($"{report.Name} 30 days per day", $"/api/reports/{report.Name}?from={monthAgo}&to={to}"));
            queries.Add(($"{report.Name} 1 year per week", $"/api/reports/{report.Name}?from={yearAgo}&to={to}&interval=week"));
            queries.Add(($"{report.Name} 1 year by group", $"/api/reports/{report.Name}?from={yearAgo}&to={to}&by=group"));
            queries.Add(($"{report.Name} 30 days by priority, CSV", $"/api/reports/{report.Name}?from={monthAgo}&to={to}&by=priority&format=csv"));
        }

        queries.Add(("mttr chart, 1 year per week", $"/api/reports/mttr/chart?from={yearAgo}&to={to}&interval=week"));
        queries.Add(("backlog chart by service", $"/api/reports/backlog/chart?by=service"));
        queries.Add(("dashboard page (8 charts)", "/api/reports-dashboard"));

        var worst = 0.0;
        Console.WriteLine("| request | p50 | p90 | max | n |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (label, path) in queries)
        {
            var times = new List<double>();
            for (var i = 0; i < repeat + 3; i++)
            {
                var watch = Stopwatch.StartNew();
                using var response = await app.Http.GetAsync(path);
                var body = await response.Content.ReadAsByteArrayAsync();
                watch.Stop();
                if (!response.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine($"{path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
                    return 1;
                }

                if (i >= 3)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            times.Sort();
            worst = Math.Max(worst, Measure.Percentile(times, 90));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {Measure.Percentile(times, 50):F1} ms | {Measure.Percentile(times, 90):F1} ms | {times[^1]:F1} ms | {times.Count} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"worst p90 over all report requests: {worst:F1} ms"));

        // Ticket creates: the write, its follow-up and the counting of the new ticket against the seeded counters.
        var creates = new List<double>();
        for (var i = 0; i < repeat + 3; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await app.Http.PostAsync("/api/tickets", new StringContent($$"""{"type":"Incident","title":"Bench {{i}}","assignmentGroup":"group-01"}""", System.Text.Encoding.UTF8, "application/json"));
            watch.Stop();
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"create: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                return 1;
            }

            if (i >= 3)
            {
                creates.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        Console.WriteLine("POST /api/tickets with counting: " + Measure.Summary(creates, " ms"));
        Console.WriteLine("load average after: " + Measure.LoadAverage());
        return 0;
    }

    /// <summary>Writes the slices directly: per day the "all" counters and their split over each dimension's values, and the open backlog.</summary>
    private static async Task<int> SeedAsync(IDocumentStore store, int tickets, int days, DateOnly today)
    {
        var random = new Random(20);
        var perDay = tickets / (double)days;
        var batch = new List<BatchOperation>();
        var written = 0;
        var open = new Dictionary<SliceKey, SortedDictionary<string, long>>();

        async Task Flush(bool force)
        {
            if (batch.Count >= 100 || (force && batch.Count > 0))
            {
                foreach (var chunk in batch.Chunk(100))
                {
                    await store.ExecuteBatchAsync(ReportStore.Reports, Tenant, chunk);
                }

                written += batch.Count;
                batch.Clear();
            }
        }

        var months = new Dictionary<SliceKey, SortedDictionary<string, long>>();
        void Add(SliceKey key, SortedDictionary<string, long> values)
        {
            if (key.Bucket.Length == 10)
            {
                var month = key with { Bucket = key.Bucket[..7] };
                if (!months.TryGetValue(month, out var total))
                {
                    months[month] = total = new SortedDictionary<string, long>(StringComparer.Ordinal);
                }

                foreach (var (measure, amount) in values)
                {
                    total[measure] = total.GetValueOrDefault(measure) + amount;
                }
            }

            var id = ReportStore.IdOf(key);
            batch.Add(new BatchOperation.Upsert(id, new ReportSlice { Id = id, TenantId = Tenant, Slice = key.Slice, Dimension = key.Dimension, Value = key.Value, Bucket = key.Bucket, Values = values }));
        }

        for (var d = days - 1; d >= 0; d--)
        {
            var day = today.AddDays(-d);
            var bucket = ReportQuery.Text(day);
            var created = (long)Math.Round(perDay * (0.8 + (0.4 * random.NextDouble())));
            var resolved = (long)(created * 0.85);
            var stillOpen = d < 60 ? (long)(created * 0.02 * (60 - d) / 60.0) + (d < 7 ? created / 5 : 0) : (d % 10 == 0 ? 1 : 0);
            var all = new SortedDictionary<string, long>(StringComparer.Ordinal)
            {
                [Measures.Created] = created,
                [Measures.LeftBacklog] = created - stillOpen,
                [Measures.Responded] = (long)(created * 0.9),
                [Measures.ResponseSeconds] = (long)(created * 0.9 * 1800),
                [Measures.RespondedBusiness] = (long)(created * 0.9),
                [Measures.ResponseBusinessSeconds] = (long)(created * 0.9 * 1200),
                [Measures.Resolved] = resolved,
                [Measures.ResolutionSeconds] = resolved * 30 * 3600,
                [Measures.ResolvedBusiness] = resolved,
                [Measures.ResolutionBusinessSeconds] = resolved * 9 * 3600,
                [Measures.ReopenedResolved] = resolved / 20,
                [Measures.FirstContact] = resolved * 7 / 10,
                [Measures.SlaResponseMeasured] = (long)(created * 0.9),
                [Measures.SlaResponseMet] = (long)(created * 0.85),
                [Measures.SlaResolutionMeasured] = resolved,
                [Measures.SlaResolutionMet] = resolved * 9 / 10,
                [Measures.ChangesCreated] = created / 20,
                [Measures.EmergencyChanges] = created / 200,
                [Measures.ChangesReviewed] = created / 22,
                [Measures.ChangesSuccessful] = created / 24,
                [Measures.Approvals] = created / 20,
                [Measures.ApprovalSeconds] = created / 20 * 20 * 3600,
            };
            Add(new SliceKey(ReportDimensions.All, ReportDimensions.All, bucket), all);
            AddOpen(open, new SliceKey(ReportDimensions.All, ReportDimensions.All, ReportRules.OpenBucket), bucket, stillOpen);
            foreach (var (dimension, values) in new[] { (ReportDimensions.Type, Types), (ReportDimensions.Priority, Priorities), (ReportDimensions.Group, Groups), (ReportDimensions.Service, Services), (ReportDimensions.Category, Categories) })
            {
                foreach (var (value, index) in values.Select((v, i) => (v, i)))
                {
                    // Value i takes a share that falls with i; the shares of a dimension add up to about the whole.
                    var share = 2.0 * (values.Length - index) / (values.Length * (values.Length + 1));
                    Add(new SliceKey(dimension, value, bucket), new SortedDictionary<string, long>(all.ToDictionary(m => m.Key, m => (long)(m.Value * share)), StringComparer.Ordinal));
                    AddOpen(open, new SliceKey(dimension, value, ReportRules.OpenBucket), bucket, (long)(stillOpen * share));
                }
            }

            await Flush(force: false);
        }

        foreach (var (key, values) in open.Concat(months).ToList())
        {
            Add(key, values);
            await Flush(force: false);
        }

        await Flush(force: true);
        return written;
    }

    private static void AddOpen(Dictionary<SliceKey, SortedDictionary<string, long>> open, SliceKey key, string createdDay, long count)
    {
        if (count <= 0)
        {
            return;
        }

        if (!open.TryGetValue(key, out var values))
        {
            open[key] = values = new SortedDictionary<string, long>(StringComparer.Ordinal);
        }

        values[createdDay] = count;
    }
}
