using System.Diagnostics;
using System.Globalization;
using System.Text;
using Itsm.Functions.Cmdb;
using Itsm.Functions.Storage.Sqlite;
using Itsm.Functions.Tickets;

namespace Itsm.Benchmarks;

/// <summary>
/// <c>cmdb generate --out DIR [--cis 100000] [--relationships 300000] [--seed 7]</c> writes a layered CMDB as two CSV
/// files (business services, applications, databases, VMs, servers, network devices); <c>cmdb impact --db PATH
/// --tenant T [--depth 5] [--samples 200]</c> times <see cref="CmdbService.RelatedAsync"/> (the code behind
/// <c>/api/cis/{id}/impact</c>, without HTTP) from random CIs of each class, up and down.
/// </summary>
internal static class CmdbBenchCommand
{
    private static readonly (string Class, string Prefix, double Share)[] Layers =
    [
        ("businessService", "svc", 0.02), ("application", "app", 0.18), ("database", "db", 0.10),
        ("virtualMachine", "vm", 0.40), ("server", "srv", 0.25), ("networkDevice", "net", 0.05),
    ];

    // (from, type, to, per source CI): 300 relationships per 100 CIs at the default sizes.
    private static readonly (string From, string Type, string To, double PerSource)[] Edges =
    [
        ("svc", "DependsOn", "app", 7), ("app", "DependsOn", "app", 2), ("app", "DependsOn", "db", 2), ("app", "RunsOn", "vm", 3),
        ("db", "RunsOn", "vm", 2), ("vm", "HostedOn", "srv", 2), ("srv", "ConnectsTo", "net", 2), ("net", "ConnectsTo", "net", 2),
    ];

    public static async Task<int> RunAsync(string[] args) => args switch
    {
        ["generate", .. var rest] => Generate(rest),
        ["impact", .. var rest] => await ImpactAsync(rest),
        _ => Usage(),
    };

    private static int Usage()
    {
        Console.Error.WriteLine("usage: cmdb generate --out DIR [--cis N] [--relationships M] [--seed S] | cmdb impact --db PATH --tenant T [--depth 5] [--samples 200]");
        return 2;
    }

    private static int Generate(string[] args)
    {
        var output = Measure.Option(args, "--out") ?? ".";
        var cis = Measure.IntOption(args, "--cis", 100_000);
        var wanted = Measure.IntOption(args, "--relationships", 300_000);
        var random = new Random(Measure.IntOption(args, "--seed", 7));
        Directory.CreateDirectory(output);
        var counts = Layers.ToDictionary(l => l.Prefix, l => Math.Max(1, (int)(cis * l.Share)));
        using (var writer = new StreamWriter(Path.Combine(output, "cis.csv"), false, new UTF8Encoding(false)))
        {
            writer.WriteLine("externalKey,class,name,status,environment,criticality,supportGroup,attr.cpuCores,attr.version");
            foreach (var (cls, prefix, _) in Layers)
            {
                for (var i = 0; i < counts[prefix]; i++)
                {
                    var cores = cls is "server" or "virtualMachine" ? (2 << random.Next(5)).ToString(CultureInfo.InvariantCulture) : "";
                    var version = cls == "application" ? $"{random.Next(1, 9)}.{random.Next(10)}" : "";
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i},{cls},{prefix}-{i} name,Operational,Production,{(CiCriticality)random.Next(4)},team-{random.Next(50)},{cores},{version}"));
                }
            }
        }

        var scale = wanted / Edges.Sum(e => e.PerSource * counts[e.From]);
        var seen = new HashSet<(int, int, int)>();
        var written = 0;
        using (var writer = new StreamWriter(Path.Combine(output, "relationships.csv"), false, new UTF8Encoding(false)))
        {
            writer.WriteLine("sourceKey,type,targetKey");
            for (var e = 0; e < Edges.Length; e++)
            {
                var (from, type, to, per) = Edges[e];
                var total = e == Edges.Length - 1 ? wanted - written : (int)Math.Round(per * counts[from] * scale);
                for (var n = 0; n < total; n++)
                {
                    int source, target;
                    do
                    {
                        source = n % counts[from];
                        target = random.Next(counts[to]);
                    }
                    while ((from == to && source == target) || !seen.Add((e, source, target)));
                    writer.WriteLine($"{from}-{source},{type},{to}-{target}");
                    written++;
                }
            }
        }

        Console.WriteLine($"Wrote {cis:N0} CIs and {written:N0} relationships to {Path.GetFullPath(output)}.");
        return 0;
    }

    private static async Task<int> ImpactAsync(string[] args)
    {
        var db = Measure.Option(args, "--db") ?? throw new ArgumentException("--db is required.");
        var tenant = Measure.Option(args, "--tenant") ?? "bench";
        var depth = Measure.IntOption(args, "--depth", 5);
        var samples = Measure.IntOption(args, "--samples", 200);
        var store = new SqliteDocumentStore(new SqliteDatabase(db));
        var service = new CmdbService(new CmdbStore(store), new TicketStore(store), TimeProvider.System);
        var random = new Random(11);
        Console.WriteLine(Measure.Machine());
        Console.WriteLine(Measure.FileSizes(db));
        foreach (var (prefix, direction) in new[] { ("srv", ImpactDirection.Up), ("db", ImpactDirection.Up), ("svc", ImpactDirection.Down), ("app", ImpactDirection.Down) })
        {
            var times = new List<double>();
            var nodes = new List<double>();
            var truncated = 0;
            var population = CountOf(prefix);
            for (var i = 0; i < samples; i++)
            {
                var id = ConfigurationItem.IdFor($"{prefix}-{random.Next(population)}");
                var clock = Stopwatch.StartNew();
                var result = await service.RelatedAsync(tenant, [id], direction, depth, null, CancellationToken.None);
                times.Add(clock.Elapsed.TotalMilliseconds);
                nodes.Add(result.Nodes.Count);
                truncated += result.Truncated ? 1 : 0;
            }

            Console.WriteLine($"impact {direction.ToString().ToLowerInvariant()} from {prefix} (depth {depth}): {Measure.Summary(times, "ms")}; CIs reached {Measure.Summary(nodes, "")}; truncated {truncated}/{samples}");
        }

        Console.WriteLine(Measure.Memory());
        return 0;

        int CountOf(string prefix) => Math.Max(1, (int)(Measure.IntOption(args, "--cis", 100_000) * Layers.Single(l => l.Prefix == prefix).Share));
    }
}
