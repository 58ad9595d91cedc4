using Sessions.Testing;

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
}
