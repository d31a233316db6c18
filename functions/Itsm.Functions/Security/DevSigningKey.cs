using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.Tokens;

namespace Itsm.Functions.Security;

/// <summary>
/// The RSA key that signs and verifies dev tokens: generated on first use and kept in a JSON Web Key file that only
/// the owner may read (on Unix). The app and <c>token mint</c> resolve the same file, so minted tokens validate.
/// </summary>
public sealed class DevSigningKey
{
    private DevSigningKey(RSA rsa, string keyId, string path)
    {
        Key = new RsaSecurityKey(rsa) { KeyId = keyId };
        Path = path;
    }

    /// <summary>The private key (signs) with its key id; its public part verifies.</summary>
    public RsaSecurityKey Key { get; }

    public string Path { get; }

    public string KeyId => Key.KeyId;

    /// <summary>Reads the key file, or creates it (and its folder) when it does not exist yet.</summary>
    public static DevSigningKey LoadOrCreate(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            TryCreate(fullPath);
        }

        return Load(fullPath);
    }

    private static DevSigningKey Load(string path)
    {
        StoredKey? stored;
        try
        {
            stored = JsonSerializer.Deserialize<StoredKey>(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"The dev signing key file {path} is not a JSON Web Key; delete it to generate a new key.", ex);
        }

        if (stored is not { Kty: "RSA", Kid: not null, N: not null, E: not null, D: not null, P: not null, Q: not null, DP: not null, DQ: not null, QI: not null })
        {
            throw new InvalidOperationException($"The dev signing key file {path} does not hold an RSA private key; delete it to generate a new key.");
        }

        var rsa = RSA.Create();
        rsa.ImportParameters(new RSAParameters
        {
            Modulus = Base64UrlEncoder.DecodeBytes(stored.N),
            Exponent = Base64UrlEncoder.DecodeBytes(stored.E),
            D = Base64UrlEncoder.DecodeBytes(stored.D),
            P = Base64UrlEncoder.DecodeBytes(stored.P),
            Q = Base64UrlEncoder.DecodeBytes(stored.Q),
            DP = Base64UrlEncoder.DecodeBytes(stored.DP),
            DQ = Base64UrlEncoder.DecodeBytes(stored.DQ),
            InverseQ = Base64UrlEncoder.DecodeBytes(stored.QI),
        });
        return new DevSigningKey(rsa, stored.Kid, path);
    }

    /// <summary>Writes a new key to a private temporary file and moves it into place, so a concurrent reader never sees half a key.</summary>
    private static void TryCreate(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var rsa = RSA.Create(2048);
        var parameters = rsa.ExportParameters(includePrivateParameters: true);
        var publicKey = new RsaSecurityKey(new RSAParameters { Modulus = parameters.Modulus, Exponent = parameters.Exponent });
        var stored = new StoredKey
        {
            Kty = "RSA",
            Use = "sig",
            Alg = SecurityAlgorithms.RsaSha256,
            Kid = Base64UrlEncoder.Encode(publicKey.ComputeJwkThumbprint()),
            N = Base64UrlEncoder.Encode(parameters.Modulus),
            E = Base64UrlEncoder.Encode(parameters.Exponent),
            D = Base64UrlEncoder.Encode(parameters.D),
            P = Base64UrlEncoder.Encode(parameters.P),
            Q = Base64UrlEncoder.Encode(parameters.Q),
            DP = Base64UrlEncoder.Encode(parameters.DP),
            DQ = Base64UrlEncoder.Encode(parameters.DQ),
            QI = Base64UrlEncoder.Encode(parameters.InverseQ),
        };

        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var stream = new FileStream(temporary, create))
            {
                JsonSerializer.Serialize(stream, stored, new JsonSerializerOptions { WriteIndented = true });
            }

            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created the key first: use theirs.
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private sealed class StoredKey
    {
        [JsonPropertyName("kty")] public string? Kty { get; set; }

        [JsonPropertyName("use")] public string? Use { get; set; }

        [JsonPropertyName("alg")] public string? Alg { get; set; }

        [JsonPropertyName("kid")] public string? Kid { get; set; }

        [JsonPropertyName("n")] public string? N { get; set; }

        [JsonPropertyName("e")] public string? E { get; set; }

        [JsonPropertyName("d")] public string? D { get; set; }

        [JsonPropertyName("p")] public string? P { get; set; }

        [JsonPropertyName("q")] public string? Q { get; set; }

        [JsonPropertyName("dp")] public string? DP { get; set; }

        [JsonPropertyName("dq")] public string? DQ { get; set; }

        [JsonPropertyName("qi")] public string? QI { get; set; }
    }
}
