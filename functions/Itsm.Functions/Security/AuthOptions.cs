using Itsm.Functions.Hosting;

namespace Itsm.Functions.Security;

/// <summary>Where trusted signing keys and issuers come from; the validation itself is the same in both modes.</summary>
public enum AuthMode
{
    /// <summary>Entra ID tokens: keys from the tenant's OpenID Connect metadata, issuers of the allowed tenants.</summary>
    Entra,

    /// <summary>Locally minted tokens signed with a key generated on first use (standalone development).</summary>
    DevTokens,
}

/// <summary>Caller authentication settings, under <c>Itsm:Auth</c> (app settings <c>Itsm__Auth__Name</c>).</summary>
public sealed class AuthOptions
{
    public const string SectionName = "Itsm:Auth";

    public const string DefaultInstance = "https://login.microsoftonline.com/";

    public const string DevKeyFileName = "dev-signing-key.json";

    /// <summary><see cref="AuthMode.Entra"/> under the Functions host, <see cref="AuthMode.DevTokens"/> standalone.</summary>
    public AuthMode Mode { get; set; } = AuthMode.DevTokens;

    /// <summary>The Entra ID authority host (sovereign clouds use another one).</summary>
    public string Instance { get; set; } = DefaultInstance;

    /// <summary>The directory (tenant) id of the app registration; required in Entra mode.</summary>
    public string? TenantId { get; set; }

    /// <summary>
    /// Accepted audiences, comma-separated (typically the Application ID URI <c>api://{client id}</c>). For an
    /// <c>api://{guid}</c> audience the bare client id is accepted too, because v2.0 access tokens carry it.
    /// </summary>
    public string? Audience { get; set; }

    /// <summary>Further tenants whose users may call (multi-tenant app registration), comma-separated. <see cref="TenantId"/> is always allowed.</summary>
    public string? AllowedTenants { get; set; }

    /// <summary>The dev signing key file; default <c>dev-signing-key.json</c> next to the SQLite database.</summary>
    public string? DevKeyPath { get; set; }

    /// <summary>
    /// True when App Service Authentication is on for the app in Azure (the deployment writes it). Only then may the
    /// browser-facing approval page trust the platform's principal header; API routes never do. Always false standalone.
    /// </summary>
    public bool PlatformAuthenticationEnabled { get; set; }

    /// <summary>Tolerance for clock differences when checking expiry and not-before.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Binds <c>Itsm:Auth</c> over the host-dependent defaults and resolves the dev key path.</summary>
    public static AuthOptions Bind(IConfiguration configuration, bool underFunctionsHost)
    {
        var options = new AuthOptions { Mode = underFunctionsHost ? AuthMode.Entra : AuthMode.DevTokens };
        configuration.GetSection(SectionName).Bind(options);
        if (!underFunctionsHost)
        {
            // Standalone there is no platform in front of the app: anyone could send the principal header.
            options.PlatformAuthenticationEnabled = false;
        }

        if (string.IsNullOrWhiteSpace(options.DevKeyPath))
        {
            var databasePath = configuration[$"{ItsmOptions.SectionName}:Sqlite:Path"];
            options.DevKeyPath = DefaultDevKeyPath(string.IsNullOrWhiteSpace(databasePath) ? new ItsmOptions.SqliteSettings().Path : databasePath);
        }

        return options;
    }

    /// <summary><c>dev-signing-key.json</c> in the folder of the database file.</summary>
    public static string DefaultDevKeyPath(string databasePath) =>
        Path.Combine(Path.GetDirectoryName(databasePath) ?? string.Empty, DevKeyFileName);

    /// <summary>The audiences a token may carry: the configured ones plus the client id of each <c>api://{guid}</c>.</summary>
    public IReadOnlyList<string> Audiences()
    {
        var audiences = new List<string>();
        foreach (var audience in SplitList(Audience))
        {
            audiences.Add(audience);
            if (audience.StartsWith("api://", StringComparison.OrdinalIgnoreCase) && Guid.TryParse(audience["api://".Length..].TrimEnd('/'), out var clientId))
            {
                audiences.Add(clientId.ToString("D"));
            }
        }

        return audiences.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The tenants whose tokens are accepted; empty means any tenant (dev tokens only, when no tenant is configured).</summary>
    public IReadOnlyList<string> Tenants()
    {
        var tenants = new List<string>();
        if (!string.IsNullOrWhiteSpace(TenantId))
        {
            tenants.Add(TenantId.Trim());
        }

        tenants.AddRange(SplitList(AllowedTenants));
        return tenants.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Checks the settings at start; the app refuses to start and names the bad setting.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Mode))
        {
            errors.Add("Itsm:Auth:Mode must be Entra or DevTokens.");
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(10))
        {
            errors.Add("Itsm:Auth:ClockSkew must be between 00:00:00 and 00:10:00.");
        }

        if (Mode == AuthMode.Entra)
        {
            if (string.IsNullOrWhiteSpace(TenantId))
            {
                errors.Add("Itsm:Auth:TenantId is required in Entra mode: the directory (tenant) id of the app registration.");
            }
            else if (!Guid.TryParse(TenantId, out _))
            {
                errors.Add($"Itsm:Auth:TenantId must be the directory (tenant) id, a GUID, not '{TenantId}'.");
            }

            if (SplitList(Audience).Count == 0)
            {
                errors.Add("Itsm:Auth:Audience is required in Entra mode: the app registration's Application ID URI (api://{client id}) or client id.");
            }

            foreach (var tenant in SplitList(AllowedTenants).Where(t => !Guid.TryParse(t, out _)))
            {
                errors.Add($"Itsm:Auth:AllowedTenants must list tenant ids (GUIDs); '{tenant}' is not one.");
            }

            if (!Uri.TryCreate(Instance, UriKind.Absolute, out var instance) || instance.Scheme != Uri.UriSchemeHttps || !Instance.EndsWith('/'))
            {
                errors.Add($"Itsm:Auth:Instance must be an https URL ending with '/', such as {DefaultInstance}.");
            }
        }
        else if (string.IsNullOrWhiteSpace(DevKeyPath))
        {
            errors.Add("Itsm:Auth:DevKeyPath must name the dev signing key file.");
        }

        return errors;
    }

    /// <summary>The OpenID Connect metadata document of the tenant (v2.0 endpoint).</summary>
    public string MetadataAddress => $"{Instance}{TenantId?.Trim()}/v2.0/.well-known/openid-configuration";

    internal static IReadOnlyList<string> SplitList(string? value) =>
        (value ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
