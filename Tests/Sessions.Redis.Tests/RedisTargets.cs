using System.Diagnostics;
using System.Globalization;
using System.Net;
using Garnet;
using Garnet.server;
using StackExchange.Redis;
using Sessions.Testing;

namespace Sessions.Redis.Tests;

/// <summary>A Redis-compatible server (or cluster) a test fixture starts, with a multiplexer on it and admin access to each primary.</summary>
internal abstract class RedisTarget : IDisposable
{
    private ConnectionMultiplexer? _connection;

    /// <summary>The shared multiplexer the databases under test use.</summary>
    public IConnectionMultiplexer Connection => _connection ?? throw new InvalidOperationException("Not started.");

    /// <summary>A StackExchange.Redis configuration string for the target.</summary>
    public abstract string Configuration { get; }

    /// <summary>The ports of the primaries.</summary>
    public abstract IReadOnlyList<int> Ports { get; }

    /// <summary>Whether the server reports Redis-compatible <c>INFO commandstats</c> (redis-server does).</summary>
    public abstract bool CountsCommands { get; }

    public abstract string Name { get; }

    protected void Connect()
    {
        _connection = ConnectionMultiplexer.Connect(Configuration + ",abortConnect=false,connectTimeout=5000");
        var deadline = Stopwatch.StartNew();
        while (_connection.GetServers().Count(s => s.IsConnected && !s.IsReplica) < Ports.Count)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
                throw new TimeoutException($"{Name}: the multiplexer did not see {Ports.Count} primaries.");
            Thread.Sleep(50);
        }
    }

    /// <summary>Runs one admin command on every primary and returns the replies.</summary>
    public List<string?> OnEveryPrimary(params string[] command)
    {
        var replies = new List<string?>();
        foreach (var port in Ports)
        {
            using var client = RespClient.Connect(port);
            replies.Add(client.Call(command));
        }
        return replies;
    }

    /// <summary>Every key on every primary (<c>SCAN</c> through the admin connection).</summary>
    public List<string> AllKeys()
    {
        var keys = new List<string>();
        foreach (var port in Ports)
            keys.AddRange(KeysOn(port, "*"));
        return keys;
    }

    /// <summary>The keys on the primary at <paramref name="port"/> that match <paramref name="pattern"/>.</summary>
    public static List<string> KeysOn(int port, string pattern)
    {
        using var client = RespClient.Connect(port);
        var keys = new List<string>();
        var cursor = "0";
        do
        {
            var reply = client.Call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")!.Split('\n');
            cursor = reply[0];
            keys.AddRange(reply.Skip(1).Where(k => k.Length > 0));
        }
        while (cursor != "0");
        return keys;
    }

    /// <summary>Resets the command statistics on every primary.</summary>
    public void ResetStats() => OnEveryPrimary("CONFIG", "RESETSTAT");

    /// <summary>Calls per command, summed over every primary, from <c>INFO commandstats</c>.</summary>
    public Dictionary<string, long> CommandStats()
    {
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var reply in OnEveryPrimary("INFO", "commandstats"))
        {
            foreach (var line in reply!.Split('\n'))
            {
                // cmdstat_hgetall:calls=1,usec=...
                if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
                    continue;
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var name = line[8..colon];
                var calls = line[(colon + 1)..].Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal))[6..];
                stats[name] = stats.GetValueOrDefault(name) + long.Parse(calls, CultureInfo.InvariantCulture);
            }
        }
        return stats;
    }

    public virtual void Dispose() => _connection?.Dispose();
}

/// <summary>One redis-server.</summary>
internal sealed class RedisServerTarget : RedisTarget
{
    private readonly RedisProcess _server;

    public RedisServerTarget()
    {
        _server = RedisProcess.Start(LoopbackPorts.Free());
        try
        {
            Connect();
        }
        catch
        {
            _server.Dispose();
            throw;
        }
    }

    public override string Configuration => $"127.0.0.1:{_server.Port}";

    public override IReadOnlyList<int> Ports => [_server.Port];

    public override bool CountsCommands => true;

    public override string Name => "redis-server";

    public override void Dispose()
    {
        base.Dispose();
        _server.Dispose();
    }
}

/// <summary>A 3-node Redis Cluster (three primaries, no replicas), slots split evenly.</summary>
internal sealed class RedisClusterTarget : RedisTarget
{
    private readonly List<RedisProcess> _nodes = [];

    public RedisClusterTarget()
    {
        try
        {
            var basePort = PickBasePort();
            for (var i = 0; i < 3; i++)
                _nodes.Add(RedisProcess.Start(basePort + i, cluster: true));
            int[][] ranges = [[0, 5460], [5461, 10922], [10923, 16383]];
            for (var i = 0; i < 3; i++)
            {
                using var client = _nodes[i].Admin();
                client.Call("CLUSTER", "ADDSLOTSRANGE", ranges[i][0].ToString(CultureInfo.InvariantCulture), ranges[i][1].ToString(CultureInfo.InvariantCulture));
            }
            using (var first = _nodes[0].Admin())
            {
                for (var i = 1; i < 3; i++)
                    first.Call("CLUSTER", "MEET", "127.0.0.1", _nodes[i].Port.ToString(CultureInfo.InvariantCulture));
            }
            var deadline = Stopwatch.StartNew();
            while (!OnEveryPrimary("CLUSTER", "INFO").All(info => info!.Contains("cluster_state:ok", StringComparison.Ordinal) && info.Contains("cluster_known_nodes:3", StringComparison.Ordinal)))
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(20))
                    throw new TimeoutException("The Redis Cluster did not reach cluster_state:ok within 20 s.");
                Thread.Sleep(100);
            }
            Connect();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override string Configuration => string.Join(",", _nodes.Select(n => $"127.0.0.1:{n.Port}"));

    public override IReadOnlyList<int> Ports => _nodes.Select(n => n.Port).ToList();

    public override bool CountsCommands => true;

    public override string Name => "redis-cluster";

    public override void Dispose()
    {
        base.Dispose();
        foreach (var node in _nodes)
            node.Dispose();
        _nodes.Clear();
    }

    /// <summary>A base port with the three client ports and their cluster bus ports (+10000) free; at most 55000.</summary>
    private static int PickBasePort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20000, 45000);
            if (LoopbackPorts.AreFree([port, port + 1, port + 2, port + 10000, port + 10001, port + 10002]))
                return port;
        }
        throw new InvalidOperationException("No free port range for a Redis Cluster.");
    }
}

/// <summary>Garnet, embedded in the test process, with Lua enabled.</summary>
internal sealed class GarnetTarget : RedisTarget
{
    private readonly GarnetServer _server;
    private readonly int _port;

    public GarnetTarget()
    {
        _port = LoopbackPorts.Free();
        _server = new GarnetServer(new GarnetServerOptions
        {
            EndPoints = [new IPEndPoint(IPAddress.Loopback, _port)],
            QuietMode = true,
            EnableLua = true,
            LuaOptions = new LuaOptions(null),
        });
        try
        {
            _server.Start();
            Connect();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override string Configuration => $"127.0.0.1:{_port}";

    public override IReadOnlyList<int> Ports => [_port];

    public override bool CountsCommands => false;

    public override string Name => "garnet";

    public override void Dispose()
    {
        base.Dispose();
        _server.Dispose();
    }
}
