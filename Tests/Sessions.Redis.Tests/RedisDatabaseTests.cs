using System.Diagnostics;
using System.Text;
using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <summary>
/// The store contract plus the Redis-specific promises, run against one server kind: the key layout (hashed IDs, one
/// hash, a TTL), corrupt data, payload bounds, final destroys and <c>DestroyAll</c> on every primary. Each test gets its
/// own key prefix, so tests sharing a server never see each other's sessions.
/// </summary>
public abstract partial class RedisDatabaseTests : SessionDatabaseContract
{
    private RedisTarget? _target;

    private protected RedisTarget Target => _target ?? throw new InvalidOperationException("The server did not start.");

    /// <summary>The prefix of the current test's database.</summary>
    protected string Prefix { get; set; } = "";

    /// <summary>The database under test.</summary>
    protected RedisSessionDatabase Redis => (RedisSessionDatabase)Database;

    private protected abstract RedisTarget StartTarget();

    [OneTimeSetUp]
    public void StartServer() => _target = StartTarget();

    [OneTimeTearDown]
    public void StopServer() => _target?.Dispose();

    protected override ISessionDatabase CreateDatabase() => CreateDatabase(new RedisSessionOptions { TimeProvider = Time });

    /// <summary>A database on the shared multiplexer with a fresh prefix (the options' prefix is replaced).</summary>
    protected virtual RedisSessionDatabase CreateDatabase(RedisSessionOptions options)
    {
        Prefix = options.KeyPrefix = $"t{Guid.NewGuid():N}:";
        return new RedisSessionDatabase(Target.Connection, options);
    }

    private protected IDatabase Raw => Target.Connection.GetDatabase();

    // ----- batch loading -----------------------------------------------------------------------------------------------

    [Test]
    public async Task LoadManyAsync_ReturnsOneEntryPerId_InOrder_NullForUnknown_AndForAKeyOfAnotherType()
    {
        var first = await CreateSessionAsync(s => s.Set("first", 1));
        var second = await CreateSessionAsync(s => s.Set("second", 2));
        var foreign = SessionIds.NewId();
        await Raw.StringSetAsync(Redis.KeyOf(foreign), "not a session");
        var unknown = SessionIds.NewId();

        var records = await Redis.LoadManyAsync([second, unknown, foreign, first, second], CancellationToken.None);

        records.Should().HaveCount(5);
        records.Select(r => r is null ? null : string.Join(",", r.Values.ToArray().Select(v => v.Key))).Should().Equal("second", null, null, "first", "second");
        records[3]!.IdleDeadline.Should().Be((await Database.LoadAsync(first, CancellationToken.None))!.IdleDeadline);
    }

    [Test]
    public async Task LoadManyAsync_ReturnsExpiredRecords_TheManagerChecksTheDeadlines()
    {
        var old = await CreateSessionAsync(s => s.Set("name", "old"));
        Time.Advance(IdleTimeout + TimeSpan.FromSeconds(1)); // the fake clock only: the key's TTL is real time
        var live = await CreateSessionAsync(s => s.Set("name", "live"));

        var records = await Redis.LoadManyAsync([old, live], CancellationToken.None);

        records[0].Should().NotBeNull();
        records[0]!.IsExpired(Time.GetUtcNow()).Should().BeTrue();
        records[1]!.IsExpired(Time.GetUtcNow()).Should().BeFalse();

        var session = await Manager.StartAsync(new TestCarrier($"{SessionConfig.DefaultCookieName}={old}; {SessionConfig.DefaultCookieName}={live}"));
        session.Id.Should().Be(live);
        Manager.Counters.Expired.Should().Be(1);
        (await Database.LoadAsync(old, CancellationToken.None)).Should().BeNull("the expired candidate is destroyed");
    }

    [Test]
    public async Task LoadManyAsync_OfNoIds_SendsNothing_AndOfKeysAcrossSlots_FindsEach()
    {
        (await Redis.LoadManyAsync([], CancellationToken.None)).Should().BeEmpty();

        var ids = new List<string>();
        for (var i = 0; i < 12; i++)
        {
            var key = "n" + i;
            ids.Add(await CreateSessionAsync(s => s.Set(key, i)));
        }

        var records = await Redis.LoadManyAsync(ids, CancellationToken.None);

        records.Should().OnlyContain(r => r != null);
        for (var i = 0; i < ids.Count; i++)
        {
            records[i]!.Values.ToArray().Select(v => v.Key).Should().Equal("n" + i);
            records[i]!.IdleDeadline.Should().Be((await Database.LoadAsync(ids[i], CancellationToken.None))!.IdleDeadline);
        }
    }

    // ----- layout -----------------------------------------------------------------------------------------------------

    [Test]
    public async Task Session_IsOneHash_NamedByTheHashedIdAsAHashTag_WithATtlAtTheEarlierDeadline()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetFlash("notice", "saved");
        });

        var keys = Target.AllKeys().Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).ToList();
        keys.Should().Equal(Redis.KeyOf(id));
        keys[0].Should().MatchRegex("^" + System.Text.RegularExpressions.Regex.Escape(Prefix) + "\\{[A-Za-z0-9_-]{43}\\}$");
        (await Raw.KeyTypeAsync(keys[0])).Should().Be(RedisType.Hash);
        var ttl = await Raw.KeyTimeToLiveAsync(keys[0]);
        // The idle deadline (30 min) comes before the absolute one (2 h); the fake clock started at the real time.
        ttl.Should().NotBeNull();
        ttl!.Value.Should().BeGreaterThan(IdleTimeout - TimeSpan.FromMinutes(1)).And.BeLessThanOrEqualTo(IdleTimeout + new RedisSessionOptions().ExpirySlack);
    }

    [Test]
    public async Task Load_ReadsBackEveryFieldExactly_AroundTheSizeItCopiesOntoTheStack()
    {
        // A load copies short names and values out of the reply onto the stack (256 bytes) and reads longer ones where
        // they lie; numbers come back from the client as numbers. Either side of that size, in keys and values, and
        // multi-byte text, every value must come back as it was set, in its order.
        var expected = new List<(string Key, string Value)>();
        var id = await CreateSessionAsync(s =>
        {
            foreach (var length in new[] { 1, 240, 250, 252, 253, 254, 255, 256, 257, 300, 5000 })
            {
                var key = "k" + length + new string('é', Math.Min(length, 300) / 8);
                var value = new string('v', length) + "ü";
                s.Set(key, value);
                expected.Add((key, value));
            }
            var longKey = new string('ñ', 200); // 400 bytes of UTF-8: a field name past the stack copy
            s.Set(longKey, "long name");
            expected.Add((longKey, "long name"));
            s.Set("number", 12345678901234L); // stored as digits the client may hand back as a number
        });

        var session = await Manager.StartAsync(Request(id));

        foreach (var (key, value) in expected)
            session.GetString(key).Should().Be(value, "the value of a {0}-character key", key.Length);
        session.GetInt64("number").Should().Be(12345678901234L);
        var order = new List<string>();
        session.VisitAll((key, _) => order.Add(key));
        order.Should().Equal(expected.Select(e => e.Key).Append("number"), "the order survives the load");
    }

    [Test]
    public async Task RawId_AppearsNowhereInTheKeyspace()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        await RequestAsync(id, s => s.SetFlash("notice", "saved"));

        foreach (var key in Target.AllKeys())
        {
            key.Should().NotContain(id);
            if (await Raw.KeyTypeAsync(key) != RedisType.Hash)
                continue;
            foreach (var entry in await Raw.HashGetAllAsync(key))
            {
                ((string?)entry.Name).Should().NotContain(id);
                Encoding.UTF8.GetString((byte[])entry.Value!).Should().NotContain(id);
            }
        }
    }

    [Test]
    public async Task TwoDatabasesOnOneServer_WithDifferentPrefixes_DoNotSeeEachOther()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var other = new RedisSessionDatabase(Target.Connection, new RedisSessionOptions { KeyPrefix = "other" + Prefix });

        (await other.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(id, CancellationToken.None)).Should().NotBeNull();
    }

    // ----- corrupt and foreign data -----------------------------------------------------------------------------------

    [Test]
    public async Task KeyOfAnotherType_ReadsAsAbsent_AndTheRequestGetsAFreshSession()
    {
        var id = SessionIds.NewId();
        await Raw.StringSetAsync(Redis.KeyOf(id), "not a session");

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        var session = await Manager.StartAsync(Request(id));
        session.IsNew.Should().BeTrue();
        session.Set("name", "iris");
        await session.CommitAsync();
        session.Id.Should().NotBe(id);
    }

    [Test]
    public async Task HashWithoutDeadlines_OrWithGarbageDeadlines_ReadsAsAbsent()
    {
        var noDeadline = SessionIds.NewId();
        await Raw.HashSetAsync(Redis.KeyOf(noDeadline), [new HashEntry("vname", "1:\"iris\"")]);
        var garbage = SessionIds.NewId();
        await Raw.HashSetAsync(Redis.KeyOf(garbage), [new HashEntry("#i", "soon"), new HashEntry("vname", "1:v\"iris\"")]);
        var negative = SessionIds.NewId();
        await Raw.HashSetAsync(Redis.KeyOf(negative), [new HashEntry("#i", "-5")]);
        var pastTheCalendar = SessionIds.NewId(); // a number, but more ticks than any date has
        await Raw.HashSetAsync(Redis.KeyOf(pastTheCalendar), [new HashEntry("#i", long.MaxValue)]);

        (await Database.LoadAsync(pastTheCalendar, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(noDeadline, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(garbage, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(negative, CancellationToken.None)).Should().BeNull();
        (await Manager.StartAsync(Request(garbage))).IsNew.Should().BeTrue();
    }

    [Test]
    public async Task CorruptFields_AreDropped_AndTheRestOfTheSessionLoads()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("good", "kept");
            s.Set("bad1", 1);
            s.Set("bad2", 2);
            s.Set("bad3", 3);
            s.SetFlash("flash", "kept too");
        });
        var key = Redis.KeyOf(id);
        await Raw.HashSetAsync(key,
        [
            new HashEntry("vbad1", new byte[] { 0xFF, 0x00, 0x13, 0x37 }), // no order, garbage bytes
            new HashEntry("vbad2", "7:v{not json"),                           // broken JSON
            new HashEntry("vbad3", "8:x\"unknown marker\""),                  // not a codec marker
            new HashEntry("unrelated", "ignored"),                            // a field this database never writes
        ]);

        var session = await LoadAsync(id);
        session.GetAll().Keys.Should().Equal("good");
        session.GetString("good").Should().Be("kept");
        session.PeekFlash("flash").Should().Be("kept too");
    }

    [Test]
    public async Task StoredTypeNames_AreNeverInstantiated()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        const string json = "{\"$type\":\"System.IO.FileInfo, System.IO.FileSystem\",\"fileName\":\"/etc/passwd\"}";
        await Raw.HashSetAsync(Redis.KeyOf(id), [new HashEntry("vpayload", "99:v" + json), new HashEntry("vimmutable", "100:i" + json)]);

        var session = await LoadAsync(id);
        var values = session.GetAll();
        values.Should().ContainKeys("payload", "immutable");
        values["payload"].Should().NotBeOfType<FileInfo>().And.BeOfType<System.Text.Json.JsonElement>();
        values["immutable"].Should().NotBeOfType<FileInfo>();
        session.Get<ContractModel>("payload").Name.Should().BeEmpty(); // read as data into the type asked for, nothing else
    }

    // ----- payload bounds ---------------------------------------------------------------------------------------------

    [Test]
    public async Task CommitOverThePayloadLimit_Fails_AndLeavesTheStoredSessionUnchanged()
    {
        var limited = Database;
        var manager = CreateManager(c => c.MaxPayloadBytes = 1024);
        var id = await CreateSessionOnAsync(manager, s => s.Set("name", "iris"));

        var session = await manager.StartAsync(Request(id));
        session.Set("name", "changed");
        session.Set("big", new string('x', 2000));
        await session.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>().WithMessage("*1024*");

        var stored = await limited.LoadAsync(id, CancellationToken.None);
        stored!.Values.ToArray().Select(v => (v.Key, v.Value.Value?.ToString())).Should().Equal(("name", "iris"));
    }

    [Test]
    public async Task MergedCommits_OverThePayloadLimit_AreRefusedByTheServer_WithoutAPartialWrite()
    {
        var manager = CreateManager(c => c.MaxPayloadBytes = 1024);
        var id = await CreateSessionOnAsync(manager, s => s.Set("start", 0));

        var first = await manager.StartAsync(Request(id));
        var second = await manager.StartAsync(Request(id));
        first.Set("a", new string('a', 600));
        second.Set("b", new string('b', 600));
        second.Set("start", 1);
        await first.CommitAsync();
        // Each change set is under the limit alone; merged with the first they are not: Redis refuses the whole set.
        await second.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>();

        var stored = (await manager.StartAsync(Request(id))).GetAll();
        stored.Keys.Should().Equal("start", "a");
        stored["start"].Should().Be(0);
    }

    // ----- no resurrection --------------------------------------------------------------------------------------------

    [Test]
    public async Task CommitAfterRedisExpiredTheKey_DoesNotRecreateIt()
    {
        var database = CreateDatabase(new RedisSessionOptions { ExpirySlack = TimeSpan.Zero });
        var manager = CreateManagerOn(database);
        var id = await CreateSessionOnAsync(manager, s => s.Set("name", "iris"));
        var late = await manager.StartAsync(Request(id));
        late.IsNew.Should().BeFalse();

        // A real deadline 300 ms away: Redis removes the key by itself (the only test that lets Redis expire a key).
        (await database.UpdateExpirationAsync(id, null, DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300), CancellationToken.None)).Should().BeTrue();
        var stopwatch = Stopwatch.StartNew();
        while (await Raw.KeyExistsAsync(database.KeyOf(id)))
        {
            stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "Redis should drop the key at its deadline");
            await Task.Delay(50);
        }

        late.Set("late", "write");
        await late.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionEndedException>("the late write is reported, not dropped silently");
        (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Raw.KeyExistsAsync(database.KeyOf(id))).Should().BeFalse();
    }

    // ----- destroy all and count --------------------------------------------------------------------------------------

    [Test]
    public async Task DestroyAll_DeletesEverySessionOnEveryPrimary_AndOnlyKeysWithThePrefix()
    {
        const int sessions = 40;
        var ids = new List<string>();
        for (var i = 0; i < sessions; i++)
        {
            var key = "n" + i;
            ids.Add(await CreateSessionAsync(s => s.Set(key, i)));
        }
        var foreign = new[] { "other" + Prefix + "{x}", Prefix + "plain", Prefix.TrimEnd(':') + "{y}" };
        foreach (var key in foreign)
            await Raw.StringSetAsync(key, "not a session");
        var perPrimary = Target.Ports.Select(p => RedisTarget.KeysOn(p, Prefix + "{*}").Count).ToList();
        perPrimary.Sum().Should().Be(sessions);
        perPrimary.Should().OnlyContain(count => count > 0, "the sessions spread over every primary");
        (await Redis.CountAsync(CancellationToken.None)).Should().Be(sessions);

        await Database.DestroyAllAsync(CancellationToken.None);

        Target.Ports.Select(p => RedisTarget.KeysOn(p, Prefix + "*").Count).Sum().Should().Be(1, "only the foreign key that shares the prefix is left");
        foreach (var key in foreign)
            (await Raw.KeyExistsAsync(key)).Should().BeTrue();
        (await Redis.CountAsync(CancellationToken.None)).Should().Be(0);
        foreach (var id in ids)
            (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        foreach (var key in foreign)
            await Raw.KeyDeleteAsync(key);
    }

    [Test]
    public async Task DestroyAllAndCount_WithForeignKeysNearTheSessionShape_TouchOnlyThisLibrarysKeys()
    {
        // Another application's keys on the same server, some shaped like ours: hash tags without our prefix, our prefix
        // with a short tag, a 43-character tag with a suffix, a tag with a brace or a non-base64url character inside.
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var tag43 = new string('a', 43);
        var foreignStrings = new[]
        {
            "{user:1000}", "{cache}", "{orders}", Prefix + "{short}", Prefix + "{" + tag43 + "}:other",
            Prefix + "{" + new string('a', 20) + "}" + new string('b', 22) + "}", Prefix + "{" + new string('a', 42) + "!}",
            Prefix + "{" + new string('a', 44) + "}",
        };
        foreach (var key in foreignStrings)
            await Raw.StringSetAsync(key, "not a session");
        const string foreignHash = "{queue:jobs}";
        await Raw.HashSetAsync(foreignHash, "job", "1");
        var ended = await CreateSessionAsync(s => s.Set("name", "ended"));
        await Database.DestroyAsync(ended, CancellationToken.None); // leaves its end marker, which is not a session
        try
        {
            (await Redis.CountAsync(CancellationToken.None)).Should().Be(1, "only the one live session is counted");

            await Database.DestroyAllAsync(CancellationToken.None);

            foreach (var key in foreignStrings.Append(foreignHash))
                (await Raw.KeyExistsAsync(key)).Should().BeTrue($"the foreign key {key} must survive DestroyAll");
            (await Raw.HashGetAsync(foreignHash, "job")).Should().Be("1");
            (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
            (await Redis.CountAsync(CancellationToken.None)).Should().Be(0);
        }
        finally
        {
            foreach (var key in foreignStrings.Append(foreignHash))
                await Raw.KeyDeleteAsync(key);
        }
    }

    [Test]
    public async Task DestroyAll_WithGlobCharactersInThePrefix_MatchesOnlyThatPrefix()
    {
        var database = CreateDatabase(new RedisSessionOptions());
        var globbed = new RedisSessionDatabase(Target.Connection, new RedisSessionOptions { KeyPrefix = Prefix + "*?[a]" });
        var mine = await CreateSessionOnAsync(CreateManagerOn(database), s => s.Set("name", "mine"));
        var theirs = await CreateSessionOnAsync(CreateManagerOn(globbed), s => s.Set("name", "theirs"));

        await globbed.DestroyAllAsync(CancellationToken.None);

        (await globbed.LoadAsync(theirs, CancellationToken.None)).Should().BeNull();
        (await database.LoadAsync(mine, CancellationToken.None)).Should().NotBeNull();
    }

    // ----- options ----------------------------------------------------------------------------------------------------

    [TestCase("a{b")]
    [TestCase("a}b")]
    [TestCase("a\nb")]
    [TestCase("")]
    [TestCase("a b")]
    [TestCase("caf\u00e9:")]
    public void KeyPrefix_EmptyOrWithBracesSpacesOrNonAsciiCharacters_IsRefused(string prefix)
    {
        var act = () => new RedisSessionDatabase(Target.Connection, new RedisSessionOptions { KeyPrefix = prefix });
        act.Should().Throw<ArgumentException>().WithMessage("*KeyPrefix*");
    }

    [Test]
    public void OutOfRangeOptions_AreRefused()
    {
        FluentActions.Invoking(() => new RedisSessionDatabase(Target.Connection, new RedisSessionOptions { OperationTimeout = TimeSpan.Zero }))
            .Should().Throw<ArgumentException>().WithMessage("*OperationTimeout*");
        FluentActions.Invoking(() => new RedisSessionDatabase(Target.Connection, new RedisSessionOptions { ExpirySlack = TimeSpan.FromSeconds(-1) }))
            .Should().Throw<ArgumentException>().WithMessage("*ExpirySlack*");
    }

    // ----- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>A manager on <paramref name="database"/> and the test clock.</summary>
    protected SessionManager CreateManagerOn(ISessionDatabase database)
    {
        var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = Time, Expires = Expires, IdleTimeout = IdleTimeout });
        _extraManagers.Add(manager);
        return manager;
    }

    private readonly List<SessionManager> _extraManagers = [];

    [TearDown]
    public void DisposeExtraManagers()
    {
        foreach (var manager in _extraManagers)
            manager.Dispose();
        _extraManagers.Clear();
    }

    /// <summary>One cookieless request on <paramref name="manager"/> that writes a new session; returns its ID.</summary>
    protected static async Task<string> CreateSessionOnAsync(SessionManager manager, Action<Session> write)
    {
        var session = await manager.StartAsync(new TestCarrier());
        write(session);
        await session.CommitAsync();
        session.IsDestroyed.Should().BeFalse();
        return session.Id;
    }
}
