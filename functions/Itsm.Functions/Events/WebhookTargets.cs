using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Itsm.Functions.Events;

/// <summary>
/// Which addresses a webhook may be delivered to: https only, and never an internal address (loopback, private,
/// carrier-grade NAT, link-local, the cloud metadata and wire-server addresses, multicast, unspecified), checked on the
/// URL when a subscription is made and again on every address the host name resolves to when a delivery connects (so a
/// name that later resolves inward is refused too). <c>Itsm:Events:Webhooks:AllowLocalTargets</c> lifts both rules for
/// development and tests only.
/// </summary>
public static class WebhookTargets
{
    private static readonly IPAddress AzureWireServer = IPAddress.Parse("168.63.129.16");

    /// <summary>Why the URL may not be a target, or null when it may.</summary>
    public static async Task<string?> RefusalAsync(string url, bool allowLocal, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return "must be an absolute https URL.";
        }

        if (uri.Scheme != "https" && !allowLocal)
        {
            return "must use https.";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            return "must not carry credentials or a fragment.";
        }

        if (url.Length > 2000)
        {
            return "must be at most 2000 characters.";
        }

        if (allowLocal)
        {
            return null;
        }

        if (uri.IsLoopback || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "must not point at this machine (loopback).";
        }

        IPAddress[] addresses;
        if (IPAddress.TryParse(uri.DnsSafeHost, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Dns.GetHostAddressesAsync(uri.DnsSafeHost, cancellationToken);
            }
            catch (SocketException)
            {
                return $"names a host that does not resolve ('{uri.DnsSafeHost}').";
            }
        }

        return addresses.Length == 0 ? $"names a host that does not resolve ('{uri.DnsSafeHost}')."
            : addresses.FirstOrDefault(IsInternal) is { } inward ? $"resolves to an internal address ({inward}); webhooks go to public addresses only."
            : null;
    }

    /// <summary>True for every address a webhook must never reach.</summary>
    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None) || address.Equals(AzureWireServer))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0 || b[0] == 10 || b[0] == 127
                || (b[0] == 100 && b[1] >= 64 && b[1] <= 127) // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254) // link-local, including the 169.254.169.254 metadata endpoint
                || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && b[1] is 18 or 19) // benchmarking
                || b[0] >= 224; // multicast and reserved
        }

        var v6 = address.GetAddressBytes();
        return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
            || (v6[0] & 0xFE) == 0xFC // unique local fc00::/7
            || address.IsIPv6Teredo || (v6[0] == 0x20 && v6[1] == 0x02); // 6to4 can wrap any IPv4 address
    }

    /// <summary>
    /// Connects a delivery: resolves the host and connects only to an address that is not internal, so DNS cannot
    /// steer a delivery inward after the subscription was checked (the check happens at the connection itself).
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(string host, int port, bool allowLocal, CancellationToken cancellationToken)
    {
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = allowLocal ? addresses : addresses.Where(a => !IsInternal(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"Webhook host '{host}' resolves only to internal addresses; refused.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>
/// The signature of a delivery: HMAC-SHA256, keyed with the subscription's secret (its UTF-8 bytes, as shown once),
/// over <c>{timestamp}.{body}</c>, where the timestamp is the <c>Itsm-Webhook-Timestamp</c> header (Unix seconds) and
/// the body is the exact bytes received; sent as <c>Itsm-Webhook-Signature: v1={lower-case hex}</c>.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "Itsm-Webhook-Id";
    public const string TimestampHeader = "Itsm-Webhook-Timestamp";
    public const string SignatureHeader = "Itsm-Webhook-Signature";
    public const string EventTypeHeader = "Itsm-Event-Type";

    /// <summary>How far a receiver should let a timestamp be from its clock (replays outside it are refused).</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Sign(string secret, long timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <summary>What a receiver does (docs/events.md): recompute, compare in constant time, and refuse a stale timestamp.</summary>
    public static bool Verify(string secret, string? timestampHeader, string? signatureHeader, byte[] body, DateTimeOffset now)
    {
        if (!long.TryParse(timestampHeader, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var timestamp)
            || signatureHeader is null
            || (now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > Tolerance)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        return signatureHeader.Split(',', StringSplitOptions.TrimEntries)
            .Any(candidate => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(candidate)));
    }
}
