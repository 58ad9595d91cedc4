using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Sessions.Benchmarks;

/// <summary>
/// One request's session work on an existing session, in process: ours (Start + Get + Set + commit on the memory
/// database) against ASP.NET Core's DistributedSession over MemoryDistributedCache doing the same (LoadAsync +
/// TryGetValue + Set + CommitAsync). Each category has its own baseline.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class CorePathBenchmarks
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(20);
    private static readonly byte[] Iris = Encoding.UTF8.GetBytes("iris");
    private readonly BenchCarrier _carrier = new();
    private SessionManager _sessions = null!;
    private string _cookie = null!;
    private IDistributedCache _cache = null!;
    private string _aspNetKey = null!;
    private int _counter;

    [GlobalSetup]
    public void Setup()
    {
        _sessions = new SessionManager();
        var session = _sessions.Start(_carrier.Next(null));
        session.Set("name", "iris");
        _cookie = "sid=" + session.Id;

        _cache = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        _aspNetKey = Guid.NewGuid().ToString();
        var aspNet = NewAspNetSession(isNew: true);
        aspNet.Set("name", Iris);
        aspNet.CommitAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _sessions.Dispose();

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

    /// <summary>go-sessions' own measure: Start + GetString (≈0.5 µs with 3 allocations in Go).</summary>
    [Benchmark, BenchmarkCategory("start-get")]
    public string Sessions_StartGetString() => _sessions.Start(_carrier.Next(_cookie)).GetString("name", "");

    private DistributedSession NewAspNetSession(bool isNew) =>
        new(_cache, _aspNetKey, Idle, TimeSpan.FromMinutes(1), () => true, NullLoggerFactory.Instance, isNew);
}
