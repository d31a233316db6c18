using System.Net;
using System.Net.Sockets;

namespace Itsm.Functions.Hosting.Standalone;

/// <summary>
/// Before the standalone host starts, checks that the ports of <c>Itsm:Standalone:Urls</c> are free, so a port in use
/// is one line naming the port and the setting to change, not Kestrel's stack trace after the other services started.
/// </summary>
public static class ListeningPorts
{
    /// <summary>The message for the first port of <paramref name="urls"/> another program listens on; null when all are free.</summary>
    public static string? TakenMessage(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            BindingAddress address;
            try
            {
                address = BindingAddress.Parse(url);
            }
            catch (FormatException)
            {
                continue;
            }

            if (address.Port > 0 && Addresses(address.Host).Any(ip => InUse(ip, address.Port)))
            {
                return InUseMessage(address.Port, urls);
            }
        }

        return null;
    }

    public static string InUseMessage(int port, string urls) =>
        $"Port {port} is already in use by another program ({ItsmOptions.SectionName}:Standalone:Urls is {urls}). Stop that program, or listen elsewhere: "
        + $"set {ItsmOptions.SectionName}__Standalone__Urls, e.g. {ItsmOptions.SectionName}__Standalone__Urls=http://localhost:{(port == ushort.MaxValue ? port - 1 : port + 1)}.";

    private static IEnumerable<IPAddress> Addresses(string host) =>
        host switch
        {
            "localhost" => [IPAddress.Loopback, IPAddress.IPv6Loopback],
            "*" or "+" => [IPAddress.Any],
            _ when IPAddress.TryParse(host.Trim('[', ']'), out var ip) => [ip],
            _ => [IPAddress.Any],
        };

    private static bool InUse(IPAddress address, int port)
    {
        try
        {
            using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen();
            return false;
        }
        catch (SocketException ex)
        {
            // Only "in use" counts: an address family the machine lacks (no IPv6) is not this check's business.
            return ex.SocketErrorCode == SocketError.AddressAlreadyInUse;
        }
    }
}
