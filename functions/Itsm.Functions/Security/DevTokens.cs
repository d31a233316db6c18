using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Security;

/// <summary>
/// Tokens for standalone use, signed with the local dev key and shaped like Entra ID v2.0 access tokens (<c>tid</c>,
/// <c>oid</c>, <c>roles</c> ...). They pass the same validation as Entra tokens, with the dev issuer and audience.
/// </summary>
public static class DevTokens
{
    public const string Issuer = "https://itsm.local/dev";

    public const string Audience = "api://itsm-local";

    public const string DefaultTenant = "local";

    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(8);

    /// <summary>Mints a token with the dev key in <paramref name="keyPath"/> (created when missing).</summary>
    /// <param name="now">Issue time; tests pass their fake clock's time. Default: the system clock.</param>
    public static string Mint(
        string keyPath,
        string userId,
        IEnumerable<string>? roles = null,
        string tenantId = DefaultTenant,
        string? name = null,
        string? email = null,
        TimeSpan? lifetime = null,
        DateTimeOffset? now = null,
        IEnumerable<string>? groups = null) =>
        Mint(DevSigningKey.LoadOrCreate(keyPath), userId, roles, tenantId, name, email, lifetime, now, groups);

    /// <summary>Mints a token with an already loaded dev key.</summary>
    public static string Mint(
        DevSigningKey key,
        string userId,
        IEnumerable<string>? roles = null,
        string tenantId = DefaultTenant,
        string? name = null,
        string? email = null,
        TimeSpan? lifetime = null,
        DateTimeOffset? now = null,
        IEnumerable<string>? groups = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        ArgumentException.ThrowIfNullOrWhiteSpace(tenantId);
        var roleList = (roles ?? []).ToList();
        var unknown = roleList.Where(r => !AppRoles.All.Contains(r)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown app role(s) {string.Join(", ", unknown)}; the roles are {string.Join(", ", AppRoles.All)}.", nameof(roles));
        }

        var issuedAt = (now ?? DateTimeOffset.UtcNow).UtcDateTime;
        var claims = new Dictionary<string, object>
        {
            ["tid"] = tenantId,
            ["oid"] = userId,
            ["sub"] = userId,
            ["ver"] = "2.0",
        };
        if (name is not null)
        {
            claims["name"] = name;
        }

        if (email is not null)
        {
            claims["preferred_username"] = email;
        }

        if (roleList.Count > 0)
        {
            claims["roles"] = roleList.Distinct(StringComparer.Ordinal).ToArray();
        }

        var groupList = (groups ?? []).Where(g => !string.IsNullOrWhiteSpace(g)).Distinct(StringComparer.Ordinal).ToArray();
        if (groupList.Length > 0)
        {
            claims["groups"] = groupList;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + (lifetime ?? DefaultLifetime),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.RsaSha256),
        });
    }
}
