using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// One real redis-server for the whole test run, started on first use (so a run of memory-only tests needs none) on a
/// free loopback port and stopped by its PID after the last test. Every session ID is fresh, so fixtures sharing it do
/// not see each other's data.
/// </summary>
[SetUpFixture]
public sealed class SharedRedis
{
    private static readonly Lazy<RedisProcess> Server = new(() => RedisProcess.Start(LoopbackPorts.Free()), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The server's <c>HOST:PORT</c>, as the samples' <c>--redis</c> takes it.</summary>
    public static string Endpoint => "127.0.0.1:" + Server.Value.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The server, for direct inspection with <see cref="RedisProcess.Admin"/>.</summary>
    public static RedisProcess Process => Server.Value;

    [OneTimeTearDown]
    public void StopServer()
    {
        if (!Server.IsValueCreated)
            return;
        Server.Value.Dispose(); // killed by its PID and waited for
        Directory.Delete(Server.Value.Directory, recursive: true);
    }
}
