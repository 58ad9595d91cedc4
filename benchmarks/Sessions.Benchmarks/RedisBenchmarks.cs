using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sessions.Redis;
using Sessions.Testing;

namespace Sessions.Benchmarks;

/// <summary>
/// Load, commit and a whole request against a real redis-server on loopback (started here, stopped by PID): ours
/// against ASP.NET Core's DistributedSession over the StackExchange.Redis cache doing the same work.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RedisBenchmarks
{
    private static readonly byte[] Iris = Encoding.UTF8.GetBytes("iris");
    private readonly BenchCarrier _carrier = new();
    private RedisProcess _server = null!;
    private RedisSessionDatabase _database = null!;
    private SessionManager _sessions = null!;
    private RedisCache _cache = null!;
    private string _id = null!;
    private string _cookie = null!;
    private string _aspNetKey = null!;
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisProcess.Start(RedisProcess.FreePort());
        var endpoint = $"127.0.0.1:{_server.Port}";
        _database = new RedisSessionDatabase(endpoint);
        _sessions = new SessionManager(new SessionConfig { Database = _database });
        var session = _sessions.StartAsync(_carrier.Next(null)).AsTask().GetAwaiter().GetResult();
        session.Set("name", "iris");
        session.Set("counter", 0);
        session.CommitAsync().AsTask().GetAwaiter().GetResult();
        _id = session.Id;
        _cookie = "sid=" + _id;

        _cache = new RedisCache(Options.Create(new RedisCacheOptions { Configuration = endpoint }));
        _aspNetKey = Guid.NewGuid().ToString();
        var aspNet = NewAspNetSession(isNew: true);
        aspNet.Set("name", Iris);
        aspNet.CommitAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cache.Dispose();
        _sessions.Dispose();
        _database.Dispose();
        _server.Dispose();
    }

    [Benchmark, BenchmarkCategory("load")]
    public ValueTask<SessionRecord?> Sessions_Load() => _database.LoadAsync(_id, CancellationToken.None);

    [Benchmark(Baseline = true), BenchmarkCategory("read-write")]
    public async Task<bool> AspNetCore_ReadWrite()
    {
        var session = NewAspNetSession(isNew: false);
        await session.LoadAsync();
        var found = session.TryGetValue("name", out _);
        session.Set("counter", BitConverter.GetBytes(++_counter));
        await session.CommitAsync();
        return found;
    }

    [Benchmark, BenchmarkCategory("read-write")]
    public async Task<bool> Sessions_ReadWrite()
    {
        var session = await _sessions.StartAsync(_carrier.Next(_cookie));
        var found = session.GetString("name", "").Length > 0;
        session.Set("counter", ++_counter);
        await session.CommitAsync();
        return found;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("read-only")]
    public async Task<bool> AspNetCore_ReadOnly()
    {
        var session = NewAspNetSession(isNew: false);
        await session.LoadAsync();
        var found = session.TryGetValue("name", out _);
        await session.CommitAsync();
        return found;
    }

    [Benchmark, BenchmarkCategory("read-only")]
    public async Task<bool> Sessions_ReadOnly()
    {
        var session = await _sessions.StartAsync(_carrier.Next(_cookie));
        var found = session.GetString("name", "").Length > 0;
        await session.CommitAsync();
        return found;
    }

    private DistributedSession NewAspNetSession(bool isNew) =>
        new(_cache, _aspNetKey, TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(1), () => true, NullLoggerFactory.Instance, isNew);
}
