using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <summary>
/// The contract and the Redis promises on a database that makes its own connection (a configuration string, as
/// <c>AddRedisSessionDatabase</c> does): the path where a commit awaits its script directly and, on a standalone server,
/// commits that meet go in groups (see <see cref="RedisCommitBatcher"/>). Each test waits until the connection is up,
/// so every commit takes that path.
/// </summary>
public abstract class OwnedConnectionRedisTests : RedisDatabaseTests
{
    protected override RedisSessionDatabase CreateDatabase(RedisSessionOptions options)
    {
        Prefix = options.KeyPrefix = $"t{Guid.NewGuid():N}:";
        var database = new RedisSessionDatabase(Target.Configuration, options);
        var connection = database.Connection.GetAwaiter().GetResult();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (connection.GetServers().Count(s => s.IsConnected && !s.IsReplica) < Target.Ports.Count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Target.Name}: the database's own connection did not reach every primary.");
            Thread.Sleep(20);
        }
        return database;
    }

    /// <summary>Write-only requests on <paramref name="count"/> sessions, all at once; their sessions' ids.</summary>
    protected async Task<List<string>> CreateSessionsAsync(int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var n = i;
            ids.Add(await CreateSessionAsync(s => s.Set("n", n)));
        }
        return ids;
    }

    /// <summary>One write-only request per session (StartDeferred, Set, commit), all started before any is awaited.</summary>
    protected Task<Exception?[]> WriteAllAtOnceAsync(IReadOnlyList<string> ids, Func<int, object> value)
    {
        var commits = new List<Task<Exception?>>();
        for (var i = 0; i < ids.Count; i++)
        {
            var session = Manager.StartDeferred(new TestCarrier($"{SessionConfig.DefaultCookieName}={ids[i]}"));
            session.Set("v", value(i));
            commits.Add(CommitAsync(session));
        }
        return Task.WhenAll(commits);

        static async Task<Exception?> CommitAsync(Session session)
        {
            try
            {
                await session.CommitAsync();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }
    }

    [Test]
    public async Task ConcurrentCommits_OfDifferentSessions_AreEachApplied()
    {
        var ids = await CreateSessionsAsync(40);

        var failures = await WriteAllAtOnceAsync(ids, i => "value " + i);

        failures.Should().OnlyContain(e => e == null);
        for (var i = 0; i < ids.Count; i++)
        {
            var session = await LoadAsync(ids[i]);
            session.GetString("v").Should().Be("value " + i);
            session.GetInt32("n").Should().Be(i);
        }
    }

    [Test]
    public async Task ConcurrentCommits_OneOverThePayloadLimit_FailsAlone()
    {
        var ids = await CreateSessionsAsync(30);
        var big = new string('x', new SessionConfig().MaxPayloadBytes);

        var failures = await WriteAllAtOnceAsync(ids, i => i == 17 ? big : "value " + i);

        for (var i = 0; i < ids.Count; i++)
        {
            if (i == 17)
            {
                failures[i].Should().BeOfType<SessionLimitExceededException>();
                (await LoadAsync(ids[i])).GetAll().Keys.Should().Equal("n");
            }
            else
            {
                failures[i].Should().BeNull();
                (await LoadAsync(ids[i])).GetString("v").Should().Be("value " + i);
            }
        }
    }
}

/// <summary>On one redis-server: commits that meet go in groups, each still answered on its own.</summary>
[TestFixture]
[NonParallelizable]
public sealed class OwnedConnectionRedisServerTests : OwnedConnectionRedisTests
{
    private protected override RedisTarget StartTarget() => new RedisServerTarget();

    [Test]
    public async Task ConcurrentCommits_GoInGroups_FewerScriptRunsThanCommits()
    {
        var ids = await CreateSessionsAsync(64);
        Target.ResetStats();

        (await WriteAllAtOnceAsync(ids, i => i)).Should().OnlyContain(e => e == null);

        var stats = Target.CommandStats();
        stats["hset"].Should().Be(64, "every commit ran, inside a script, and wrote once");
        stats.GetValueOrDefault("evalsha").Should().BeInRange(1, 32, "commits that met went as one script run");
    }

    [Test]
    public async Task ConcurrentCommits_OneOnAKeyOfAnotherType_FailsAlone_TheOthersApply()
    {
        var ids = await CreateSessionsAsync(30);
        // The key of session 11 now holds a string: HMGET inside its commit fails with WRONGTYPE.
        await Raw.KeyDeleteAsync(Redis.KeyOf(ids[11]));
        await Raw.StringSetAsync(Redis.KeyOf(ids[11]), "not a session");
        Target.ResetStats();

        var failures = await WriteAllAtOnceAsync(ids, i => "value " + i);

        Target.CommandStats().GetValueOrDefault("evalsha").Should().BeLessThan(15, "the failing commit went in a group");

        for (var i = 0; i < ids.Count; i++)
        {
            if (i == 11)
            {
                failures[i].Should().BeOfType<SessionDatabaseException>().Which.Message.Should().Contain("WRONGTYPE");
                continue;
            }
            failures[i].Should().BeNull();
            (await LoadAsync(ids[i])).GetString("v").Should().Be("value " + i);
        }
        (await Raw.StringGetAsync(Redis.KeyOf(ids[11]))).ToString().Should().Be("not a session");
    }

    [Test]
    public async Task ConcurrentCommits_AfterTheScriptCacheWasFlushed_AreApplied()
    {
        var ids = await CreateSessionsAsync(40);
        Target.OnEveryPrimary("SCRIPT", "FLUSH");
        Target.ResetStats();

        (await WriteAllAtOnceAsync(ids, i => "after flush " + i)).Should().OnlyContain(e => e == null);

        var stats = Target.CommandStats();
        (stats.GetValueOrDefault("evalsha") + stats.GetValueOrDefault("eval")).Should().BeLessThan(30, "commits went in groups");

        for (var i = 0; i < ids.Count; i++)
            (await LoadAsync(ids[i])).GetString("v").Should().Be("after flush " + i);
    }
}

/// <summary>On a 3-node cluster: sessions live in different slots, so commits never go in groups, and all apply.</summary>
[TestFixture]
[NonParallelizable]
public sealed class OwnedConnectionRedisClusterTests : OwnedConnectionRedisTests
{
    private protected override RedisTarget StartTarget() => new RedisClusterTarget();
}

/// <summary>On Garnet, embedded in the test process: a standalone server too, so commits go in groups there as well.</summary>
[TestFixture]
[NonParallelizable]
public sealed class OwnedConnectionGarnetTests : OwnedConnectionRedisTests
{
    private protected override RedisTarget StartTarget() => new GarnetTarget();
}
