using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <content>What users cost in commands: nothing on requests that do not sign in, one pipelined command on a sign-in.</content>
public abstract partial class CountingRedisDatabaseTests
{
    [Test]
    public async Task SignedInSession_PlainGetAndSet_CostWhatTheyCostWithoutAUser()
    {
        var anonymous = await CreateSessionAsync(s => s.Set("name", "iris"));
        var signedIn = await SignInAsync("alice");
        Time.Advance(TimeSpan.FromMinutes(1)); // under a tenth of the idle window: no deadline to write

        var anonymousGet = await CountAsync(() => RequestAsync(anonymous, s => s.GetString("name", "")));
        var signedInGet = await CountAsync(() => RequestAsync(signedIn, s => s.GetString("name", "")));
        var anonymousSet = await CountAsync(() => RequestAsync(anonymous, s => s.Set("name", "edward")));
        var signedInSet = await CountAsync(() => RequestAsync(signedIn, s => s.Set("name", "edward")));

        signedInGet.Should().Equal(anonymousGet).And.Equal(new Dictionary<string, long> { ["hgetall"] = 1 });
        signedInSet.Should().Equal(anonymousSet);
        TopLevel(signedInSet).Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1, ["evalsha"] = 1 });
    }

    [Test]
    public async Task SignIn_AddsOnePipelinedScriptRun_ToItsCommit()
    {
        var anonymous = await CountAsync(() => CreateSessionAsync(s => s.Set("authenticated", true)));
        var signIn = await CountAsync(async () =>
        {
            var session = await Manager.StartAsync(new TestCarrier());
            session.Set("authenticated", true);
            session.SetUser("alice");
            await session.CommitAsync();
        });

        TopLevel(anonymous).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 });
        signIn["evalsha"].Should().Be(2, "the commit script and the index script, sent in one pipeline");
        signIn.Keys.Should().BeEquivalentTo(anonymous.Keys.Concat(["zscore", "zadd", "zremrangebyscore", "zrange", "zcard"]), "the index script's own calls, nothing else");
    }

    // Redis's own key expiry, on redis-server and Redis Cluster (Garnet expires keys by its own rules).
    [Test]
    public async Task TenThousandSessionsOfOneUser_ExpiredByRedis_TakeTheirIndexWithThem()
    {
        const int count = 10_000;
        var database = CreateDatabase(new RedisSessionOptions { TimeProvider = Time, ExpirySlack = TimeSpan.Zero, OperationTimeout = TimeSpan.FromSeconds(30) });
        // Deadlines are real time here: the fake clock stands still at the real time the test started, plus two seconds of life.
        var manager = CreateManager(c =>
        {
            c.Database = database;
            c.IdleTimeout = TimeSpan.FromSeconds(2);
            c.Expires = TimeSpan.FromSeconds(2);
        });
        Time.SetUtcNow(DateTimeOffset.UtcNow);
        for (var batch = 0; batch < count; batch += 100)
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => SignInAsync("bob", manager)));
        var index = database.UserIndexKeyOf("bob");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await Raw.KeyExistsAsync(index) && DateTime.UtcNow < deadline)
            await Task.Delay(200);

        (await Raw.SortedSetLengthAsync(index)).Should().Be(0, "the index key expired with its newest session, without any listing");
        Target.AllKeys().Where(k => k.StartsWith(Prefix, StringComparison.Ordinal) && !k.EndsWith(":ended", StringComparison.Ordinal)).Should().BeEmpty();
    }
}
