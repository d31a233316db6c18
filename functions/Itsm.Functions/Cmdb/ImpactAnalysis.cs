using System.Text.Json.Serialization;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<ImpactDirection>))]
public enum ImpactDirection
{
    /// <summary>Who is affected when these CIs fail: follow relationships from target to source.</summary>
    Up,

    /// <summary>What these CIs depend on: follow relationships from source to target.</summary>
    Down,
}

/// <summary>Bounds of one traversal: how deep, how many CIs found, how many relationship copies read.</summary>
public sealed record ImpactLimits(int MaxDepth = 10, int MaxNodes = 2_000, int MaxEdgesScanned = 50_000)
{
    public static readonly ImpactLimits Default = new();
}

/// <summary>One hop of a path: from <see cref="FromId"/> over a relationship (in its stored direction) to <see cref="ToId"/>.</summary>
public sealed record ImpactStep(string FromId, RelationshipType Type, string SourceId, string TargetId, string ToId);

/// <summary>A CI reached by a traversal, at its shortest distance, with the path that reached it first.</summary>
public sealed record ImpactNode(string CiId, int Depth, IReadOnlyList<ImpactStep> Path);

/// <summary>
/// What a traversal found. <see cref="Truncated"/> says a bound stopped it early (<see cref="TruncatedBy"/>
/// names which): the result is then a correct but incomplete answer.
/// </summary>
public sealed record ImpactResult(IReadOnlyList<string> Roots, ImpactDirection Direction, int Depth, IReadOnlyList<ImpactNode> Nodes, bool Truncated, string? TruncatedBy, int EdgesScanned);

/// <summary>
/// Breadth-first traversal of the CI graph, bounded and cycle-safe: every CI is visited once (at its shortest
/// depth), the depth is capped, and the number of CIs found and relationship copies read per request are capped,
/// so a hub with thousands of relationships cannot make a request unbounded. Pure over a neighbour source.
/// </summary>
public static class ImpactAnalysis
{
    /// <summary>The relationship copies stored under a CI in one direction, page by page.</summary>
    public delegate IAsyncEnumerable<CiRelationship> EdgeSource(string ciId, EdgeDirection direction, CancellationToken cancellationToken);

    public static async Task<ImpactResult> TraverseAsync(
        IReadOnlyCollection<string> roots,
        ImpactDirection direction,
        int depth,
        IReadOnlySet<RelationshipType>? types,
        ImpactLimits limits,
        EdgeSource edges,
        CancellationToken cancellationToken)
    {
        var maxDepth = Math.Clamp(depth, 0, limits.MaxDepth);
        var follow = direction == ImpactDirection.Up ? EdgeDirection.In : EdgeDirection.Out;
        var visited = new Dictionary<string, ImpactNode>(StringComparer.Ordinal);
        foreach (var root in roots.Distinct(StringComparer.Ordinal))
        {
            visited[root] = new ImpactNode(root, 0, []);
        }

        var found = new List<ImpactNode>();
        var frontier = visited.Keys.ToList();
        var scanned = 0;
        string? truncatedBy = null;
        for (var level = 1; level <= maxDepth && frontier.Count > 0 && truncatedBy is null; level++)
        {
            var next = new List<string>();
            foreach (var ciId in frontier)
            {
                await foreach (var edge in edges(ciId, follow, cancellationToken).WithCancellation(cancellationToken))
                {
                    if (++scanned > limits.MaxEdgesScanned)
                    {
                        truncatedBy = "maxEdgesScanned";
                        break;
                    }

                    if (types is not null && !types.Contains(edge.Type))
                    {
                        continue;
                    }

                    var other = edge.OtherId;
                    if (visited.ContainsKey(other))
                    {
                        continue;
                    }

                    if (found.Count >= limits.MaxNodes)
                    {
                        truncatedBy = "maxNodes";
                        break;
                    }

                    var node = new ImpactNode(other, level, [.. visited[ciId].Path, new ImpactStep(ciId, edge.Type, edge.SourceId, edge.TargetId, other)]);
                    visited[other] = node;
                    found.Add(node);
                    next.Add(other);
                }

                if (truncatedBy is not null)
                {
                    break;
                }
            }

            frontier = next;
        }

        return new ImpactResult(visited.Values.Where(n => n.Depth == 0).Select(n => n.CiId).ToArray(), direction, maxDepth, found, truncatedBy is not null, truncatedBy, Math.Min(scanned, limits.MaxEdgesScanned));
    }
}
