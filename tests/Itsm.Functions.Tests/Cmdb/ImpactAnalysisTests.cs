using System.Runtime.CompilerServices;
using Itsm.Functions.Cmdb;

namespace Itsm.Functions.Tests.Cmdb;

/// <summary>The bounded traversal over an in-memory graph: cycles, depth, type filters, caps and paths.</summary>
public class ImpactAnalysisTests
{
    private sealed class Graph
    {
        private readonly List<CiRelationship> _edges = [];

        public int Reads { get; private set; }

        public Graph Add(string source, RelationshipType type, string target)
        {
            var edge = new CiRelationship
            {
                Id = CiRelationship.IdFor(source, type, target), TenantId = "t", CiId = source, Direction = EdgeDirection.Out, Type = type,
                SourceId = source, TargetId = target, CreatedAt = DateTimeOffset.UnixEpoch, CreatedBy = "test",
            };
            _edges.Add(edge);
            _edges.Add(edge with { CiId = target, Direction = EdgeDirection.In });
            return this;
        }

        public async IAsyncEnumerable<CiRelationship> Edges(string ciId, EdgeDirection direction, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Reads++;
            await Task.Yield();
            foreach (var edge in _edges.Where(e => e.CiId == ciId && e.Direction == direction))
            {
                yield return edge;
            }
        }

        public Task<ImpactResult> RunAsync(string root, ImpactDirection direction, int depth, IReadOnlySet<RelationshipType>? types = null, ImpactLimits? limits = null) =>
            ImpactAnalysis.TraverseAsync([root], direction, depth, types, limits ?? ImpactLimits.Default, Edges, CancellationToken.None);
    }

    // payroll (service) -> payroll-app -> vm-1 -> host-1; payroll-app -> db-1 -> vm-1
    private static Graph Payroll() => new Graph()
        .Add("payroll", RelationshipType.DependsOn, "payroll-app")
        .Add("payroll-app", RelationshipType.RunsOn, "vm-1")
        .Add("payroll-app", RelationshipType.DependsOn, "db-1")
        .Add("db-1", RelationshipType.RunsOn, "vm-1")
        .Add("vm-1", RelationshipType.HostedOn, "host-1");

    [Fact]
    public async Task Upstream_from_a_host_reaches_the_business_service_with_the_path_that_explains_it()
    {
        var result = await Payroll().RunAsync("host-1", ImpactDirection.Up, 5);

        var service = Assert.Single(result.Nodes, n => n.CiId == "payroll");
        Assert.Equal(3, service.Depth);
        Assert.Equal(["host-1", "vm-1", "payroll-app"], service.Path.Select(s => s.FromId));
        Assert.Equal([RelationshipType.HostedOn, RelationshipType.RunsOn, RelationshipType.DependsOn], service.Path.Select(s => s.Type));
        Assert.Equal(["db-1", "payroll", "payroll-app", "vm-1"], result.Nodes.Select(n => n.CiId).Order());
        Assert.False(result.Truncated);
    }

    [Fact]
    public async Task Downstream_lists_what_a_service_depends_on_each_once_at_its_shortest_depth()
    {
        var result = await Payroll().RunAsync("payroll", ImpactDirection.Down, 10);

        Assert.Equal(["db-1", "host-1", "payroll-app", "vm-1"], result.Nodes.Select(n => n.CiId).Order());
        Assert.Equal(2, result.Nodes.Single(n => n.CiId == "vm-1").Depth);
    }

    [Fact]
    public async Task The_depth_limit_stops_the_traversal()
    {
        var result = await Payroll().RunAsync("host-1", ImpactDirection.Up, 1);

        Assert.Equal(["vm-1"], result.Nodes.Select(n => n.CiId));
    }

    [Fact]
    public async Task A_type_filter_follows_only_those_relationships()
    {
        var result = await Payroll().RunAsync("payroll", ImpactDirection.Down, 10, new HashSet<RelationshipType> { RelationshipType.DependsOn });

        Assert.Equal(["db-1", "payroll-app"], result.Nodes.Select(n => n.CiId).Order());
    }

    [Fact]
    public async Task A_cycle_is_visited_once_and_the_traversal_ends()
    {
        var graph = new Graph()
            .Add("a", RelationshipType.DependsOn, "b")
            .Add("b", RelationshipType.DependsOn, "c")
            .Add("c", RelationshipType.DependsOn, "a")
            .Add("c", RelationshipType.ConnectsTo, "c2");

        var result = await graph.RunAsync("a", ImpactDirection.Down, 10);

        Assert.Equal(["b", "c", "c2"], result.Nodes.Select(n => n.CiId).Order());
        Assert.DoesNotContain(result.Nodes, n => n.CiId == "a");
        Assert.True(graph.Reads <= 4, $"{graph.Reads} reads");
    }

    [Fact]
    public async Task A_hub_with_many_dependants_is_cut_at_the_node_cap_and_says_so()
    {
        var graph = new Graph();
        for (var i = 0; i < 500; i++)
        {
            graph.Add($"app-{i}", RelationshipType.RunsOn, "hub");
        }

        var result = await graph.RunAsync("hub", ImpactDirection.Up, 5, limits: new ImpactLimits(MaxNodes: 100));

        Assert.Equal(100, result.Nodes.Count);
        Assert.True(result.Truncated);
        Assert.Equal("maxNodes", result.TruncatedBy);
    }

    [Fact]
    public async Task The_edge_scan_cap_bounds_the_work_even_when_nothing_new_is_found()
    {
        var graph = new Graph();
        for (var i = 0; i < 300; i++)
        {
            graph.Add("hub", RelationshipType.ConnectsTo, $"n{i}");
        }

        var result = await graph.RunAsync("hub", ImpactDirection.Down, 5, limits: new ImpactLimits(MaxEdgesScanned: 50));

        Assert.True(result.Truncated);
        Assert.Equal("maxEdgesScanned", result.TruncatedBy);
        Assert.Equal(50, result.EdgesScanned);
    }
}
