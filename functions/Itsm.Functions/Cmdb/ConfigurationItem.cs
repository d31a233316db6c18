using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Tickets;

namespace Itsm.Functions.Cmdb;

[JsonConverter(typeof(JsonStringEnumConverter<CiStatus>))]
public enum CiStatus
{
    Planned,
    Operational,
    Maintenance,
    Retired,
}

[JsonConverter(typeof(JsonStringEnumConverter<CiEnvironment>))]
public enum CiEnvironment
{
    Production,
    Staging,
    Test,
    Development,
    DisasterRecovery,
}

[JsonConverter(typeof(JsonStringEnumConverter<CiCriticality>))]
public enum CiCriticality
{
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>
/// A configuration item: a business service, application, server... Stored in the <c>cis</c> container under
/// the partition (tenantId, ciId), next to its audit events and its copies of the relationships that touch it.
/// </summary>
public sealed record ConfigurationItem
{
    public const string DocumentType = "ci";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>Same as <see cref="Id"/>: the second level of the partition key.</summary>
    public string CiId => Id;

    public string DocType => DocumentType;

    public int Revision { get; init; }

    /// <summary>A built-in or tenant class name (see <see cref="CiClasses"/>); fixed at creation.</summary>
    public required string Class { get; init; }

    public required string Name { get; init; }

    public required CiStatus Status { get; init; }

    public required CiEnvironment Environment { get; init; }

    public string? OwnerGroup { get; init; }

    public string? SupportGroup { get; init; }

    public required CiCriticality Criticality { get; init; }

    /// <summary>The identity in a source system (e.g. an Azure resource id); unique per tenant, fixed at creation.</summary>
    public string? ExternalKey { get; init; }

    public string? Description { get; init; }

    /// <summary>Typed attributes of the class, validated against its definition.</summary>
    public IReadOnlyDictionary<string, JsonElement> Attributes { get; init; } = new Dictionary<string, JsonElement>();

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>
    /// The id of a CI: derived from its external key when it has one, so that a key can only ever name one CI
    /// (a second create with the same key is a conflict on the id) and an import finds it with a point read.
    /// </summary>
    public static string IdFor(string? externalKey) =>
        externalKey is null ? Guid.NewGuid().ToString("N") : "x" + Hash(externalKey)[..31];

    internal static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>
/// The relationship types. Every type reads "source depends on target" for impact: when the target fails,
/// the source is affected (an application that runs on a server, a cluster that contains a node).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<RelationshipType>))]
public enum RelationshipType
{
    /// <summary>Source depends on target (target is used by source).</summary>
    DependsOn,

    /// <summary>Source runs on target (target runs source).</summary>
    RunsOn,

    /// <summary>Source is hosted on target (target hosts source).</summary>
    HostedOn,

    /// <summary>Source connects to target.</summary>
    ConnectsTo,

    /// <summary>Source contains target (target is a member of source).</summary>
    Contains,
}

public static class RelationshipNames
{
    /// <summary>How the relationship reads from its target's side.</summary>
    public static string Inverse(RelationshipType type) => type switch
    {
        RelationshipType.DependsOn => "UsedBy",
        RelationshipType.RunsOn => "Runs",
        RelationshipType.HostedOn => "Hosts",
        RelationshipType.ConnectsTo => "ConnectedFrom",
        RelationshipType.Contains => "MemberOf",
        _ => type.ToString(),
    };
}

[JsonConverter(typeof(JsonStringEnumConverter<EdgeDirection>))]
public enum EdgeDirection
{
    /// <summary>The copy stored under the source CI.</summary>
    Out,

    /// <summary>The copy stored under the target CI.</summary>
    In,
}

/// <summary>
/// One copy of a relationship. Each relationship is stored twice, once in each end's partition (Out under the
/// source, In under the target), so a traversal in either direction reads one partition per CI.
/// Both copies share the id, derived from (source, type, target), which is what makes duplicates impossible.
/// </summary>
public sealed record CiRelationship
{
    public const string DocumentType = "relationship";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    /// <summary>The CI whose partition holds this copy.</summary>
    public required string CiId { get; init; }

    public string DocType => DocumentType;

    public required EdgeDirection Direction { get; init; }

    public required RelationshipType Type { get; init; }

    public required string SourceId { get; init; }

    public required string TargetId { get; init; }

    /// <summary>The far end, seen from <see cref="CiId"/>.</summary>
    [JsonIgnore]
    public string OtherId => Direction == EdgeDirection.Out ? TargetId : SourceId;

    public required DateTimeOffset CreatedAt { get; init; }

    public required string CreatedBy { get; init; }

    public static string IdFor(string sourceId, RelationshipType type, string targetId) =>
        "r" + ConfigurationItem.Hash($"{sourceId}|{type}|{targetId}")[..31];
}

/// <summary>An append-only audit record of a CI, written in the same transaction as the change it records.</summary>
public sealed record CiAuditEvent
{
    public const string DocumentType = "audit";

    public required string Id { get; init; }

    public required string TenantId { get; init; }

    public required string CiId { get; init; }

    public string DocType => DocumentType;

    public required DateTimeOffset At { get; init; }

    public required string Actor { get; init; }

    /// <summary>api or import.</summary>
    public required string Channel { get; init; }

    public required string Action { get; init; }

    public IReadOnlyList<FieldChange> Changes { get; init; } = [];

    /// <summary>The CI revision this event belongs to (relationship events carry the revision they saw).</summary>
    public int Sequence { get; init; }
}
