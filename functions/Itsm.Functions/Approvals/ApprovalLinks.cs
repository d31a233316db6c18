using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Itsm.Functions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Approvals;

/// <summary>What a link token carries: the decision point (tenant, approval, level), the approver slot, the person it was sent to, expiry and its own id.</summary>
public sealed record ApprovalLinkClaims(
    [property: JsonPropertyName("tid")] string TenantId,
    [property: JsonPropertyName("aid")] string ApprovalId,
    [property: JsonPropertyName("lvl")] int Level,
    [property: JsonPropertyName("apr")] string Approver,
    [property: JsonPropertyName("usr")] string Recipient,
    [property: JsonPropertyName("exp")] long ExpiresAt,
    [property: JsonPropertyName("jti")] string LinkId);

[JsonConverter(typeof(JsonStringEnumConverter<LinkCheck>))]
public enum LinkCheck
{
    Valid,
    Malformed,
    BadSignature,
    Expired,
}

/// <summary>
/// Signed approval links: <c>base64url(claims JSON)</c> "." <c>base64url(HMAC-SHA256)</c>. The key comes from
/// <c>Itsm:Approvals:LinkKey</c> (base64, at least 32 bytes; from Key Vault in Azure), or standalone from
/// <c>approval-link-key</c> next to the database, created on first use and readable only by its owner.
/// Single use is enforced by the approval record, which keeps the ids of the links that decided.
/// </summary>
public sealed class ApprovalLinks
{
    public const string KeySetting = "Itsm:Approvals:LinkKey";
    /// <summary>The earlier name of <c>Itsm:PublicBaseUrl</c>, still honoured.</summary>
    public const string BaseUrlSetting = PublicAddress.ApprovalsSetting;
    public const string KeyFileName = "approval-link-key";
    public const string PagePath = "/api/approval-page";

    private readonly Lazy<byte[]> _key;

    private readonly PublicAddress _address;

    public ApprovalLinks(IConfiguration configuration, TimeProvider time, PublicAddress address)
    {
        Time = time;
        _address = address;
        _key = new Lazy<byte[]>(() => LoadKey(configuration), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    private TimeProvider Time { get; }

    /// <summary>Where links point: <c>Itsm:PublicBaseUrl</c>, else the address the app listens on (see <see cref="PublicAddress"/>).</summary>
    public string BaseUrl => _address.BaseUrl;

    public string Create(ApprovalLinkClaims claims)
    {
        var payload = Base64UrlEncoder.Encode(JsonSerializer.SerializeToUtf8Bytes(claims));
        return payload + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(_key.Value, Encoding.ASCII.GetBytes(payload)));
    }

    public string Url(string token) => $"{BaseUrl}{PagePath}?t={Uri.EscapeDataString(token)}";

    /// <summary>
    /// A signed token for another kind of link (<paramref name="purpose"/>, e.g. the ticket page): the same key, but the
    /// purpose is part of what is signed, so it is never valid as an approval link or as a link of another purpose.
    /// </summary>
    public string Sign(string purpose, byte[] claimsJson)
    {
        var payload = Base64UrlEncoder.Encode(claimsJson);
        return payload + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(_key.Value, Encoding.ASCII.GetBytes(purpose + ":" + payload)));
    }

    /// <summary>The claims of a token made by <see cref="Sign"/> for <paramref name="purpose"/>; null when it is malformed or its signature does not match.</summary>
    public byte[]? Open(string purpose, string? token)
    {
        var parts = (token ?? "").Split('.');
        if (parts.Length != 2 || parts[0].Length is 0 or > 4096)
        {
            return null;
        }

        try
        {
            var signature = Base64UrlEncoder.DecodeBytes(parts[1]);
            var expected = HMACSHA256.HashData(_key.Value, Encoding.ASCII.GetBytes(purpose + ":" + parts[0]));
            return CryptographicOperations.FixedTimeEquals(signature, expected) ? Base64UrlEncoder.DecodeBytes(parts[0]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public (LinkCheck Check, ApprovalLinkClaims? Claims) Verify(string? token)
    {
        var parts = (token ?? "").Split('.');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[0].Length > 4096)
        {
            return (LinkCheck.Malformed, null);
        }

        byte[] signature;
        try
        {
            signature = Base64UrlEncoder.DecodeBytes(parts[1]);
        }
        catch (FormatException)
        {
            return (LinkCheck.Malformed, null);
        }

        var expected = HMACSHA256.HashData(_key.Value, Encoding.ASCII.GetBytes(parts[0]));
        if (!CryptographicOperations.FixedTimeEquals(signature, expected))
        {
            return (LinkCheck.BadSignature, null);
        }

        ApprovalLinkClaims? claims;
        try
        {
            claims = JsonSerializer.Deserialize<ApprovalLinkClaims>(Base64UrlEncoder.DecodeBytes(parts[0]));
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            return (LinkCheck.Malformed, null);
        }

        if (claims is null)
        {
            return (LinkCheck.Malformed, null);
        }

        return Time.GetUtcNow().ToUnixTimeSeconds() >= claims.ExpiresAt ? (LinkCheck.Expired, claims) : (LinkCheck.Valid, claims);
    }

    private static byte[] LoadKey(IConfiguration configuration)
    {
        if (configuration[KeySetting] is { Length: > 0 } configured)
        {
            var bytes = Convert.FromBase64String(configured);
            return bytes.Length >= 32 ? bytes : throw new InvalidSettingsException([$"{KeySetting} must be at least 32 bytes (base64)."]);
        }

        var database = configuration[$"{ItsmOptions.SectionName}:Sqlite:Path"] is { Length: > 0 } configuredPath ? configuredPath : new ItsmOptions.SqliteSettings().Path;
        var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(database)) ?? ".", KeyFileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            // Written to a private temporary file and moved into place, so a concurrent reader never sees half a key.
            var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using (var stream = new FileStream(temporary, options))
                {
                    stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
                }

                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first: use theirs.
            }
            finally
            {
                File.Delete(temporary);
            }
        }

        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }
}
