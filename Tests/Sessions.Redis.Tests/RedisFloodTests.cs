using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <summary>
/// A flood of cookieless first writes (one new session each) against a real redis-server. Redis has no session-count
/// bound of its own: the outcome is that every request gets a session and a cookie, Redis holds every session until its
/// TTL (each key carries one), and the process stays flat, holding nothing per session. Bound Redis's memory with
/// <c>maxmemory</c> and the <c>noeviction</c> policy, never an eviction policy that could drop a live session silently:
/// at the bound Redis refuses the writes (<c>OOM</c>), so a new session's commit fails with a
/// <see cref="SessionDatabaseException"/> (503 on the hosts) with nothing stored and no cookie, live sessions keep
/// loading, a write of a live session that needs memory is refused the same way, and sessions are accepted again once
/// memory is freed (the TTLs, or <c>DestroyAll</c>).
/// </summary>
[NonParallelizable]
public sealed class RedisFloodTests
{
    private const int Requests = 100_000;
    private const int Concurrency = 32;
    private const long ProcessGrowthBound = 32L * 1024 * 1024;

    private RedisServerTarget? _target;

    [OneTimeSetUp]
    public void StartServer() => _target = new RedisServerTarget();

    [OneTimeTearDown]
    public void StopServer() => _target?.Dispose();

    [Test]
    public async Task SessionFlood_OfCookielessFirstWrites_IsAllHeldByRedisWithATtl_TheProcessStaysFlat_AndDestroyAllEmptiesIt()
    {
        var target = _target!;
        var options = new RedisSessionOptions { KeyPrefix = $"flood{Guid.NewGuid():N}:" };
        using var database = new RedisSessionDatabase(target.Connection, options);
        using var manager = new SessionManager(new SessionConfig { Database = database });

        var (accepted, withCookie, sample, growth, _) = await SessionFlood.RunAsync(manager, database, Requests, Concurrency);

        accepted.Should().Be(Requests, "Redis has no session-count bound: no request is refused");
        withCookie.Should().Be(Requests, "every accepted request got exactly one cookie naming its session");
        growth.Should().BeLessThan(ProcessGrowthBound, "the process holds nothing per session (grew by {0} bytes)", growth);
        (await database.CountAsync(CancellationToken.None)).Should().Be(Requests, "Redis holds every session");

        var raw = target.Connection.GetDatabase();
        var ceiling = new SessionConfig().IdleTimeout + options.ExpirySlack;
        foreach (var id in sample)
        {
            id.Should().NotBeNull();
            var ttl = await raw.KeyTimeToLiveAsync(database.KeyOf(id!));
            ttl.Should().NotBeNull("every session key expires on its own");
            ttl!.Value.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(ceiling);
        }
        var found = await raw.HashGetAllAsync(database.KeyOf(sample[^1]!));
        found.Should().NotBeEmpty();

        await database.DestroyAllAsync(CancellationToken.None);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
        RedisTarget.KeysOn(target.Ports[0], options.KeyPrefix + "*").Should().BeEmpty("DestroyAll leaves nothing of the flood behind");
    }

    [Test]
    public async Task SessionFlood_PastRedisMaxmemoryWithNoeviction_RefusesTheWritesLoudly_WithoutCookie_AndLosesNoLiveSession()
    {
        const int flood = 30_000; // 1 MB of headroom holds a few thousand sessions: the rest meet the bound
        var target = _target!;
        var options = new RedisSessionOptions { KeyPrefix = $"flood{Guid.NewGuid():N}:" };
        using var database = new RedisSessionDatabase(target.Connection, options);
        using var manager = new SessionManager(new SessionConfig { Database = database });
        var live = new List<string>();
        for (var i = 0; i < 100; i++)
            live.Add((await SessionFlood.FirstWriteAsync(manager, i)).Id);

        var used = long.Parse(target.OnEveryPrimary("INFO", "memory")[0]!.Split('\n').First(l => l.StartsWith("used_memory:", StringComparison.Ordinal))[12..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        target.OnEveryPrimary("CONFIG", "SET", "maxmemory-policy", "noeviction");
        target.OnEveryPrimary("CONFIG", "SET", "maxmemory", (used + 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            var accepted = 0;
            var refused = 0;
            var refusedWithCookie = 0;
            var otherFailures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            await Parallel.ForEachAsync(Enumerable.Range(0, flood), new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, _) =>
            {
                var request = new TestCarrier();
                try
                {
                    var session = await manager.StartAsync(request);
                    session.Set("n", i);
                    await session.CommitAsync();
                    Interlocked.Increment(ref accepted);
                }
                catch (SessionDatabaseException e) when (e.Message.Contains("OOM", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref refused);
                    if (request.Written.Count > 0)
                        Interlocked.Increment(ref refusedWithCookie);
                }
                catch (Exception e)
                {
                    otherFailures.Enqueue(e);
                }
            });
            TestContext.Out.WriteLine($"maxmemory {used + 1024 * 1024}: {accepted} accepted, {refused} refused.");

            otherFailures.Should().BeEmpty();
            (accepted + refused).Should().Be(flood);
            accepted.Should().BePositive("the sessions that fit are stored");
            refused.Should().BePositive("past maxmemory, Redis refuses new sessions instead of evicting live ones");
            refusedWithCookie.Should().Be(0, "a refused request gets no cookie naming a session that does not exist");
            (await database.CountAsync(CancellationToken.None)).Should().Be(accepted + live.Count, "a refused create stores nothing, and no live session was evicted");
            foreach (var id in live)
                (await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}"))).GetInt32("n").Should().Be(live.IndexOf(id), "a live session still loads at the bound");

            // A live session's write needs memory too: at the bound it is refused the same way, and its stored value stays.
            var returning = await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={live[0]}"));
            returning.Set("more", new string('x', 1_000));
            await returning.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionDatabaseException>().WithMessage("*OOM*");
            (await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={live[0]}"))).Get("more").Should().BeNull();

            // Freeing memory (here DestroyAll; in production the sessions' TTLs) lets new sessions in again.
            await database.DestroyAllAsync(CancellationToken.None);
            var (again, cookie) = await SessionFlood.FirstWriteAsync(manager, 0);
            cookie.Should().Be(again);
        }
        finally
        {
            target.OnEveryPrimary("CONFIG", "SET", "maxmemory", "0");
        }
        await database.DestroyAllAsync(CancellationToken.None);
    }

}
