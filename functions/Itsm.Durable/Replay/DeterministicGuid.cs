using System.Security.Cryptography;
using System.Text;

namespace Itsm.Durable.Replay;

/// <summary>Name-based UUIDs, version 5 (SHA-1) as in RFC 9562, section 5.5.</summary>
internal static class DeterministicGuid
{
    /// <summary>The namespace of every <c>TaskOrchestrationContext.NewGuid()</c> value in this SDK.</summary>
    public static readonly Guid OrchestrationNamespace = new("1b03319d-844f-49e8-88b4-bbd6085f64ef");

    public static Guid Create(Guid namespaceId, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var buffer = new byte[16 + nameBytes.Length];
        namespaceId.TryWriteBytes(buffer, bigEndian: true, out _);
        nameBytes.CopyTo(buffer, 16);

        Span<byte> hash = stackalloc byte[20];
#pragma warning disable CA5350 // SHA-1 is what UUID version 5 is defined with; it is not used for security here.
        SHA1.HashData(buffer, hash);
#pragma warning restore CA5350
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
