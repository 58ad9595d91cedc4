using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <content>The user index in Redis: its key, members, scores and expiry, and that it never grows past its sessions.</content>
public abstract partial class RedisDatabaseTests
{
    [Test]
    public async Task SignIn_IndexesTheHandle_UnderThePrefix_ScoredWithTheSessionsEnd_AndExpiringWithIt()
    {
        var id = await SignInAsync("alice");
        var index = Redis.UserIndexKeyOf("alice");

        index.Should().StartWith(Prefix + "user:{").And.NotContain("alice", "the user name is hashed");
        var members = await Raw.SortedSetRangeByRankWithScoresAsync(index);
        members.Should().ContainSingle();
        ((string?)members[0].Element).Should().Be(SessionIds.HashText(id));
        members[0].Score.Should().Be((Time.GetUtcNow() + IdleTimeout).ToUnixTimeMilliseconds());
        var indexTtl = await Raw.KeyTimeToLiveAsync(index);
        var sessionTtl = await Raw.KeyTimeToLiveAsync(Redis.KeyOf(id));
        indexTtl.Should().NotBeNull();
        indexTtl!.Value.Should().BeCloseTo(sessionTtl!.Value, TimeSpan.FromSeconds(1), "the index expires with its newest session");
        Target.AllKeys().Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).Should().BeEquivalentTo([Redis.KeyOf(id), index]);
    }

    [Test]
    public async Task DeadlineMoves_OfASignedInSession_MoveItsScore_AndRenewMovesItsMember()
    {
        var id = await SignInAsync("alice");
        var index = Redis.UserIndexKeyOf("alice");
        Time.Advance(TimeSpan.FromMinutes(10));
        await RequestAsync(id, s => s.GetString("name", "")); // refreshes the idle deadline

        (await Raw.SortedSetScoreAsync(index, SessionIds.HashText(id))).Should().Be((Time.GetUtcNow() + IdleTimeout).ToUnixTimeMilliseconds());

        var carrier = Request(id);
        var session = await Manager.StartAsync(carrier);
        await Manager.RenewIdAsync(carrier);
        await session.CommitAsync();

        (await Raw.SortedSetRangeByRankAsync(index)).Select(m => (string?)m).Should().Equal(SessionIds.HashText(session.Id));
        (await Manager.UpdateExpirationAsync(Request(session.Id), TimeSpan.FromHours(5))).Should().BeTrue();
        (await Raw.SortedSetScoreAsync(index, SessionIds.HashText(session.Id))).Should().Be((Time.GetUtcNow() + IdleTimeout).ToUnixTimeMilliseconds());
    }

    [Test]
    public async Task DestroyAll_DeletesTheUserIndexes_AndDestroyAndRevokeRemoveTheirMembers()
    {
        var first = await SignInAsync("alice");
        var second = await SignInAsync("alice");
        await SignInAsync("bob");
        var alice = Redis.UserIndexKeyOf("alice");

        (await Manager.DestroyByIdAsync(first)).Should().BeTrue();
        (await Raw.SortedSetRangeByRankAsync(alice)).Select(m => (string?)m).Should().Equal(SessionIds.HashText(second));
        (await Manager.DestroyUserSessionAsync("alice", SessionIds.HashText(second))).Should().BeTrue();
        (await Raw.KeyExistsAsync(alice)).Should().BeFalse("its last member is gone");

        await SignInAsync("alice");
        await Manager.DestroyAllAsync();

        Target.AllKeys().Where(k => k.StartsWith(Prefix, StringComparison.Ordinal) && !k.EndsWith(":ended", StringComparison.Ordinal))
            .Should().BeEmpty("sessions and user indexes alike are deleted");
    }

    [Test]
    public async Task TenThousandSessionsOfOneUser_ExpiredByTime_LeaveNothingInTheIndex_AfterTheNextListing()
    {
        const int count = 10_000;
        // A patient database: ten thousand sign-ins on a busy test machine must not trip the 2-second default.
        var database = CreateDatabase(new RedisSessionOptions { TimeProvider = Time, OperationTimeout = TimeSpan.FromSeconds(30) });
        var manager = CreateManager(c => c.Database = database);
        for (var batch = 0; batch < count; batch += 100)
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => SignInAsync("alice", manager)));
        var index = database.UserIndexKeyOf("alice");
        (await Raw.SortedSetLengthAsync(index)).Should().Be(count);

        Time.Advance(IdleTimeout);

        (await manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
        (await Raw.SortedSetLengthAsync(index)).Should().Be(0);
        (await Raw.KeyExistsAsync(index)).Should().BeFalse();
    }
}
