namespace Itsm.Functions.Changes;

/// <summary>
/// What change management needs from the CMDB. The default answers from the change alone (each CI is related only
/// to itself, nobody owns it, every CI has default criticality, no services are affected); the CMDB feature
/// registers its own implementation to replace it.
/// </summary>
public interface IChangeCmdb
{
    /// <summary>The CIs related to <paramref name="ci"/> within <paramref name="depth"/> hops, including the CI itself.</summary>
    Task<IReadOnlySet<string>> RelatedAsync(string tenantId, string ci, int depth, CancellationToken cancellationToken);

    /// <summary>The group that owns the CI, if known; approval policies name its members (approval settings' groups) as the CI owners.</summary>
    Task<string?> OwnerGroupAsync(string tenantId, string ci, CancellationToken cancellationToken);

    /// <summary>Business criticality from 1 (low) to 5 (mission critical).</summary>
    Task<int> CriticalityAsync(string tenantId, string ci, CancellationToken cancellationToken);

    /// <summary>The business services impacted by a change to these CIs (impact analysis).</summary>
    Task<IReadOnlyList<string>> AffectedServicesAsync(string tenantId, IReadOnlyList<string> cis, CancellationToken cancellationToken);
}

public sealed class StandaloneChangeCmdb : IChangeCmdb
{
    public const int DefaultCriticality = 3;

    public Task<IReadOnlySet<string>> RelatedAsync(string tenantId, string ci, int depth, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<string>>(new HashSet<string>(StringComparer.Ordinal) { ci });

    public Task<string?> OwnerGroupAsync(string tenantId, string ci, CancellationToken cancellationToken) => Task.FromResult<string?>(null);

    public Task<int> CriticalityAsync(string tenantId, string ci, CancellationToken cancellationToken) => Task.FromResult(DefaultCriticality);

    public Task<IReadOnlyList<string>> AffectedServicesAsync(string tenantId, IReadOnlyList<string> cis, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);
}
