using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Tests.Security;

/// <summary>Tokens shaped by hand: any issuer, audience, claims and key, and the malicious ones (unsigned, HMAC).</summary>
public static class TestJwt
{
    public static RsaSecurityKey NewRsaKey(string keyId) => new(RSA.Create(2048)) { KeyId = keyId };

    public static string Sign(
        SecurityKey key,
        string issuer,
        string audience,
        IDictionary<string, object> claims,
        DateTimeOffset notBefore,
        DateTimeOffset expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore.UtcDateTime,
            NotBefore = notBefore.UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });

    /// <summary>Entra-like user claims.</summary>
    public static Dictionary<string, object> UserClaims(string tenant, string user, params string[] roles)
    {
        var claims = new Dictionary<string, object> { ["tid"] = tenant, ["oid"] = user, ["sub"] = "subject-" + user, ["name"] = "User " + user };
        if (roles.Length > 0)
        {
            claims["roles"] = roles;
        }

        return claims;
    }

    /// <summary>A compact JWT from raw header and payload JSON, with the given signature bytes (none: empty).</summary>
    public static string Compose(object header, object payload, Func<byte[], byte[]>? sign = null)
    {
        var signingInput = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(payload));
        var signature = sign is null ? string.Empty : Base64UrlEncoder.Encode(sign(Encoding.ASCII.GetBytes(signingInput)));
        return signingInput + "." + signature;
    }

    /// <summary>The payload of a compact JWT as a dictionary.</summary>
    public static Dictionary<string, JsonElement> Payload(string token) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Base64UrlEncoder.DecodeBytes(token.Split('.')[1]))!;

    /// <summary>The same token with its payload replaced (the signature is kept, so it no longer matches).</summary>
    public static string ReplacePayload(string token, object payload)
    {
        var parts = token.Split('.');
        return parts[0] + "." + Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(payload)) + "." + parts[2];
    }
}
