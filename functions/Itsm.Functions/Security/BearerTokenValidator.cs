using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Security;

/// <summary>What a token must show to be trusted, apart from a signature by one of the trusted keys.</summary>
/// <param name="Issuers">Accepted <c>iss</c> values, compared exactly.</param>
/// <param name="Audiences">Accepted <c>aud</c> values.</param>
/// <param name="Tenants">Accepted <c>tid</c> values; empty accepts any tenant (dev tokens without a configured tenant only).</param>
/// <param name="ClockSkew">Tolerance when checking <c>exp</c> and <c>nbf</c>.</param>
public sealed record TokenTrust(IReadOnlyList<string> Issuers, IReadOnlyList<string> Audiences, IReadOnlyList<string> Tenants, TimeSpan ClockSkew)
{
    /// <summary>The v2.0 and v1.0 issuers of each allowed tenant, the configured audiences.</summary>
    public static TokenTrust ForEntra(AuthOptions options)
    {
        var tenants = options.Tenants().Select(t => Guid.TryParse(t, out var id) ? id.ToString("D") : t).ToList();
        var issuers = tenants.SelectMany(t => new[] { $"{options.Instance}{t}/v2.0", $"https://sts.windows.net/{t}/" }).ToList();
        return new TokenTrust(issuers, options.Audiences(), tenants, options.ClockSkew);
    }

    /// <summary>The dev issuer and audience; tenants as configured, or any.</summary>
    public static TokenTrust ForDevTokens(AuthOptions options) =>
        new([DevTokens.Issuer], [DevTokens.Audience], options.Tenants(), options.ClockSkew);
}

/// <summary>
/// The one validation path for callers' bearer tokens in both modes: RS256 signature by a trusted key, issuer,
/// audience, expiry and not-before (with the injected clock), and the tenant. Only the keys and the
/// <see cref="TokenTrust"/> differ between Entra ID and dev tokens.
/// </summary>
public sealed class BearerTokenValidator
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenTrust _trust;
    private readonly ISigningKeySource _keys;
    private readonly TimeProvider _clock;

    public BearerTokenValidator(TokenTrust trust, ISigningKeySource keys, TimeProvider clock)
    {
        _trust = trust;
        _keys = keys;
        _clock = clock;
    }

    public TokenTrust Trust => _trust;

    /// <summary>The validator for the configured mode.</summary>
    /// <param name="metadataRetriever">Entra mode only: fetches the OIDC metadata and JWKS (tests fake the endpoint with it).</param>
    public static BearerTokenValidator Create(AuthOptions options, TimeProvider clock, IDocumentRetriever? metadataRetriever = null) =>
        options.Mode == AuthMode.Entra
            ? new BearerTokenValidator(TokenTrust.ForEntra(options), new OpenIdConnectSigningKeySource(options.MetadataAddress, metadataRetriever), clock)
            : new BearerTokenValidator(TokenTrust.ForDevTokens(options), new DevSigningKeySource(options.DevKeyPath!), clock);

    /// <summary>The caller the token proves, or why it proves nothing.</summary>
    public async Task<AuthenticationResult> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return AuthenticationResult.Fail("The bearer token is not a well-formed JWT.");
        }

        JsonWebToken unverified;
        try
        {
            unverified = _handler.ReadJsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenMalformedException)
        {
            return AuthenticationResult.Fail("The bearer token is not a well-formed JWT.");
        }

        if (unverified.IsEncrypted)
        {
            return AuthenticationResult.Fail("Encrypted tokens are not accepted.");
        }

        if (unverified.Alg != SecurityAlgorithms.RsaSha256)
        {
            return AuthenticationResult.Fail($"The token is signed with '{Printable(unverified.Alg)}'; only RS256 is accepted.");
        }

        var keys = await _keys.GetKeysAsync(cancellationToken);
        if (!string.IsNullOrEmpty(unverified.Kid) && !keys.Any(k => k.KeyId == unverified.Kid))
        {
            // The issuer may have rotated its keys since they were fetched.
            keys = await _keys.RefreshKeysAsync(cancellationToken) ?? keys;
        }

        var result = await _handler.ValidateTokenAsync(token, Parameters(keys));
        if (!result.IsValid)
        {
            return AuthenticationResult.Fail(Reason(result.Exception));
        }

        var jwt = (JsonWebToken)result.SecurityToken;
        var lifetimeProblem = CheckLifetime(jwt);
        if (lifetimeProblem is not null)
        {
            return AuthenticationResult.Fail(lifetimeProblem);
        }

        var tenant = Claim(jwt, "tid");
        if (tenant is null)
        {
            return AuthenticationResult.Fail("The token has no tenant id (tid).");
        }

        if (_trust.Tenants.Count > 0 && !_trust.Tenants.Contains(tenant, StringComparer.OrdinalIgnoreCase))
        {
            return AuthenticationResult.Fail($"Tenant '{Printable(tenant)}' is not allowed to call this API.");
        }

        var user = Claim(jwt, "oid") ?? Claim(jwt, "sub");
        if (user is null)
        {
            return AuthenticationResult.Fail("The token names no user (oid or sub).");
        }

        var email = Claim(jwt, "preferred_username") ?? Claim(jwt, "email") ?? Claim(jwt, "upn");
        return AuthenticationResult.Success(new CallerPrincipal(tenant, user, Claim(jwt, "name"), email, Roles(jwt)) { Groups = Groups(jwt) });
    }

    private TokenValidationParameters Parameters(IReadOnlyCollection<SecurityKey> keys) => new()
    {
        ValidIssuers = _trust.Issuers,
        ValidAudiences = _trust.Audiences,
        IssuerSigningKeys = keys,
        ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
        RequireSignedTokens = true,
        ValidateIssuer = true,
        ValidateAudience = true,

        // Checked against the injected clock in CheckLifetime (IdentityModel's own check reads the system clock).
        ValidateLifetime = false,
        TryAllIssuerSigningKeys = true,
        ValidateTokenReplay = false,
    };

    private string? CheckLifetime(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<long>("exp", out var exp))
        {
            return "The token has no expiry (exp).";
        }

        var now = _clock.GetUtcNow();
        var expires = DateTimeOffset.FromUnixTimeSeconds(exp);
        if (now - _trust.ClockSkew >= expires)
        {
            return $"The token expired at {expires:u}.";
        }

        if (jwt.TryGetPayloadValue<long>("nbf", out var nbf) && DateTimeOffset.FromUnixTimeSeconds(nbf) is var notBefore && now + _trust.ClockSkew < notBefore)
        {
            return $"The token is not valid before {notBefore:u}.";
        }

        return null;
    }

    /// <summary>Only the app's own roles; a token with none of them is a requester.</summary>
    private static IReadOnlySet<string> Roles(JsonWebToken jwt)
    {
        var roles = jwt.Claims
            .Where(c => c.Type == "roles")
            .Select(c => c.Value)
            .Where(AppRoles.All.Contains)
            .ToHashSet(StringComparer.Ordinal);
        if (roles.Count == 0)
        {
            roles.Add(AppRoles.Requester);
        }

        return roles;
    }

    /// <summary>
    /// The <c>groups</c> claim (Entra security group object ids, when the app registration emits them). A token whose
    /// groups did not fit (Entra's overage: <c>_claim_names</c> instead of the list) carries none here.
    /// </summary>
    private static IReadOnlySet<string> Groups(JsonWebToken jwt)
    {
        var groups = jwt.Claims.Where(c => c.Type == "groups" && c.Value.Length is > 0 and <= 100).Select(c => c.Value).Take(500).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return groups.Count == 0 ? CallerPrincipal.NoGroups : groups;
    }

    private static string? Claim(JsonWebToken jwt, string type) =>
        jwt.TryGetPayloadValue<string>(type, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>Our own words: IdentityModel's messages hide their details (PII) and cite internal codes.</summary>
    private static string Reason(Exception? exception) => exception switch
    {
        SecurityTokenInvalidAudienceException => "The token is not meant for this API (audience).",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted.",
        SecurityTokenSignatureKeyNotFoundException => "The token is signed with a key this API does not trust.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted; only RS256 is.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        SecurityTokenMalformedException => "The bearer token is not a well-formed JWT.",
        _ => "The token is not valid.",
    };

    private static string Printable(string? value)
    {
        value ??= string.Empty;
        var clean = new string(value.Where(c => !char.IsControl(c)).Take(64).ToArray());
        return clean.Length < value.Length ? clean + "…" : clean;
    }
}
