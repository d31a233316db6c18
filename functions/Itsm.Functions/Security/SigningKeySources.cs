using System.Runtime.CompilerServices;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Security;

/// <summary>Where the keys that may sign a caller's token come from: the one thing the two modes do differently, with the issuers.</summary>
public interface ISigningKeySource
{
    /// <summary>The keys trusted now.</summary>
    Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Called when a token names a key id that none of the keys has (the issuer may have rotated its keys).
    /// Returns the keys after a refresh, or null when there is nothing newer to get.
    /// </summary>
    Task<IReadOnlyCollection<SecurityKey>?> RefreshKeysAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Entra ID signing keys from the tenant's OpenID Connect metadata and its JWKS, through the IdentityModel
/// <see cref="ConfigurationManager{T}"/>: fetched on first use, refreshed automatically (every 12 hours) and on
/// request when a token names an unknown key id (at most every 5 minutes, so garbage key ids cannot flood Entra).
/// </summary>
public sealed class OpenIdConnectSigningKeySource : ISigningKeySource
{
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _configuration;

    /// <param name="metadataAddress">The tenant's <c>.well-known/openid-configuration</c> address.</param>
    /// <param name="documentRetriever">How documents are fetched (tests pass one over a fake HTTP handler); default HTTPS only.</param>
    public OpenIdConnectSigningKeySource(string metadataAddress, IDocumentRetriever? documentRetriever = null)
    {
        _configuration = new ConfigurationManager<OpenIdConnectConfiguration>(
            metadataAddress,
            new OpenIdConnectConfigurationRetriever(),
            documentRetriever ?? new HttpDocumentRetriever { RequireHttps = true });
    }

    public string MetadataAddress => _configuration.MetadataAddress;

    public async Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken)
    {
        var configuration = await _configuration.GetConfigurationAsync(cancellationToken);
        return [.. configuration.SigningKeys];
    }

    public async Task<IReadOnlyCollection<SecurityKey>?> RefreshKeysAsync(CancellationToken cancellationToken)
    {
        var before = await _configuration.GetConfigurationAsync(cancellationToken);
        _configuration.RequestRefresh();
        var after = await _configuration.GetConfigurationAsync(cancellationToken);
        return ReferenceEquals(before, after) ? null : [.. after.SigningKeys];
    }
}

/// <summary>The locally generated dev key (created on first use, so an app that never sees a dev token writes no file).</summary>
public sealed class DevSigningKeySource(string keyPath) : ISigningKeySource
{
    private readonly Lazy<DevSigningKey> _key = new(() => DevSigningKey.LoadOrCreate(keyPath), LazyThreadSafetyMode.PublicationOnly);

    public string KeyPath { get; } = keyPath;

    public Task<IReadOnlyCollection<SecurityKey>> GetKeysAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyCollection<SecurityKey>>([_key.Value.Key]);

    public Task<IReadOnlyCollection<SecurityKey>?> RefreshKeysAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyCollection<SecurityKey>?>(null);
}

/// <summary>Process-wide IdentityModel settings, applied when this assembly loads.</summary>
internal static class IdentityModelSwitches
{
    public const string BlockingRefresh = "Switch.Microsoft.IdentityModel.UpdateConfigAsBlocking";

    /// <summary>
    /// A refresh requested for an unknown key id must be fetched before the retry of that same request, not in the
    /// background after it has been refused. IdentityModel reads the switch once per process, the first time any of
    /// its token handlers or configuration managers is created, so it is set before any of them can exist.
    /// </summary>
    [ModuleInitializer]
    internal static void Apply() => AppContext.SetSwitch(BlockingRefresh, true);
}
