using System.Net;
using System.Net.Sockets;

namespace Itsm.Functions.HostTests.Support;

/// <summary>Loopback ports nobody listens on, each handed out once per test run.</summary>
public static class FreePort
{
    private static readonly HashSet<int> Given = [];

    /// <summary>
    /// A port nobody listens on now. The system may offer a port again as soon as its probe closes, so ports given
    /// before (to Azurite's three services, to another target starting at the same time) are never given again.
    /// </summary>
    public static int Next()
    {
        lock (Given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (Given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Whether <paramref name="port"/> can be bound again (the process that listened on it is gone).</summary>
    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
