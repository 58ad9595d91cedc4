using System.Net;
using System.Net.Sockets;

namespace Sessions.Testing;

/// <summary>Loopback ports for the servers tests start (samples, redis-server): one place for the free-port probe.</summary>
public static class LoopbackPorts
{
    /// <summary>A free loopback TCP port (free when asked; a server binding it later may still race another process).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether every port in <paramref name="ports"/> can be bound on loopback now.</summary>
    public static bool AreFree(IEnumerable<int> ports)
    {
        foreach (var port in ports)
        {
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
            }
            catch (SocketException)
            {
                return false;
            }
        }
        return true;
    }
}
