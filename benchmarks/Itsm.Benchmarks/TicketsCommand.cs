using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Itsm.Functions.Hosting;
using Itsm.Functions.Storage;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tickets;
using Microsoft.Data.Sqlite;

namespace Itsm.Benchmarks;

/// <summary>
/// The tickets list at scale.
/// <code>
/// tickets seed --db PATH [--count 1000000] [--tenant bench] [--resume]   fills an app database with tickets
/// tickets query --url http://127.0.0.1:7393 --token TOKEN [--repeat 200]   times GET /api/tickets filters
/// tickets explain --db PATH [--tenant bench]                  EXPLAIN QUERY PLAN of the list queries
/// </code>
/// </summary>
internal static class TicketsCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        Console.WriteLine(Measure.Machine());
        return args switch
        {
            ["seed", .. var rest] => await TicketSeeder.SeedAsync(rest),
            ["query", .. var rest] => await QueryAsync(rest),
            ["explain", .. var rest] => Explain(rest),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: tickets seed --db PATH [--count 1000000] [--tenant bench] [--resume] | tickets query --url URL --token TOKEN [--repeat 200] | tickets explain --db PATH");
        return 2;
    }

    /// <summary>The representative list requests (values exist in a seeded database: see <see cref="TicketSeeder"/>).</summary>
    public static readonly (string Name, string Query)[] Queries =
    [
        ("newest first (no filter)", "sort=-updatedAt"),
        ("state=New&priority=1", "state=New&priority=1"),
        ("open P1/P2 incidents", "type=Incident&state=New,InProgress,OnHold&priority=1,2"),
        ("assignee=agent-0007", "assignee=agent-0007"),
        ("group=network", "group=network"),
        ("ci=ci-00000 (most used CI)", "ci=ci-00000"),
        ("ci=ci-19999 (rare CI)", "ci=ci-19999"),
        ("q=vpn (common word)", "q=vpn"),
        ("q=0x80070005 (rare)", "q=0x80070005"),
        ("q=zebra (no match)", "q=zebra"),
        ("created in one week", "createdFrom=2025-03-03T00:00:00Z&createdTo=2025-03-10T00:00:00Z"),
        ("created in one week, sort=createdAt", "createdFrom=2025-03-03T00:00:00Z&createdTo=2025-03-10T00:00:00Z&sort=createdAt"),
        ("requester=user-00042", "requester=user-00042"),
    ];

    private static async Task<int> QueryAsync(string[] args)
    {
        var baseUrl = new Uri(Measure.Option(args, "--url") ?? throw new ArgumentException("--url is required"));
        var token = Measure.Option(args, "--token") ?? throw new ArgumentException("--token is required");
        var repeat = Measure.IntOption(args, "--repeat", 200);
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(2) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        async Task<(double Ms, int Items, string? Next)> GetAsync(string query)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(new Uri("/api/tickets?" + query, UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET /api/tickets?{query}: {(int)response.StatusCode} {body}");
            }

            var json = JsonNode.Parse(body)!;
            return (ms, json["items"]!.AsArray().Count, json["continuationToken"]?.GetValue<string>());
        }

        Console.WriteLine($"sequential requests (one at a time), {repeat} per query after 3 warm-up requests; page size 25 unless stated");
        foreach (var (name, query) in Queries)
        {
            // A slow query is measured with fewer repetitions, so that the whole run stays bounded.
            var first = await GetAsync(query);
            await GetAsync(query);
            var warm = await GetAsync(query);
            var count = warm.Ms > 200 ? Math.Max(10, repeat / 20) : repeat;
            var times = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                times.Add((await GetAsync(query)).Ms);
            }

            Console.WriteLine($"  {name,-40} items={first.Items,3} more={(first.Next is null ? "no " : "yes")} {Measure.Summary(times, " ms")}   ?{query}");
        }

        // A deep page: follow continuation tokens 10,000 tickets down the default sort, then time that page.
        const string deepQuery = "sort=-updatedAt&pageSize=100";
        string? next = null;
        var walk = new List<double>();
        for (var page = 0; page < 100; page++)
        {
            var result = await GetAsync(next is null ? deepQuery : $"{deepQuery}&continuationToken={Uri.EscapeDataString(next)}");
            walk.Add(result.Ms);
            next = result.Next;
        }

        Console.WriteLine($"  {"pages 1-100 of sort=-updatedAt, 100 each",-40} {Measure.Summary(walk, " ms")}");
        var deep = new List<double>(repeat);
        var deepUrl = $"{deepQuery}&continuationToken={Uri.EscapeDataString(next!)}";
        for (var i = 0; i < repeat; i++)
        {
            deep.Add((await GetAsync(deepUrl)).Ms);
        }

        Console.WriteLine($"  {"page 101 (items 10,001-10,100)",-40} {Measure.Summary(deep, " ms")}");
        Console.WriteLine($"load average {Measure.LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// The SQL <see cref="SqliteDocumentStore.QueryAsync{T}"/> builds for a few list requests (tenant prefix,
    /// docType = ticket, the filters, ORDER BY the sort then id, pk), with SQLite's plan for each. Where the store's
    /// count of a filter's matches chooses the plan (SqliteDocumentStore.ChoosePlanAsync), the SQL is the one it chooses
    /// for the seeded data.
    /// </summary>
    private static int Explain(string[] args)
    {
        var path = Measure.Option(args, "--db") ?? throw new ArgumentException("--db is required");
        var tenant = Measure.Option(args, "--tenant") ?? "bench";
        using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly");
        connection.Open();
        connection.CreateFunction("itsm_fold", (string? value) => value?.ToLowerInvariant(), isDeterministic: true);
        const string select = "SELECT t.pk, t.id, t.etag, t.body, t.\"f_updatedAt\" FROM \"doc_tickets\" t";
        const string tenantTickets = " WHERE t.pk1 = $tenant AND t.\"f_docType\" = 'ticket'";
        const string order = " ORDER BY t.\"f_updatedAt\" DESC, t.id DESC, t.pk DESC LIMIT 26";
        (string Name, string Where)[] cases =
        [
            ("sort=-updatedAt", ""),
            ("state=New&priority=1", " AND t.\"f_state\" IN ('New') AND t.\"f_priority\" IN (1)"),
            ("assignee=agent-0007", " AND t.\"f_assignee\" = 'agent-0007'"),
            ("group=network", " AND t.\"f_assignmentGroup\" = 'network'"),
            ("requester=user-00042", " AND t.\"f_requester\" = 'user-00042'"),
            ("ci=ci-00000 (common: the sort order walked, the CI tested per ticket)", " AND EXISTS (SELECT 1 FROM \"doc_tickets__arr\" a WHERE a.field = 'configurationItems' AND a.value = 'ci-00000' AND a.pk = t.pk AND a.doc = t.seq)"),
            ("ci=ci-19999 (rare: from its tickets)", " NOT INDEXED" + tenantTickets + " AND t.seq IN (SELECT a.doc FROM \"doc_tickets__arr\" a WHERE a.field = 'configurationItems' AND a.value = 'ci-19999' AND a.pk1 = $tenant)"),
            ("q=zebra", " AND t.seq IN (SELECT rowid FROM \"doc_tickets__fts\" WHERE \"doc_tickets__fts\" MATCH '{f_title} : \"zebra\"') AND instr(itsm_fold(t.\"f_title\"), itsm_fold('zebra')) > 0"),
            ("q=vpn", " AND t.seq IN (SELECT rowid FROM \"doc_tickets__fts\" WHERE \"doc_tickets__fts\" MATCH '{f_title} : \"vpn\"') AND instr(itsm_fold(t.\"f_title\"), itsm_fold('vpn')) > 0"),
            ("createdFrom..createdTo", " AND t.\"f_createdAt\" >= 1740960000000 AND t.\"f_createdAt\" < 1741564800000"),
        ];
        foreach (var (name, where) in cases)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "EXPLAIN QUERY PLAN " + select + (where.StartsWith(" NOT INDEXED", StringComparison.Ordinal) ? where : tenantTickets + where) + order;
            command.Parameters.AddWithValue("$tenant", tenant);
            Console.WriteLine($"{name}:");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                Console.WriteLine($"  {reader.GetString(3)}");
            }
        }

        return 0;
    }
}
