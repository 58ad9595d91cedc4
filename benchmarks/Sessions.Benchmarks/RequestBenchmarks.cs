using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Session;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sessions.Benchmarks;

/// <summary>
/// One request's session work on an existing session: ours (Start + Get + Set + commit, or StartDeferred + Set + commit for
/// a request that only writes) against ASP.NET Core's DistributedSession doing the same (LoadAsync + TryGetValue + Set + CommitAsync), each on a database and the
/// IDistributedCache a subclass provides. Each category has its own baseline. The methods return ValueTask so the
/// harness allocates nothing of its own when the work completes synchronously.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public abstract class RequestBenchmarks
{
    private static readonly byte[] Iris = Encoding.UTF8.GetBytes("iris");
    private readonly BenchCarrier _carrier = new();
    private IDistributedCache _cache = null!;
    private string _aspNetKey = null!;
    private int _counter;

    /// <summary>Our manager, on the database under test.</summary>
    protected SessionManager Sessions { get; private set; } = null!;

    /// <summary>The ID of the session every request carries.</summary>
    protected string Id { get; private set; } = null!;

    private string Cookie => "sid=" + Id;

    /// <summary>Creates one stored session in each library.</summary>
    protected void Setup(SessionManager sessions, IDistributedCache cache)
    {
        Sessions = sessions;
        var session = sessions.StartAsync(_carrier.Next(null)).AsTask().GetAwaiter().GetResult();
        session.Set("name", "iris");
        session.CommitAsync().AsTask().GetAwaiter().GetResult();
        Id = session.Id;

        _cache = cache;
        _aspNetKey = Guid.NewGuid().ToString();
        var aspNet = NewAspNetSession(isNew: true);
        aspNet.Set("name", Iris);
        aspNet.CommitAsync().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("read-write")]
    public async ValueTask<bool> AspNetCore_ReadWrite()
    {
        var session = NewAspNetSession(isNew: false);
        await session.LoadAsync();
        var found = session.TryGetValue("name", out _);
        session.Set("counter", BitConverter.GetBytes(++_counter));
        await session.CommitAsync();
        return found;
    }

    [Benchmark, BenchmarkCategory("read-write")]
    public async ValueTask<bool> Sessions_ReadWrite()
    {
        var session = await Sessions.StartAsync(_carrier.Next(Cookie));
        var found = session.GetString("name", "").Length > 0;
        session.Set("counter", ++_counter);
        await session.CommitAsync();
        return found;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("read-only")]
    public async ValueTask<bool> AspNetCore_ReadOnly()
    {
        var session = NewAspNetSession(isNew: false);
        await session.LoadAsync();
        var found = session.TryGetValue("name", out _);
        await session.CommitAsync();
        return found;
    }

    [Benchmark, BenchmarkCategory("read-only")]
    public async ValueTask<bool> Sessions_ReadOnly()
    {
        var session = await Sessions.StartAsync(_carrier.Next(Cookie));
        var found = session.GetString("name", "").Length > 0;
        await session.CommitAsync();
        return found;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("write-only")]
    public async ValueTask<bool> AspNetCore_WriteOnly()
    {
        var session = NewAspNetSession(isNew: false);
        await session.LoadAsync(); // DistributedSession loads before any write (synchronously, without this)
        session.Set("counter", BitConverter.GetBytes(++_counter));
        await session.CommitAsync();
        return session.IsAvailable;
    }

    [Benchmark, BenchmarkCategory("write-only")]
    public async ValueTask<bool> Sessions_WriteOnly()
    {
        var session = Sessions.StartDeferred(_carrier.Next(Cookie)); // no load: the commit applies the write if the session is live
        session.Set("counter", ++_counter);
        await session.CommitAsync();
        return session.IsLoaded;
    }

    private DistributedSession NewAspNetSession(bool isNew) =>
        new(_cache, _aspNetKey, TimeSpan.FromMinutes(20), TimeSpan.FromMinutes(1), () => true, NullLoggerFactory.Instance, isNew);
}
