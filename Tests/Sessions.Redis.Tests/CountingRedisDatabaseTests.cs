using Sessions.Testing;

namespace Sessions.Redis.Tests;

/// <summary>
/// Round trips per request shape, counted by the server itself: <c>CONFIG RESETSTAT</c>, one request, then
/// <c>INFO commandstats</c> summed over every primary. Commands a script runs inside Redis are counted by name too, so
/// the top-level commands are those left after removing the script's own calls (present only when a script ran).
/// </summary>
public abstract partial class CountingRedisDatabaseTests : RedisDatabaseTests
{
    // What the multiplexer and the admin connection send by themselves (heartbeats, topology, statistics).
    private static readonly string[] AdminPrefixes = ["info", "config", "cluster", "client", "command", "ping", "echo", "subscribe", "unsubscribe", "psubscribe", "hello", "select", "role", "time", "script", "scan"];

    // What the commit, update and destroy scripts call inside Redis.
    private static readonly HashSet<string> ScriptCalls = ["exists", "hmget", "hget", "hset", "pexpireat", "hdel", "pttl", "del", "set", "hlen"];

    [SetUp]
    public void LoadScripts()
    {
        // A server that already knows the scripts: the first commit on a fresh server adds one EVAL (tested below).
        foreach (var script in RedisScripts.All)
            Target.OnEveryPrimary("SCRIPT", "LOAD", script.Text);
    }

    [Test]
    public async Task RequestWithoutCookie_ThatOnlyReads_SendsNoCommand()
    {
        var commands = await CountAsync(async () =>
        {
            var session = await Manager.StartAsync(new TestCarrier());
            session.GetString("name", "none").Should().Be("none");
            await session.CommitAsync();
        });

        commands.Should().BeEmpty();
    }

    [Test]
    public async Task ReadOnlyRequest_LoadsInOneHgetall_AndWritesNothing()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(TimeSpan.FromMinutes(1)); // under a tenth of the idle window

        var commands = await CountAsync(() => RequestAsync(id, s => s.GetString("name").Should().Be("iris")));

        commands.Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1 });
    }

    [Test]
    public async Task NewSession_IsCreatedInOneScriptRun()
    {
        var commands = await CountAsync(() => CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.Set("count", 1);
            s.SetFlash("notice", "hello");
        }));

        TopLevel(commands).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 });
    }

    [Test]
    public async Task RequestChangingValues_LoadsOnce_AndCommitsInOneScriptRun()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("a", 1);
            s.Set("b", 2);
            s.SetFlash("notice", "hi");
        });

        var commands = await CountAsync(() => RequestAsync(id, s =>
        {
            s.Set("a", 10);
            s.Delete("b");
            s.Set("c", 3);
            s.GetFlash("notice");
            s.SetFlash("other", "x");
        }));

        TopLevel(commands).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1 });
        (await LoadAsync(id)).GetAll().Keys.Should().Equal("a", "c");
    }

    [Test]
    public async Task WriteOnlyRequest_StartedDeferred_CommitsInOneScriptRun_WithoutALoad()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        var commands = await CountAsync(async () =>
        {
            var carrier = Request(id);
            var session = Manager.StartDeferred(carrier);
            session.Set("name", "ada");
            session.Set("added", 1);
            session.SetFlash("notice", "saved");
            await carrier.StartResponseAsync();
            carrier.Written.Should().BeEmpty();
        });

        TopLevel(commands).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 });
        var stored = await LoadAsync(id);
        stored.GetString("name").Should().Be("ada");
        stored.GetInt32("added").Should().Be(1);
    }

    [Test]
    public async Task WriteOnlyRequest_StartedDeferred_OnAnUnknownCookie_TriesOnceThenCreates_WithoutALoad()
    {
        var commands = await CountAsync(async () =>
        {
            var carrier = Request(SessionIds.NewId());
            Manager.StartDeferred(carrier).Set("name", "iris");
            await carrier.StartResponseAsync();
            carrier.Written.Should().ContainSingle();
        });

        TopLevel(commands).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 2 });
    }

    [Test]
    public async Task ReadOnlyRequest_AfterATenthOfTheIdleWindow_RefreshesTheTtlInOneScriptRun()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(IdleTimeout / 5);

        var commands = await CountAsync(() => RequestAsync(id, s => s.GetString("name").Should().Be("iris")));

        TopLevel(commands).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1 });
    }

    [Test]
    public async Task DestroyById_IsOneScriptRun_AndDestroyingTheRequestsSessionLoadsItFirst()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var other = await CreateSessionAsync(s => s.Set("name", "iris"));

        var byId = await CountAsync(() => Manager.DestroyByIdAsync(id).AsTask());
        TopLevel(byId).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 });
        byId.Should().ContainKey("del").WhoseValue.Should().Be(1);
        TopLevel(await CountAsync(() => Manager.DestroyAsync(Request(other)).AsTask())).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1 });
    }

    [Test]
    public async Task RenewId_LoadsOnce_AndMovesTheSessionInTwoScriptRuns()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetFlash("notice", "hi");
        });

        var commands = await CountAsync(async () => (await Manager.RenewIdAsync(Request(id))).Should().BeTrue());

        // Every call counted: the request's load (HGETALL), then the take on the old key's node (HEXISTS, PTTL, HGETALL,
        // DEL, and SET for the end marker) and the place on the new key's node (EXISTS for the key and its end marker,
        // HSET, PEXPIREAT). The second HGETALL runs inside the first script: two script runs and one load in all.
        commands.Should().Equal(new Dictionary<string, long>
        {
            ["hgetall"] = 2,
            ["evalsha"] = 2,
            ["hexists"] = 1,
            ["pttl"] = 1,
            ["del"] = 1,
            ["set"] = 1,
            ["exists"] = 2,
            ["hset"] = 1,
            ["pexpireat"] = 1,
        });
    }

    [Test]
    public async Task FirstCommitOnAServerWithoutTheScript_FallsBackToEvalOnce()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Target.OnEveryPrimary("SCRIPT", "FLUSH");

        var first = await CountAsync(() => RequestAsync(id, s => s.Set("n", 1)));
        var second = await CountAsync(() => RequestAsync(id, s => s.Set("n", 2)));

        TopLevel(first).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1, ["eval"] = 1 }); // NOSCRIPT, then EVAL
        TopLevel(second).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1 });
        (await LoadAsync(id)).GetInt32("n").Should().Be(2);
    }

    [Test]
    public async Task SevenDecoysBeforeTheRealCookie_AreLoadedByOneLoadManyAsyncCall_OfEightPipelinedHgetalls_AndTheSessionIsFound()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(TimeSpan.FromMinutes(1)); // under a tenth of the idle window: the request writes nothing
        var recording = new RecordingDatabase(Database);
        var manager = CreateManager(c => c.Database = recording);
        var decoys = Enumerable.Range(0, SessionManager.MaxCookieLookups - 1).Select(_ => SessionIds.NewId()).ToList();
        var header = string.Join("; ", decoys.Append(id).Select(d => $"{SessionConfig.DefaultCookieName}={d}"));

        // The server counts commands, not network round trips: it sees one HGETALL per candidate and nothing else, and
        // the client side shows they were all handed over in one LoadManyAsync call (one pipelined batch), none alone.
        var commands = await CountAsync(async () =>
        {
            var session = await manager.StartAsync(new TestCarrier(header));
            session.GetString("name").Should().Be("iris");
            await session.CommitAsync();
        });

        commands.Should().Equal(new Dictionary<string, long> { ["hgetall"] = SessionManager.MaxCookieLookups });
        recording.BatchLoads.Should().Be(1);
        recording.Loads.Should().Be(0);
        manager.Counters.Unknown.Should().Be(SessionManager.MaxCookieLookups - 1);
    }

    [Test]
    public async Task EightDecoysBeforeTheRealCookie_FillTheLookupCap_InOneLoadManyAsyncCall_OfEightHgetalls()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var recording = new RecordingDatabase(Database);
        var manager = CreateManager(c => c.Database = recording);
        var decoys = Enumerable.Range(0, SessionManager.MaxCookieLookups).Select(_ => SessionIds.NewId()).ToList();
        var header = string.Join("; ", decoys.Append(id).Select(d => $"{SessionConfig.DefaultCookieName}={d}"));

        var commands = await CountAsync(async () => (await manager.StartAsync(new TestCarrier(header))).IsNew.Should().BeTrue());

        // At most MaxCookieLookups values are looked up: the ninth, the real one, is never tried.
        commands.Should().Equal(new Dictionary<string, long> { ["hgetall"] = SessionManager.MaxCookieLookups });
        recording.BatchLoads.Should().Be(1);
        recording.Loads.Should().Be(0);
    }

    /// <summary>The calls per command the server saw during <paramref name="action"/>, admin commands left out.</summary>
    private async Task<Dictionary<string, long>> CountAsync(Func<Task> action)
    {
        Target.ResetStats();
        await action();
        return Target.CommandStats()
            .Where(c => c.Value > 0 && !AdminPrefixes.Any(p => c.Key == p || c.Key.StartsWith(p + "|", StringComparison.Ordinal)))
            .ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
    }

    /// <summary>The commands sent over the network: a script's own calls removed (and checked to come only with a script run).</summary>
    private static Dictionary<string, long> TopLevel(Dictionary<string, long> commands)
    {
        var scriptRuns = commands.GetValueOrDefault("evalsha") + commands.GetValueOrDefault("eval");
        var inner = commands.Where(c => ScriptCalls.Contains(c.Key)).ToList();
        if (scriptRuns == 0)
            inner.Should().BeEmpty("without a script run every command is a round trip");
        return commands.Where(c => !ScriptCalls.Contains(c.Key)).ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);
    }
}

/// <summary>The contract and the Redis promises on one real redis-server.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisServerTests : CountingRedisDatabaseTests
{
    private protected override RedisTarget StartTarget() => new RedisServerTarget();
}

/// <summary>The contract and the Redis promises on a real 3-node Redis Cluster.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisClusterTests : CountingRedisDatabaseTests
{
    private protected override RedisTarget StartTarget() => new RedisClusterTarget();

    [Test]
    public async Task SessionKey_LivesInTheSlotOfItsHashTag_OnExactlyOneNode()
    {
        var id = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetFlash("notice", "saved");
        });
        var key = Redis.KeyOf(id);
        var tag = key[key.IndexOf('{', StringComparison.Ordinal)..];

        var slots = Target.OnEveryPrimary("CLUSTER", "KEYSLOT", key).Distinct().ToList();
        slots.Should().Equal(Target.OnEveryPrimary("CLUSTER", "KEYSLOT", tag).Distinct());
        Target.Ports.Count(p => RedisTarget.KeysOn(p, Prefix + "*").Contains(key)).Should().Be(1);
        Target.AllKeys().Count(k => k.StartsWith(Prefix, StringComparison.Ordinal)).Should().Be(1, "values, flashes and metadata share the one hash");
    }

    [Test]
    public void Multiplexer_SeesThreePrimaries()
    {
        Target.Connection.GetServers().Where(s => !s.IsReplica).Should().HaveCount(3).And.OnlyContain(s => s.ServerType == StackExchange.Redis.ServerType.Cluster);
    }
}

/// <summary>The contract and the Redis promises on Garnet, embedded in the test process.</summary>
[TestFixture]
[NonParallelizable]
public sealed class GarnetTests : RedisDatabaseTests
{
    private protected override RedisTarget StartTarget() => new GarnetTarget();
}
