using System.Diagnostics;
using Sessions.Testing;

namespace Sessions.Redis.Tests;

/// <summary>
/// Redis down at start-up, stalled (<c>SIGSTOP</c>) and killed: operations fail with <see cref="SessionDatabaseException"/>
/// within the operation timeout, without blocking threads, and work again when Redis returns, without a restart.
/// Each test runs its own redis-server, stopped by its PID.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisFailureTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    // The timeout plus scheduling slack on a busy 2-core machine.
    private static readonly TimeSpan Bound = Timeout + TimeSpan.FromSeconds(1);
    private readonly List<IDisposable> _cleanup = [];

    [TearDown]
    public void CleanUp()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
            _cleanup[i].Dispose();
        _cleanup.Clear();
    }

    [Test]
    public async Task RedisDownAtStartup_ConstructionSucceeds_OperationsFailWithinTheTimeout_AndRecoverWhenRedisStarts()
    {
        var port = LoopbackPorts.Free();
        var stopwatch = Stopwatch.StartNew();
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{port},connectTimeout=1000", new RedisSessionOptions { OperationTimeout = Timeout }));
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "the constructor connects in the background");
        var manager = Track(new SessionManager(new SessionConfig { Database = database }));
        var id = SessionIds.NewId();

        stopwatch.Restart();
        var down = await FailsAsync(() => database.LoadAsync(id, CancellationToken.None).AsTask(), id);
        stopwatch.Elapsed.Should().BeLessThan(Bound);
        await TestContext.Out.WriteLineAsync($"load with Redis down failed after {stopwatch.Elapsed.TotalMilliseconds:0} ms: {down.Message}");

        // A request carrying a cookie cannot start: the store's failure reaches the caller (a host answers 5xx).
        await FailsAsync(() => manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}")).AsTask(), id);
        // A request writing a new session learns that the write failed; the change stays pending.
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("name", "iris");
        await FailsAsync(() => session.CommitAsync().AsTask(), session.Id);

        using var redis = RedisProcess.Start(port);
        await EventuallyAsync(() => database.LoadAsync(id, CancellationToken.None).AsTask());
        await session.CommitAsync(); // the pending change, retried
        (await database.LoadAsync(session.Id, CancellationToken.None))!.Values[0].Value.Value.Should().Be("iris");
    }

    [Test]
    public async Task StalledRedis_OperationsTimeOutWithoutBlockingThreads_TheWriteIsReported_AndAllWorksAfterItResumes()
    {
        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{redis.Port}", new RedisSessionOptions { OperationTimeout = Timeout }));
        var manager = Track(new SessionManager(new SessionConfig { Database = database }));
        var carrier = new TestCarrier();
        var created = await manager.StartAsync(carrier);
        created.Set("name", "iris");
        await created.CommitAsync();
        var id = created.Id;
        var session = await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}"));
        session.Set("after", "stall");
        var creating = await manager.StartAsync(new TestCarrier());
        creating.Set("name", "created during the stall");

        redis.Pause();
        try
        {
            var pending = database.LoadAsync(id, CancellationToken.None);
            pending.IsCompleted.Should().BeFalse("the load waits for Redis asynchronously, on no thread");
            var stopwatch = Stopwatch.StartNew();
            var failure = await FailsAsync(() => pending.AsTask(), id);
            await TestContext.Out.WriteLineAsync($"stalled load failed after {stopwatch.Elapsed.TotalMilliseconds:0} ms: {failure.Message}");
            stopwatch.Elapsed.Should().BeGreaterThanOrEqualTo(Timeout - TimeSpan.FromMilliseconds(50)).And.BeLessThan(Bound);
            failure.Message.Should().Contain("Redis").And.Contain("500 ms").And.NotContain(database.KeyOf(id));

            // A commit is bounded by StackExchange.Redis's own timeout (the database made the connection), a load too.
            stopwatch.Restart();
            var commit = await FailsAsync(() => session.CommitAsync().AsTask(), id);
            await TestContext.Out.WriteLineAsync($"stalled commit failed after {stopwatch.Elapsed.TotalMilliseconds:0} ms: {commit.Message}");
            stopwatch.Elapsed.Should().BeGreaterThanOrEqualTo(Timeout - TimeSpan.FromMilliseconds(50)).And.BeLessThan(Bound);
            commit.Message.Should().Contain("did not answer").And.Contain("500 ms");
            // This create is sent, Redis runs it when it resumes, yet the caller was told it failed: its retry must succeed.
            stopwatch.Restart();
            await FailsAsync(() => creating.CommitAsync().AsTask(), creating.Id);
            stopwatch.Elapsed.Should().BeLessThan(Bound);

            // Fifty requests at once all give up after about one timeout: nothing queues behind a blocked thread.
            stopwatch.Restart();
            var loads = Enumerable.Range(0, 50).Select(_ => database.LoadAsync(id, CancellationToken.None).AsTask()).ToArray();
            foreach (var load in loads)
                await FailsAsync(() => load, id);
            await TestContext.Out.WriteLineAsync($"50 concurrent stalled loads all failed after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
            stopwatch.Elapsed.Should().BeLessThan(Bound + TimeSpan.FromMilliseconds(500));
        }
        finally
        {
            redis.Resume();
        }

        await EventuallyAsync(() => database.LoadAsync(id, CancellationToken.None).AsTask());
        await session.CommitAsync(); // the change that failed is still pending and now reaches Redis
        var reloaded = await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}"));
        reloaded.GetString("name").Should().Be("iris");
        reloaded.GetString("after").Should().Be("stall");
        await creating.CommitAsync(); // an idempotent retry of the create Redis already applied, not an ID collision
        (await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={creating.Id}"))).GetString("name").Should().Be("created during the stall");
    }

    [Test]
    public async Task StalledRedis_FiftyCommitsAtOnce_AllGiveUpAfterAboutOneTimeout_AndApplyWhenRetriedAfterItResumes()
    {
        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{redis.Port}", new RedisSessionOptions { OperationTimeout = Timeout }));
        var manager = Track(new SessionManager(new SessionConfig { Database = database }));
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            var created = await manager.StartAsync(new TestCarrier());
            created.Set("n", i);
            await created.CommitAsync();
            ids.Add(created.Id);
        }
        // Write-only requests: the first commit goes at once, the others wait for it and would go as one group.
        var sessions = ids.Select(id => manager.StartDeferred(new TestCarrier($"{SessionConfig.DefaultCookieName}={id}"))).ToList();
        foreach (var session in sessions)
            session.Set("after", "stall");

        redis.Pause();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var commits = sessions.Select(s => s.CommitAsync().AsTask()).ToArray();
            for (var i = 0; i < commits.Length; i++)
                await FailsAsync(() => commits[i], ids[i]);
            await TestContext.Out.WriteLineAsync($"50 concurrent stalled commits all failed after {stopwatch.Elapsed.TotalMilliseconds:0} ms");
            stopwatch.Elapsed.Should().BeLessThan(Bound + TimeSpan.FromMilliseconds(500), "a commit waiting behind one that timed out fails with it");
        }
        finally
        {
            redis.Resume();
        }

        await EventuallyAsync(() => database.LoadAsync(ids[0], CancellationToken.None).AsTask());
        await Task.WhenAll(sessions.Select(s => s.CommitAsync().AsTask())); // each failed change is still pending
        for (var i = 0; i < ids.Count; i++)
        {
            var reloaded = await manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={ids[i]}"));
            reloaded.GetInt32("n").Should().Be(i);
            reloaded.GetString("after").Should().Be("stall");
        }
    }

    [Test]
    public async Task KilledRedis_FailsWithTheTypedException_AndTheDatabaseWorksAgainAfterRedisRestarts()
    {
        var port = LoopbackPorts.Free();
        var redis = RedisProcess.Start(port);
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{port}", new RedisSessionOptions { OperationTimeout = Timeout }));
        var manager = Track(new SessionManager(new SessionConfig { Database = database }));
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("name", "iris");
        await session.CommitAsync();

        redis.Dispose(); // kill by PID
        var stopwatch = Stopwatch.StartNew();
        await FailsAsync(() => database.LoadAsync(session.Id, CancellationToken.None).AsTask(), session.Id);
        await FailsAsync(() => database.DestroyAsync(session.Id, CancellationToken.None).AsTask(), session.Id);
        await FailsAsync(() => database.DestroyAllAsync(CancellationToken.None).AsTask(), session.Id);
        stopwatch.Elapsed.Should().BeLessThan(3 * Bound);
        await TestContext.Out.WriteLineAsync($"three operations on a killed Redis failed in {stopwatch.Elapsed.TotalMilliseconds:0} ms in all");

        using var restarted = RedisProcess.Start(port);
        // The restarted server kept nothing (no persistence): the session is simply unknown, and new ones work.
        (await EventuallyAsync(() => database.LoadAsync(session.Id, CancellationToken.None).AsTask())).Should().BeNull();
        var fresh = await manager.StartAsync(new TestCarrier());
        fresh.Set("name", "again");
        await fresh.CommitAsync();
        (await database.LoadAsync(fresh.Id, CancellationToken.None)).Should().NotBeNull();
    }

    [Test]
    public async Task StalledRedis_ABatchLoadOfSeveralCandidates_FailsWithTheTypedException_AndWorksAfterItResumes()
    {
        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{redis.Port}", new RedisSessionOptions { OperationTimeout = Timeout }));
        var manager = Track(new SessionManager(new SessionConfig { Database = database }));
        var created = await manager.StartAsync(new TestCarrier());
        created.Set("name", "iris");
        await created.CommitAsync();
        var decoy = SessionIds.NewId();
        var header = $"{SessionConfig.DefaultCookieName}={decoy}; {SessionConfig.DefaultCookieName}={created.Id}";

        redis.Pause();
        try
        {
            var failure = await FailsAsync(() => database.LoadManyAsync([decoy, created.Id], CancellationToken.None).AsTask(), created.Id);
            failure.Message.Should().Contain("load").And.NotContain(decoy);
            await FailsAsync(() => manager.StartAsync(new TestCarrier(header)).AsTask(), created.Id);
        }
        finally
        {
            redis.Resume();
        }

        var records = await EventuallyAsync(() => database.LoadManyAsync([decoy, created.Id], CancellationToken.None).AsTask());
        records[0].Should().BeNull();
        records[1].Should().NotBeNull();
        (await manager.StartAsync(new TestCarrier(header))).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task Cancellation_IsHonouredWhileRedisIsStalled()
    {
        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{redis.Port}", new RedisSessionOptions { OperationTimeout = TimeSpan.FromSeconds(10) }));
        (await database.LoadAsync(SessionIds.NewId(), CancellationToken.None)).Should().BeNull();

        redis.Pause();
        try
        {
            using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            var stopwatch = Stopwatch.StartNew();
            await FluentActions.Awaiting(() => database.LoadAsync(SessionIds.NewId(), cancellation.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2));
        }
        finally
        {
            redis.Resume();
        }
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    /// <summary>Awaits <paramref name="action"/>, expecting a <see cref="SessionDatabaseException"/> that names Redis and not the session ID.</summary>
    private static async Task<SessionDatabaseException> FailsAsync(Func<Task> action, string id)
    {
        var failure = (await FluentActions.Awaiting(action).Should().ThrowAsync<SessionDatabaseException>()).Which;
        failure.Message.Should().Contain("Redis").And.NotContain(id);
        return failure;
    }

    /// <summary>Retries <paramref name="action"/> until Redis answers (at most 30 s): recovery needs no restart.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> action)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await action();
            }
            catch (SessionDatabaseException) when (stopwatch.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100);
            }
        }
    }
}
