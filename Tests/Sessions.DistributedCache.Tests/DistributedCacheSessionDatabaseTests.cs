using System.Globalization;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.DistributedCache.Tests;

/// <summary>What is particular to the IDistributedCache database: its entries, their expiry, its limits, its registration.</summary>
[TestFixture]
[NonParallelizable]
public sealed class DistributedCacheSessionDatabaseTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);
    private RedisCacheServer _redis = null!;

    [OneTimeSetUp]
    public void StartRedis() => _redis = RedisCacheServer.Start(instanceName: "app1:");

    [OneTimeTearDown]
    public void StopRedis() => _redis.Dispose();

    [Test]
    public async Task TheEntryIsNamedByTheIdHash_AndExpiresAtTheSessionsEnd_InRedis()
    {
        var database = new DistributedCacheSessionDatabase(_redis.Cache, new DistributedCacheSessionOptions { KeyPrefix = "ttl:" });
        using var manager = new SessionManager(new SessionConfig { Database = database, Expires = TimeSpan.FromHours(2), IdleTimeout = Idle });
        var id = await CreateAsync(manager, "iris");

        var key = "app1:ttl:" + SessionIds.HashText(id);
        RedisCacheKeys().Should().Equal(key).And.NotContain(k => k.Contains(id, StringComparison.Ordinal));
        Ttl(key).Should().BeCloseTo(Idle, TimeSpan.FromSeconds(30), "the session ends at its idle deadline, the earlier one");

        var carrier = new TestCarrier($"sid={id}");
        (await manager.UpdateExpirationAsync(carrier, TimeSpan.FromMinutes(5))).Should().BeTrue();
        Ttl(key).Should().BeCloseTo(TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), "a moved deadline rewrites the entry's expiry");

        (await manager.DestroyByIdAsync(id)).Should().BeTrue();
        RedisCacheKeys().Should().Equal(key); // the end marker, which refuses a retried create
        Ttl(key).Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(TimeSpan.FromMinutes(5));
        (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
    }

    [Test]
    public async Task SessionsOfTwoProcesses_CommittingOneAfterTheOther_BothSurvive()
    {
        // Each commit merges its changes into the session as stored at that moment, so sequential commits lose nothing.
        var cache = MemoryCache();
        using var first = Manager(new DistributedCacheSessionDatabase(cache));
        using var second = Manager(new DistributedCacheSessionDatabase(cache));
        var id = await CreateAsync(first, "iris");

        var a = await first.StartAsync(new TestCarrier($"sid={id}"));
        var b = await second.StartAsync(new TestCarrier($"sid={id}"));
        a.Set("a", 1);
        b.Set("b", 2);
        await a.CommitAsync();
        await b.CommitAsync();

        var session = await first.StartAsync(new TestCarrier($"sid={id}"));
        session.GetAll().Keys.Should().Equal("name", "a", "b");
    }

    [Test]
    public async Task CommitsOfTwoProcesses_OverlappingInTime_TheLastWriterWins()
    {
        // The documented limit: without compare-and-set, a commit of another process between this commit's read and
        // its write is overwritten. The gate holds process A's write until process B has committed.
        var cache = MemoryCache();
        var gated = new GatedCache(cache);
        using var processA = Manager(new DistributedCacheSessionDatabase(gated));
        using var processB = Manager(new DistributedCacheSessionDatabase(cache));
        var id = await CreateAsync(processB, "iris");

        var a = await processA.StartAsync(new TestCarrier($"sid={id}"));
        a.Set("a", "from A");
        gated.HoldNextWrite();
        var commitA = a.CommitAsync().AsTask();
        await gated.WriteHeld;

        var b = await processB.StartAsync(new TestCarrier($"sid={id}"));
        b.Set("b", "from B");
        await b.CommitAsync();
        gated.Release();
        await commitA;

        var session = await processB.StartAsync(new TestCarrier($"sid={id}"));
        session.GetString("a").Should().Be("from A");
        session.Get("b").Should().BeNull("process A wrote back the session as it read it, without B's key");
    }

    [Test]
    public async Task BytesThisDatabaseDidNotWrite_ReadAsNoSession_AndTheCookieIsNotAdopted()
    {
        var cache = MemoryCache();
        var database = new DistributedCacheSessionDatabase(cache);
        using var manager = Manager(database);
        var id = SessionIds.NewId();
        foreach (var bytes in new[] { "garbage"u8.ToArray(), [(byte)'S', 1, 1, 0, 0], [(byte)'S', 1, 1, .. new byte[40], 0xFF, 0xFF, 0xFF, 0x7F] })
        {
            await cache.SetAsync(database.KeyOf(id), bytes);
            (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
            var session = await manager.StartAsync(new TestCarrier($"sid={id}"));
            session.IsNew.Should().BeTrue();
            session.Id.Should().NotBe(id);
        }
    }

    [Test]
    public async Task ACacheThatDoesNotAnswer_FailsWithSessionDatabaseException_WithinTheTimeout()
    {
        using var stalled = RedisCacheServer.Start();
        await stalled.Cache.GetAsync("connect"); // the cache connects on first use: outside the 300 ms, which a loaded machine can spend connecting
        var database = new DistributedCacheSessionDatabase(stalled.Cache, new DistributedCacheSessionOptions { OperationTimeout = TimeSpan.FromMilliseconds(300) });
        (await database.LoadAsync(SessionIds.NewId(), CancellationToken.None)).Should().BeNull(); // answering
        stalled.Process.Pause();
        try
        {
            var load = async () => await database.LoadAsync(SessionIds.NewId(), CancellationToken.None);
            (await load.Should().ThrowAsync<SessionDatabaseException>()).WithMessage("*300 ms*OperationTimeout*");
        }
        finally
        {
            stalled.Process.Resume();
        }
    }

    [Test]
    public async Task APayloadOverTheLimit_IsRefused_AndTheStoredSessionIsUnchanged()
    {
        var database = new DistributedCacheSessionDatabase(MemoryCache());
        using var manager = new SessionManager(new SessionConfig { Database = database, MaxPayloadBytes = 1024 });
        var id = await CreateAsync(manager, "iris");

        var session = await manager.StartAsync(new TestCarrier($"sid={id}"));
        session.Set("big", new string('x', 2000));
        var commit = async () => await session.CommitAsync();
        (await commit.Should().ThrowAsync<SessionLimitExceededException>()).WithMessage("*1024*");

        var reloaded = await manager.StartAsync(new TestCarrier($"sid={id}"));
        reloaded.GetAll().Keys.Should().Equal("name");
    }

    [Test]
    public async Task Registration_UsesTheRegisteredCacheAndClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection();
        services.AddDistributedMemoryCache();
        services.AddSingleton<TimeProvider>(time);
        services.AddDistributedCacheSessionDatabase(o => o.KeyPrefix = "app:");
        services.AddKeyedDistributedCacheSessionDatabase("admin", o => o.KeyPrefix = "admin:");
        await using var provider = services.BuildServiceProvider();

        var database = provider.GetRequiredService<ISessionDatabase>();
        database.Should().BeOfType<DistributedCacheSessionDatabase>().And.BeSameAs(provider.GetRequiredService<DistributedCacheSessionDatabase>());
        var admin = provider.GetRequiredKeyedService<ISessionDatabase>("admin").Should().BeOfType<DistributedCacheSessionDatabase>().Subject;
        admin.Should().NotBeSameAs(database);
        admin.KeyOf("x").Should().StartWith("admin:");

        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = time });
        var id = await CreateAsync(manager, "iris");
        var cache = provider.GetRequiredService<IDistributedCache>();
        (await cache.GetAsync("app:" + SessionIds.HashText(id))).Should().NotBeNull();
    }

    [Test]
    public void Registration_WithoutACache_OrWithABadSetting_FailsNamingIt()
    {
        var services = new ServiceCollection();
        services.AddDistributedCacheSessionDatabase();
        using var provider = services.BuildServiceProvider();
        provider.Invoking(p => p.GetRequiredService<ISessionDatabase>()).Should().Throw<InvalidOperationException>().WithMessage("*No IDistributedCache*");

        services.Invoking(s => s.AddDistributedCacheSessionDatabase(o => o.KeyPrefix = "has space")).Should().Throw<ArgumentException>().WithMessage("*KeyPrefix*");
        services.Invoking(s => s.AddDistributedCacheSessionDatabase(o => o.OperationTimeout = TimeSpan.Zero)).Should().Throw<ArgumentException>().WithMessage("*OperationTimeout*");
    }

    [Test]
    public async Task TheSynchronousApiIsRefused_NamingTheAsyncCall()
    {
        using var manager = Manager(new DistributedCacheSessionDatabase(MemoryCache()));
        manager.Invoking(m => m.Start(new TestCarrier())).Should().Throw<InvalidOperationException>().WithMessage("*StartAsync*");
        (await manager.StartAsync(new TestCarrier())).IsNew.Should().BeTrue();
    }

    private static MemoryDistributedCache MemoryCache() => new(Options.Create(new MemoryDistributedCacheOptions()));

    private static SessionManager Manager(ISessionDatabase database) => new(new SessionConfig { Database = database, IdleTimeout = Idle });

    private static async Task<string> CreateAsync(SessionManager manager, string name)
    {
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("name", name);
        await session.CommitAsync();
        carrier.Written.Should().ContainSingle();
        return session.Id;
    }

    private List<string> RedisCacheKeys()
    {
        using var admin = _redis.Process.Admin();
        var reply = admin.Call("KEYS", "app1:ttl:*") ?? "";
        return reply.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private TimeSpan Ttl(string key)
    {
        using var admin = _redis.Process.Admin();
        return TimeSpan.FromMilliseconds(long.Parse(admin.Call("PTTL", key)!, CultureInfo.InvariantCulture));
    }

    /// <summary>Passes every call to the real cache, except that it can hold one write until released (to force an interleaving).</summary>
    private sealed class GatedCache(IDistributedCache inner) : IDistributedCache
    {
        private TaskCompletionSource? _held;
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _writeHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task WriteHeld => _writeHeld.Task;

        public void HoldNextWrite() => _held = _release;

        public void Release() => _release.TrySetResult();

        public byte[]? Get(string key) => inner.Get(key);

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => inner.GetAsync(key, token);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

        public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            if (Interlocked.Exchange(ref _held, null) is { } gate)
            {
                _writeHeld.TrySetResult();
                await gate.Task;
            }
            await inner.SetAsync(key, value, options, token);
        }

        public void Refresh(string key) => inner.Refresh(key);

        public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

        public void Remove(string key) => inner.Remove(key);

        public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);
    }
}
