using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Redis.Tests;

/// <summary>
/// Session events across instances sharing one real redis-server: other processes (Sessions.Redis.EventProbe children)
/// and other database instances hear Created, Renewed, Destroyed and Expired by the hash of the ID; an instance never
/// hears its own twice; another key prefix hears nothing.
/// </summary>
[NonParallelizable]
public sealed class CrossProcessEventTests
{
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(20);

    private RedisProcess _redis = null!;
    private readonly List<IDisposable> _disposables = [];

    private string Configuration => $"127.0.0.1:{_redis.Port}";

    [OneTimeSetUp]
    public void StartRedis() => _redis = RedisProcess.Start(LoopbackPorts.Free());

    [OneTimeTearDown]
    public void StopRedis() => _redis.Dispose();

    [TearDown]
    public void DisposeAll()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
            _disposables[i].Dispose();
        _disposables.Clear();
    }

    [Test]
    public async Task AnotherProcess_HearsCreatedRenewedDestroyedAndExpired_AndAProcessOnAnotherPrefixHearsNone()
    {
        var prefixA = UniquePrefix("a");
        var prefixB = UniquePrefix("b");
        var startA = EventProbe.StartAsync(Configuration, prefixA);
        var startB = EventProbe.StartAsync(Configuration, prefixB);
        var probeA = Track(await startA);
        var probeB = Track(await startB);
        var database = Open(prefixA, publish: true);
        var manager = Manager(database);
        var expiring = Manager(database, idle: TimeSpan.FromSeconds(1));

        var created = await CreateAsync(manager);
        var heard = await probeA.WaitForEventAsync(SessionEventReason.Created, SessionIds.HashText(created), EventTimeout);
        heard.Should().Equal("Created", "remote", SessionIds.HashText(created), "-", "noid");

        var carrier = Request(created);
        (await manager.RenewIdAsync(carrier)).Should().BeTrue();
        var renewed = carrier.Session!.Id;
        heard = await probeA.WaitForEventAsync(SessionEventReason.Renewed, SessionIds.HashText(renewed), EventTimeout);
        heard.Should().Equal("Renewed", "remote", SessionIds.HashText(renewed), SessionIds.HashText(created), "noid");

        (await manager.DestroyAsync(Request(renewed))).Should().BeTrue();
        heard = await probeA.WaitForEventAsync(SessionEventReason.Destroyed, SessionIds.HashText(renewed), EventTimeout);
        heard.Should().Equal("Destroyed", "remote", SessionIds.HashText(renewed), "-", "noid");

        // Nobody touches this one: Redis expires its key one second later and the keyspace notification carries it.
        var expired = await CreateAsync(expiring);
        heard = await probeA.WaitForEventAsync(SessionEventReason.Expired, SessionIds.HashText(expired), EventTimeout);
        heard.Should().Equal("Expired", "remote", SessionIds.HashText(expired), "-", "noid");

        probeA.Events.Should().HaveCount(5, "each change is heard once: Created twice, Renewed, Destroyed, Expired");
        probeB.Events.Should().BeEmpty("prefix {0} never hears prefix {1}, not even its expired keys: {2}", prefixB, prefixA, probeB.Output);

        // The silence is meaningful: the same probe hears its own prefix, expiry included.
        var other = Manager(Open(prefixB, publish: true), idle: TimeSpan.FromSeconds(1));
        var own = await CreateAsync(other);
        await probeB.WaitForEventAsync(SessionEventReason.Created, SessionIds.HashText(own), EventTimeout);
        await probeB.WaitForEventAsync(SessionEventReason.Expired, SessionIds.HashText(own), EventTimeout);
        probeB.Events.Should().HaveCount(2);
        probeA.Events.Should().HaveCount(5, "prefix {0} never hears prefix {1}", prefixA, prefixB);
        foreach (var id in new[] { created, renewed, expired, own })
        {
            probeA.Output.Should().NotContain(id, "no session ID ever leaves its process");
            probeB.Output.Should().NotContain(id);
        }
    }

    [Test]
    public async Task OwnEvents_AreRaisedOnceWithTheId_AndReachTheOtherInstanceByHashOnly()
    {
        var prefix = UniquePrefix("own");
        var first = Open(prefix, publish: true, subscribe: true, configure: true);
        var second = Open(prefix, publish: true, subscribe: true);
        await Task.WhenAll(first.EventsReady, second.EventsReady);
        var firstManager = Manager(first);
        var secondManager = Manager(second);
        var firstLog = new EventLog(firstManager);
        var secondLog = new EventLog(secondManager);

        var id = await CreateAsync(firstManager);
        var remote = await secondLog.WaitAsync(SessionEventReason.Created, SessionIds.HashText(id));
        remote.SessionId.Should().BeNull("another instance learns the hash, never the ID");
        remote.IsRemote.Should().BeTrue();

        // Messages on one channel arrive in order: once the first instance hears the second's create, its own echo has
        // come and gone.
        var marker = await CreateAsync(secondManager);
        (await firstLog.WaitAsync(SessionEventReason.Created, SessionIds.HashText(marker))).IsRemote.Should().BeTrue();
        var own = firstLog.For(SessionIds.HashText(id));
        own.Should().ContainSingle("the instance that created the session raised it once, not again from its own message");
        own[0].SessionId.Should().Be(id);
        own[0].IsRemote.Should().BeFalse();
        secondLog.For(SessionIds.HashText(marker)).Should().ContainSingle().Which.IsRemote.Should().BeFalse();

        await firstManager.DestroyAllAsync();
        var all = await secondLog.WaitAsync(SessionEventReason.DestroyedAll, null);
        all.IsRemote.Should().BeTrue();
        all.IdHash.Should().BeNull();
    }

    [Test]
    public async Task ExpiryFoundByARequest_ReachesTheOtherInstanceAsExpired_NotDestroyed()
    {
        var prefix = UniquePrefix("late");
        var listener = Open(prefix, subscribe: true);
        await listener.EventsReady;
        var log = new EventLog(Manager(listener));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var publisher = Open(prefix, publish: true, slack: TimeSpan.FromMinutes(5)); // Redis keeps the key well past the deadline
        var manager = new SessionManager(new SessionConfig { Database = publisher, TimeProvider = time, IdleTimeout = TimeSpan.FromMinutes(1) });
        _disposables.Add(manager);
        var local = new EventLog(manager);
        var id = await CreateAsync(manager);
        await log.WaitAsync(SessionEventReason.Created, SessionIds.HashText(id));

        time.Advance(TimeSpan.FromMinutes(2)); // the application's clock says expired; the key is still in Redis
        (await manager.StartAsync(Request(id))).IsNew.Should().BeTrue();

        local.For(SessionIds.HashText(id)).Select(e => e.Reason).Should().Equal(SessionEventReason.Created, SessionEventReason.Expired);
        var heard = await log.WaitAsync(SessionEventReason.Expired, SessionIds.HashText(id));
        heard.IsRemote.Should().BeTrue();
        log.For(SessionIds.HashText(id)).Select(e => e.Reason).Should().Equal(SessionEventReason.Created, SessionEventReason.Expired);
    }

    [Test]
    public async Task Publishing_IsOffByDefault_AndWhenOnRidesInTheSameScriptCall()
    {
        var quiet = Manager(Open(UniquePrefix("quiet")));
        var loud = Manager(Open(UniquePrefix("loud"), publish: true));
        foreach (var manager in new[] { quiet, loud })
        {
            // Loads every script, so the counts below are of EVALSHA only.
            var warm = Request(await CreateAsync(manager));
            await manager.RenewIdAsync(warm);
            await manager.DestroyByIdAsync(warm.Session!.Id);
        }

        Reset();
        var id = await CreateAsync(quiet);
        await quiet.DestroyByIdAsync(id);
        Stats().Should().NotContainKey("publish");

        Reset();
        id = await CreateAsync(loud);
        var carrier = Request(id);
        await loud.RenewIdAsync(carrier);
        await loud.DestroyByIdAsync(carrier.Session!.Id);
        var stats = Stats();
        stats["publish"].Should().Be(3, "create, renew and destroy each publish once");
        stats.Should().ContainKey("evalsha").WhoseValue.Should().Be(4, "the commit, the renew's two steps and the destroy: the publish adds no command of its own");
        stats.Should().NotContainKey("eval");

        void Reset()
        {
            using var admin = _redis.Admin();
            admin.Call("CONFIG", "RESETSTAT");
        }
    }

    [Test]
    public async Task ConfigureKeyspaceNotifications_AddsExpiredEvents_KeepingTheServersOtherFlags()
    {
        using (var admin = _redis.Admin())
            admin.Call("CONFIG", "SET", "notify-keyspace-events", "Kg");
        var database = Open(UniquePrefix("flags"), subscribe: true, configure: true);
        await database.EventsReady;

        using var check = _redis.Admin();
        var flags = check.Call("CONFIG", "GET", "notify-keyspace-events")!.Split('\n')[1];
        flags.Should().Contain("K").And.Contain("g").And.Contain("E").And.Contain("x");
    }

    [Test]
    public async Task ConfigureKeyspaceNotifications_OnAServerThatForbidsConfig_FailsEventsReadyWithAClearMessage()
    {
        using var locked = RedisProcess.Start(LoopbackPorts.Free(), extraArguments: ["--rename-command", "CONFIG", ""]);
        using var database = new RedisSessionDatabase($"127.0.0.1:{locked.Port}", new RedisSessionOptions
        {
            KeyPrefix = UniquePrefix("locked"),
            SubscribeToEvents = true,
            ConfigureKeyspaceNotifications = true,
        });

        var failure = await database.Invoking(d => d.EventsReady).Should().ThrowAsync<SessionDatabaseException>();
        failure.Which.Message.Should().Contain("notify-keyspace-events").And.Contain("CONFIG").And.Contain("ConfigureKeyspaceNotifications");
    }

    [Test]
    public async Task AfterRedisRestarts_TheNotificationsAreSetAgain_AndEventsFlowAgain()
    {
        var port = LoopbackPorts.Free();
        var restarted = RedisProcess.Start(port);
        try
        {
            var configuration = $"127.0.0.1:{port}";
            var prefix = UniquePrefix("restart");
            using var listener = new RedisSessionDatabase(configuration, new RedisSessionOptions { KeyPrefix = prefix, SubscribeToEvents = true, ConfigureKeyspaceNotifications = true });
            await listener.EventsReady;
            using var listening = new SessionManager(new SessionConfig { Database = listener });
            var log = new EventLog(listening);
            using var publisher = new RedisSessionDatabase(configuration, new RedisSessionOptions { KeyPrefix = prefix, PublishEvents = true, ExpirySlack = TimeSpan.Zero });
            using var manager = new SessionManager(new SessionConfig { Database = publisher, IdleTimeout = TimeSpan.FromSeconds(2) });

            var failures = new List<Exception>();
            listener.EventsFailed += e =>
            {
                lock (failures)
                    failures.Add(e);
            };
            restarted.Dispose(); // the new server starts with notify-keyspace-events empty
            restarted = RedisProcess.Start(port);

            // The listener reconnects and sets the flags again by itself.
            var clock = Stopwatch.StartNew();
            using (var admin = restarted.Admin())
            {
                while (!Flags(admin).Contains('x', StringComparison.Ordinal))
                {
                    clock.Elapsed.Should().BeLessThan(EventTimeout, "the flags should be set again after the reconnect (failures: {0})", string.Join("; ", failures));
                    await Task.Delay(50);
                }
                Flags(admin).Should().Contain("E");
            }
            clock.Restart();
            string? id = null;
            while (id is null)
            {
                try
                {
                    id = await CreateAsync(manager);
                }
                catch (SessionDatabaseException) when (clock.Elapsed < EventTimeout)
                {
                    await Task.Delay(100); // the publisher has not reconnected yet
                }
            }
            (await log.WaitAsync(SessionEventReason.Expired, SessionIds.HashText(id))).IsRemote.Should().BeTrue("the subscriptions came back with the connection");
        }
        finally
        {
            restarted.Dispose();
        }
    }

    [Test]
    public async Task EventOptions_BindFromConfiguration_AndInstancesSharingOneMultiplexerHearEachOther_UntilDisposed()
    {
        using var multiplexer = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(Configuration);
        var prefix = UniquePrefix("di");
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Redis:KeyPrefix"] = prefix,
            ["Redis:PublishEvents"] = "true",
            ["Redis:SubscribeToEvents"] = "true",
        }).Build().GetSection("Redis");
        var services = new ServiceCollection()
            .AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(multiplexer)
            .AddRedisSessionDatabase(section);
        using var publisher = new RedisSessionDatabase(multiplexer, new RedisSessionOptions { KeyPrefix = prefix, PublishEvents = true });
        var manager = Manager(publisher);
        EventLog log;
        await using (var provider = services.BuildServiceProvider())
        {
            var registered = provider.GetRequiredService<RedisSessionDatabase>();
            await registered.EventsReady;
            log = new EventLog(Manager(registered));
            var id = await CreateAsync(manager);
            (await log.WaitAsync(SessionEventReason.Created, SessionIds.HashText(id))).IsRemote.Should().BeTrue();
        }

        // Disposed: its subscription is gone from the multiplexer, which lives on.
        var listener = Open(prefix, subscribe: true);
        await listener.EventsReady;
        var after = new EventLog(Manager(listener));
        var later = await CreateAsync(manager);
        await after.WaitAsync(SessionEventReason.Created, SessionIds.HashText(later));
        log.For(SessionIds.HashText(later)).Should().BeEmpty("a disposed database raises nothing more");
        multiplexer.IsConnected.Should().BeTrue();
    }

    [Test]
    public void ConfigureKeyspaceNotifications_WithoutSubscribing_IsRefused()
    {
        var act = () => new RedisSessionDatabase(Configuration, new RedisSessionOptions { ConfigureKeyspaceNotifications = true });
        act.Should().Throw<ArgumentException>().WithMessage("*ConfigureKeyspaceNotifications*SubscribeToEvents*");
    }

    [Test]
    public void Messages_ThatAreMalformedForeignOrOwn_AreIgnored()
    {
        var events = new RedisSessionEvents("p:", 0, new RedisSessionOptions { PublishEvents = true }, _ => null);
        var hash = SessionIds.HashText(SessionIds.NewId());
        var previous = SessionIds.HashText(SessionIds.NewId());
        var own = (string)events.Message(SessionEventReason.Renewed, hash, previous)!;
        events.Parse(own).Should().BeNull("an instance's own message was raised by its manager already");

        var remote = events.Parse(own.Replace(own.Split(' ')[1], "someoneelse", StringComparison.Ordinal))!;
        remote.Reason.Should().Be(SessionEventReason.Renewed);
        remote.IdHash.Should().Be(hash);
        remote.PreviousIdHash.Should().Be(previous);
        remote.IsRemote.Should().BeTrue();
        remote.SessionId.Should().BeNull();

        foreach (var junk in new[] { "", "c", "c x", $"c x {hash} extra", "c x not-a-hash", $"z x {hash}", $"cc x {hash}", $"r x {hash}", "a x extra" })
            events.Parse(junk).Should().BeNull(junk);
        events.Parse("a x")!.Reason.Should().Be(SessionEventReason.DestroyedAll);
        RedisSessionEvents.ChannelOf("p:", 3).Should().Be("p:events@3");
    }

    private static string Flags(RespClient admin) => admin.Call("CONFIG", "GET", "notify-keyspace-events")!.Split('\n')[1];

    private Dictionary<string, long> Stats()
    {
        using var admin = _redis.Admin();
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in admin.Call("INFO", "commandstats")!.Split('\n'))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
                continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var calls = line[(colon + 1)..].Split(',').First(p => p.StartsWith("calls=", StringComparison.Ordinal))[6..];
            stats[line[8..colon]] = long.Parse(calls, System.Globalization.CultureInfo.InvariantCulture);
        }
        return stats;
    }

    private static string UniquePrefix(string name) => $"ev-{name}-{Guid.NewGuid():N}:"[..24] + ":";

    private static TestCarrier Request(string id) => new($"{SessionConfig.DefaultCookieName}={id}");

    private static async Task<string> CreateAsync(SessionManager manager)
    {
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("n", 1);
        await session.CommitAsync();
        return session.Id;
    }

    private RedisSessionDatabase Open(string prefix, bool publish = false, bool subscribe = false, bool configure = false, TimeSpan? slack = null)
    {
        var database = new RedisSessionDatabase(Configuration, new RedisSessionOptions
        {
            KeyPrefix = prefix,
            PublishEvents = publish,
            SubscribeToEvents = subscribe,
            ConfigureKeyspaceNotifications = configure,
            ExpirySlack = slack ?? TimeSpan.Zero,
        });
        _disposables.Add(database);
        return database;
    }

    private SessionManager Manager(ISessionDatabase database, TimeSpan? idle = null)
    {
        var manager = new SessionManager(new SessionConfig { Database = database, IdleTimeout = idle ?? TimeSpan.FromMinutes(30) });
        _disposables.Add(manager);
        return manager;
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>Every event one manager raises, in order.</summary>
    private sealed class EventLog
    {
        private readonly List<SessionEventArgs> _events = [];

        public EventLog(SessionManager manager)
        {
            manager.Created += (_, e) => Add(e);
            manager.Renewed += (_, e) => Add(e);
            manager.Destroyed += (_, e) => Add(e);
        }

        public List<SessionEventArgs> For(string idHash)
        {
            lock (_events)
                return _events.Where(e => e.IdHash == idHash).ToList();
        }

        public async Task<SessionEventArgs> WaitAsync(SessionEventReason reason, string? idHash)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                lock (_events)
                {
                    if (_events.FirstOrDefault(e => e.Reason == reason && e.IdHash == idHash) is { } found)
                        return found;
                }
                if (clock.Elapsed > EventTimeout)
                    throw new TimeoutException($"No {reason} event for {idHash} within {EventTimeout.TotalSeconds:0} s.");
                await Task.Delay(25);
            }
        }

        private void Add(SessionEventArgs e)
        {
            lock (_events)
                _events.Add(e);
        }
    }
}

/// <summary>The same events on a 3-node Redis Cluster: published from scripts on any node, expiries heard from every primary.</summary>
[NonParallelizable]
public sealed class ClusterEventTests
{
    private RedisClusterTarget _cluster = null!;

    [OneTimeSetUp]
    public void StartCluster() => _cluster = new RedisClusterTarget();

    [OneTimeTearDown]
    public void StopCluster() => _cluster.Dispose();

    [Test]
    public async Task OtherInstance_HearsEventsAndExpiriesFromEveryPrimary()
    {
        var prefix = $"evc-{Guid.NewGuid():N}"[..16] + ":";
        using var listener = new RedisSessionDatabase(_cluster.Configuration, new RedisSessionOptions { KeyPrefix = prefix, SubscribeToEvents = true, ConfigureKeyspaceNotifications = true });
        await listener.EventsReady;
        using var listening = new SessionManager(new SessionConfig { Database = listener });
        var heard = new List<SessionEventArgs>();
        listening.Created += (_, e) => Add(e);
        listening.Destroyed += (_, e) => Add(e);
        using var publisher = new RedisSessionDatabase(_cluster.Configuration, new RedisSessionOptions { KeyPrefix = prefix, PublishEvents = true, ExpirySlack = TimeSpan.Zero });
        using var manager = new SessionManager(new SessionConfig { Database = publisher, IdleTimeout = TimeSpan.FromSeconds(1) });

        // Twelve sessions or more, until they live on all three primaries: their random hash tags spread over the slots, but
        // twelve alone miss one primary about once in forty runs. Sixty miss one about once in ten billion.
        var hashes = new List<string>();
        var primaries = new HashSet<int>();
        using (var admin = RespClient.Connect(_cluster.Ports[0]))
        {
            for (var i = 0; i < 60 && (i < 12 || primaries.Count < 3); i++)
            {
                var session = await manager.StartAsync(new TestCarrier());
                session.Set("n", i);
                await session.CommitAsync();
                var hash = SessionIds.HashText(session.Id);
                hashes.Add(hash);
                var slot = int.Parse(admin.Call("CLUSTER", "KEYSLOT", prefix + "{" + hash + "}")!, System.Globalization.CultureInfo.InvariantCulture);
                primaries.Add(slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2);
            }
        }
        primaries.Should().HaveCount(3, "the sessions live on all three primaries");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Count(SessionEventReason.Expired) < hashes.Count && clock.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(50);
        Reasons(SessionEventReason.Created).Should().BeEquivalentTo(hashes);
        Reasons(SessionEventReason.Expired).Should().BeEquivalentTo(hashes, "each primary announces the keys it expires");

        void Add(SessionEventArgs e)
        {
            lock (heard)
                heard.Add(e);
        }

        int Count(SessionEventReason reason) => Reasons(reason).Count;

        List<string?> Reasons(SessionEventReason reason)
        {
            lock (heard)
                return heard.Where(e => e.Reason == reason && e.IsRemote).Select(e => e.IdHash).ToList();
        }
    }
}
