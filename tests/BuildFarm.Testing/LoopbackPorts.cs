using System.Net;
using System.Net.Sockets;

namespace BuildFarm.Testing;

/// <summary>
/// Loopback ports for servers and services that tests and benchmarks start. Never one the system picks (port 0): that
/// comes from the ephemeral range (32768–60999 here), where any process's outgoing connection may take it as its own
/// port in the seconds before the started program binds it (a Scheduler then failed to start with "address already in
/// use" and a test waited for a dispatch that never came). Each port is handed out once per process; the test servers
/// of <c>./farm test</c> use 25xxx and up.
/// </summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> Taken = [];

    /// <summary>A port in [<paramref name="from"/>, <paramref name="to"/>) that nothing listens on now.</summary>
    public static int Free(int from = 20000, int to = 25000)
    {
        for (var i = 0; i < 1000; i++)
        {
            var port = Random.Shared.Next(from, to);
            lock (Taken)
            {
                if (!Taken.Add(port))
                {
                    continue;
                }
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
                // In use: another one.
            }
        }
        throw new InvalidOperationException($"no free loopback port in {from}-{to - 1}");
    }
}
