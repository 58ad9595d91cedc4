using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using Sessions.Redis;
using Sessions.Testing;

namespace Sessions.Benchmarks;

/// <summary>
/// Against a real redis-server on loopback (started here, stopped by PID): our Redis database against DistributedSession
/// over the StackExchange.Redis cache, plus our raw one-round-trip load.
/// </summary>
public class RedisBenchmarks : RequestBenchmarks
{
    private RedisProcess _server = null!;
    private RedisSessionDatabase _database = null!;
    private RedisCache _cache = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisProcess.Start(LoopbackPorts.Free());
        var endpoint = $"127.0.0.1:{_server.Port}";
        _database = new RedisSessionDatabase(endpoint);
        _cache = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = endpoint }));
        Setup(new SessionManager(new SessionConfig { Database = _database }), _cache);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        Sessions.Dispose();
        _database.Dispose();
        _server.Dispose();
    }

    [Benchmark, BenchmarkCategory("load")]
    public ValueTask<SessionRecord?> Sessions_Load() => _database.LoadAsync(Id, CancellationToken.None);
}
