using Itsm.Functions.Changes;

namespace Itsm.Functions.Cmdb;

/// <summary>
/// Change management's view of the CMDB: related CIs in both directions (a change to a server touches what runs on
/// it and what it runs on), the CI's owning group, criticality on change management's 1-5 scale, and the business
/// services impact analysis finds. A CI the CMDB does not know counts as itself, unowned, of default criticality.
/// </summary>
public sealed class CmdbForChanges(CmdbService cmdb, CmdbStore store) : IChangeCmdb
{
    public async Task<IReadOnlySet<string>> RelatedAsync(string tenantId, string ci, int depth, CancellationToken cancellationToken)
    {
        var related = new HashSet<string>(StringComparer.Ordinal) { ci };
        foreach (var direction in new[] { ImpactDirection.Up, ImpactDirection.Down })
        {
            var result = await cmdb.RelatedAsync(tenantId, [ci], direction, depth, null, cancellationToken);
            related.UnionWith(result.Nodes.Select(n => n.CiId));
        }

        return related;
    }

    public async Task<string?> OwnerGroupAsync(string tenantId, string ci, CancellationToken cancellationToken) =>
        CmdbStore.IsValidId(ci) && await store.ReadAsync(tenantId, ci, cancellationToken) is { } stored ? stored.Document.OwnerGroup : null;

    public async Task<int> CriticalityAsync(string tenantId, string ci, CancellationToken cancellationToken) =>
        CmdbStore.IsValidId(ci) && await store.ReadAsync(tenantId, ci, cancellationToken) is { } stored
            ? stored.Document.Criticality switch
            {
                CiCriticality.Low => 1,
                CiCriticality.Medium => 3,
                CiCriticality.High => 4,
                _ => 5,
            }
            : StandaloneChangeCmdb.DefaultCriticality;

    public async Task<IReadOnlyList<string>> AffectedServicesAsync(string tenantId, IReadOnlyList<string> cis, CancellationToken cancellationToken) =>
        (await cmdb.AffectedServicesAsync(tenantId, cis, cancellationToken)).Select(s => s.Name).Distinct(StringComparer.Ordinal).ToArray();
}
