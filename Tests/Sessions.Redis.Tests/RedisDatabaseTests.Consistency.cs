using System.Globalization;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <summary>
/// Races between requests of one session, renew, destroy and create retries, on every server kind: what a commit
/// writes is only what its request changed (deadlines included), renew moves the session as Redis holds it, and nothing a
/// destroy or renew removed comes back.
/// </summary>
public abstract partial class RedisDatabaseTests
{
    private static readonly TimeSpan Slack = new RedisSessionOptions().ExpirySlack;

    // ----- deadlines: a commit writes only those its request moved ---------------------------------------------------

    [Test]
    public async Task CommitOfAValue_AfterAnotherRequestShortenedTheAbsoluteDeadline_KeepsTheShortenedDeadlineAndExpiry()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(IdleTimeout / 5); // request A's load moves the idle deadline
        var a = await LoadAsync(id);

        // Request B shortens the absolute deadline after A loaded the session.
        var loaded = await Database.LoadAsync(id, CancellationToken.None);
        var shortened = Time.GetUtcNow() + TimeSpan.FromMinutes(10);
        (await Database.UpdateExpirationAsync(id, shortened, loaded!.IdleDeadline, CancellationToken.None)).Should().BeTrue();

        a.Set("cart", "book");
        await a.CommitAsync();

        var stored = await Database.LoadAsync(id, CancellationToken.None);
        stored!.AbsoluteDeadline.Should().Be(shortened, "A never moved the absolute deadline, so B's stays");
        stored.IdleDeadline.Should().Be(Time.GetUtcNow() + IdleTimeout, "A moved the idle deadline");
        stored.TryGetValue("cart", out _).Should().BeTrue();
        (await ExpiryOfAsync(id)).Should().Be(shortened.ToUnixTimeMilliseconds() + (long)Slack.TotalMilliseconds, "the key expires at the earlier stored deadline");
    }

    [Test]
    public async Task CommitThatMovesNoDeadline_LeavesBothStoredDeadlinesAndTheExpiry()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var a = await LoadAsync(id);
        var absolute = Time.GetUtcNow() + TimeSpan.FromMinutes(50);
        var idle = Time.GetUtcNow() + TimeSpan.FromMinutes(7);
        (await Database.UpdateExpirationAsync(id, absolute, idle, CancellationToken.None)).Should().BeTrue();
        var expiry = await ExpiryOfAsync(id);

        a.Set("cart", "book");
        a.Delete("name");
        await a.CommitAsync();

        var stored = await Database.LoadAsync(id, CancellationToken.None);
        stored!.AbsoluteDeadline.Should().Be(absolute);
        stored.IdleDeadline.Should().Be(idle);
        stored.Values.ToArray().Select(v => v.Key).Should().Equal("cart");
        (await ExpiryOfAsync(id)).Should().Be(expiry).And.Be(idle.ToUnixTimeMilliseconds() + (long)Slack.TotalMilliseconds);
    }

    [Test]
    public async Task StaleRequest_MovingOnlyTheIdleDeadline_DoesNotRestoreARemovedAbsoluteDeadline()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        Time.Advance(IdleTimeout / 5);
        var a = await LoadAsync(id); // moves the idle deadline only
        var idle = Time.GetUtcNow() + TimeSpan.FromMinutes(3);
        (await Database.UpdateExpirationAsync(id, null, idle, CancellationToken.None)).Should().BeTrue();

        await a.CommitAsync();

        var stored = await Database.LoadAsync(id, CancellationToken.None);
        stored!.AbsoluteDeadline.Should().BeNull();
        stored.IdleDeadline.Should().Be(Time.GetUtcNow() + IdleTimeout);
        (await ExpiryOfAsync(id)).Should().Be(stored.IdleDeadline.ToUnixTimeMilliseconds() + (long)Slack.TotalMilliseconds);
    }

    [Test]
    public async Task ChangeSetWithNothingToWrite_ReportsWhetherTheSessionExists_AndWritesNothing()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var record = await Database.LoadAsync(id, CancellationToken.None);
        var before = await Raw.HashGetAllAsync(Redis.KeyOf(id));

        (await Database.CommitAsync(id, record!, new SessionChanges(), CancellationToken.None)).Should().BeTrue();
        (await Raw.HashGetAllAsync(Redis.KeyOf(id))).Should().BeEquivalentTo(before);

        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();
        (await Database.CommitAsync(id, record!, new SessionChanges(), CancellationToken.None)).Should().BeFalse();
        (await Raw.KeyExistsAsync(Redis.KeyOf(id))).Should().BeFalse();
    }

    // ----- renew ------------------------------------------------------------------------------------------------------

    [Test]
    public async Task RenewAsync_MovesTheSessionAsStoredNow_NotAsARequestLoadedIt()
    {
        var recording = new RecordingDatabase(Database);
        var manager = CreateManager(c => c.Database = recording);
        var oldId = await CreateSessionOnAsync(manager, s =>
        {
            s.Set("cart", "book");
            s.Set("user", "iris");
        });
        var late = await manager.StartAsync(Request(oldId));
        late.IsNew.Should().BeFalse();
        await RequestAsync(oldId, s => s.Delete("cart").Should().BeTrue()); // another request deletes cart meanwhile
        var newId = SessionIds.NewId();

        (await Database.RenewAsync(oldId, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);

        var moved = await Database.LoadAsync(newId, CancellationToken.None);
        moved!.Values.ToArray().Select(v => (v.Key, v.Value.Value?.ToString())).Should().Equal(("user", "iris"));
        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        recording.Commits.Clear();
        late.Set("late", "write");
        await late.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionEndedException>();
        recording.Commits.Should().ContainSingle().Which.Stored.Should().BeFalse("the old ID names no session after a renew");
        (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(newId, CancellationToken.None))!.TryGetValue("late", out _).Should().BeFalse();
    }

    [Test]
    public async Task RenewAsync_RacingACommitThatDeletesAKey_NeverAcknowledgesTheDeleteAndMovesTheKey()
    {
        const int iterations = 50;
        var recording = new RecordingDatabase(Database);
        var deleters = CreateManager(c => c.Database = recording);
        var renewers = CreateManager();
        var acknowledged = 0;
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            var i = iteration;
            var oldId = await CreateSessionAsync(s =>
            {
                s.Set("cart", i);
                s.Set("user", "iris");
            });
            var deleting = await deleters.StartAsync(Request(oldId));
            deleting.IsNew.Should().BeFalse();
            deleting.Delete("cart").Should().BeTrue();
            recording.Commits.Clear();
            var renewing = Request(oldId);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var renew = Task.Run(async () =>
            {
                await gate.Task;
                return await renewers.RenewIdAsync(renewing);
            });
            var commit = Task.Run(async () =>
            {
                await gate.Task;
                // Zero to two round trips first (the renew makes one, its load, before it takes the session), so both
                // orders come up over the iterations rather than the one the pipeline happens to favour.
                for (var p = 0; p < i % 3; p++)
                    await Raw.PingAsync();
                try
                {
                    await deleting.CommitAsync();
                }
                catch (SessionEndedException)
                {
                    // The renew ran first: the delete's commit found no session and said so (recorded as not stored).
                }
            });
            gate.SetResult();
            await Task.WhenAll(renew, commit);

            (await renew).Should().BeTrue();
            var newId = renewing.Written.Should().ContainSingle().Subject.Value;
            var deleted = recording.Commits.Should().ContainSingle().Subject.Stored;
            var moved = await Database.LoadAsync(newId, CancellationToken.None);
            moved!.TryGetValue("user", out _).Should().BeTrue();
            // Either the delete ran first (acknowledged, and cart did not move) or the renew did (the delete found no session).
            moved.TryGetValue("cart", out _).Should().Be(!deleted, "iteration {0}: delete acknowledged = {1}", i, deleted);
            (await Database.LoadAsync(oldId, CancellationToken.None)).Should().BeNull();
            if (deleted)
                acknowledged++;
        }
        await TestContext.Out.WriteLineAsync($"{Target.Name}: the delete ran first in {acknowledged} of {iterations} races");
    }

    [Test]
    public async Task RenewAsync_KeepsTheDeadlinesAndExpiry_AndDropsTheCreationToken()
    {
        var oldId = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.SetFlash("notice", "saved");
        });
        var absolute = Time.GetUtcNow() + TimeSpan.FromMinutes(40);
        var idle = Time.GetUtcNow() + TimeSpan.FromMinutes(20);
        (await Database.UpdateExpirationAsync(oldId, absolute, idle, CancellationToken.None)).Should().BeTrue();
        var expiry = await ExpiryOfAsync(oldId);
        (await Raw.HashExistsAsync(Redis.KeyOf(oldId), "#c")).Should().BeTrue();
        var newId = SessionIds.NewId();

        (await Database.RenewAsync(oldId, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);

        var moved = await Database.LoadAsync(newId, CancellationToken.None);
        moved!.AbsoluteDeadline.Should().Be(absolute);
        moved.IdleDeadline.Should().Be(idle);
        moved.Flashes.ToArray().Select(f => f.Key).Should().Equal("notice");
        (await ExpiryOfAsync(newId)).Should().Be(expiry);
        (await Raw.HashExistsAsync(Redis.KeyOf(newId), "#c")).Should().BeFalse();
        (await Raw.KeyExistsAsync(Redis.KeyOf(oldId))).Should().BeFalse();
        (await Database.RenewAsync(oldId, SessionIds.NewId(), CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);
    }

    [Test]
    public async Task RenewAsync_ToAnIdInUse_ChangesNothing_AndTheOldSessionKeepsWorking()
    {
        var oldId = await CreateSessionAsync(s => s.Set("owner", "old"));
        var takenId = await CreateSessionAsync(s => s.Set("owner", "taken"));
        var oldBefore = await Raw.HashGetAllAsync(Redis.KeyOf(oldId));
        var takenBefore = await Raw.HashGetAllAsync(Redis.KeyOf(takenId));
        var expiry = await ExpiryOfAsync(oldId);

        (await Database.RenewAsync(oldId, takenId, CancellationToken.None)).Should().Be(SessionRenewResult.IdInUse);
        (await Database.RenewAsync(oldId, oldId, CancellationToken.None)).Should().Be(SessionRenewResult.IdInUse);

        (await Raw.HashGetAllAsync(Redis.KeyOf(oldId))).Should().BeEquivalentTo(oldBefore);
        (await Raw.HashGetAllAsync(Redis.KeyOf(takenId))).Should().BeEquivalentTo(takenBefore);
        (await ExpiryOfAsync(oldId)).Should().Be(expiry);
        (await Raw.KeyExistsAsync(RedisSessionDatabase.EndedKeyOf(Redis.KeyOf(oldId)))).Should().BeFalse("a restored session has no end marker");
        await RequestAsync(oldId, s => s.Set("after", "failed renew"));
        (await LoadAsync(oldId)).GetString("after").Should().Be("failed renew");
        (await Manager.StartAsync(Request(takenId))).GetString("owner").Should().Be("taken");
    }

    [Test]
    public async Task RenewAsync_UnknownId_IsNotFound_AndCreatesNothing()
    {
        var newId = SessionIds.NewId();
        (await Database.RenewAsync(SessionIds.NewId(), newId, CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);
        Target.AllKeys().Where(k => k.StartsWith(Prefix, StringComparison.Ordinal)).Should().BeEmpty();
    }

    // ----- concurrent deletes and sets --------------------------------------------------------------------------------

    [Test]
    public async Task ConcurrentDeleteAndSet_OfDifferentKeys_BothSurvive()
    {
        for (var i = 0; i < 20; i++)
        {
            var id = await CreateSessionAsync(s =>
            {
                s.Set("keep", i);
                s.Set("x", "doomed");
            });
            var deleting = await LoadAsync(id);
            var setting = await LoadAsync(id);
            deleting.Delete("x").Should().BeTrue();
            setting.Set("y", i);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var commits = new[] { deleting, setting }.Select(session => Task.Run(async () =>
            {
                await gate.Task;
                await session.CommitAsync();
            })).ToArray();
            gate.SetResult();
            await Task.WhenAll(commits);

            var all = (await LoadAsync(id)).GetAll();
            all.Keys.Should().Equal(["keep", "y"], "iteration {0}", i);
            all["y"].Should().Be(i);
        }
    }

    // ----- create retries ---------------------------------------------------------------------------------------------

    [Test]
    public async Task CreateRetried_WithTheSameChangeSet_IsItsOwn_AndAnotherTokenIsRefused()
    {
        var id = SessionIds.NewId();
        var record = NewRecord("iris");
        var create = SessionChanges.CreateFrom(record);

        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();
        // The reply was lost: the caller retries the very change set, and Redis recognises its token.
        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();
        (await Raw.HashGetAsync(Redis.KeyOf(id), "#c")).Should().Be(create.Token.ToString("N"));

        var other = NewRecord("mallory");
        (await Database.CommitAsync(id, other, SessionChanges.CreateFrom(other), CancellationToken.None)).Should().BeFalse();

        var stored = await Database.LoadAsync(id, CancellationToken.None);
        stored!.Values.ToArray().Select(v => (v.Key, v.Value.Value?.ToString())).Should().Equal(("name", "iris"));
    }

    [Test]
    public async Task CreateRetried_AfterADestroy_DoesNotBringTheSessionBack()
    {
        var id = SessionIds.NewId();
        var record = NewRecord("iris");
        var create = SessionChanges.CreateFrom(record);
        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();

        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();
        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeFalse();

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Raw.KeyExistsAsync(Redis.KeyOf(id))).Should().BeFalse();
        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeFalse();
        (await Redis.CountAsync(CancellationToken.None)).Should().Be(0, "the end marker is not a session");
    }

    [Test]
    public async Task CreateRetried_AfterARenew_DoesNotBringTheOldIdBack()
    {
        var id = SessionIds.NewId();
        var record = NewRecord("iris");
        var create = SessionChanges.CreateFrom(record);
        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();
        var newId = SessionIds.NewId();
        (await Database.RenewAsync(id, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);

        (await Database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeFalse();

        (await Database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await Database.LoadAsync(newId, CancellationToken.None)).Should().NotBeNull();
    }

    [Test]
    public async Task EndMarker_ExpiresWithTheSession()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var ttl = await Raw.KeyTimeToLiveAsync(Redis.KeyOf(id));

        (await Database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();

        var markerTtl = await Raw.KeyTimeToLiveAsync(RedisSessionDatabase.EndedKeyOf(Redis.KeyOf(id)));
        markerTtl.Should().NotBeNull();
        markerTtl!.Value.Should().BeGreaterThan(TimeSpan.Zero).And.BeLessThanOrEqualTo(ttl!.Value);
    }

    // ----- payload size -----------------------------------------------------------------------------------------------

    [Test]
    public async Task StoredSize_IsThePayloadSizeOfEveryValueAndFlash_ThroughSetsReplacesDeletesAndClears()
    {
        var expected = new Dictionary<string, long>();
        void Value(string key, object value) => expected["v" + key] = SessionValueCodec.PayloadSize(key, SessionValueCodec.Encode(key, new SessionValue(value, false)));
        void Flash(string key, object value) => expected["f" + key] = SessionValueCodec.PayloadSize(key, SessionValueCodec.EncodeFlash(key, value));

        var id = await CreateSessionAsync(s =>
        {
            s.Set("name", "iris");
            s.Set("ключ", "значение é");
            s.Set("n", 12345);
            s.SetFlash("notice", "saved");
        });
        Value("name", "iris");
        Value("ключ", "значение é");
        Value("n", 12345);
        Flash("notice", "saved");
        await StoredSizeShouldBeAsync(id, expected);

        await RequestAsync(id, s =>
        {
            s.Set("name", "a much longer name than before");
            s.Delete("n");
            s.SetFlash("other", 1);
        });
        Value("name", "a much longer name than before");
        expected.Remove("vn");
        Flash("other", 1);
        await StoredSizeShouldBeAsync(id, expected);

        await RequestAsync(id, s =>
        {
            s.Clear();
            s.Set("after", true);
            s.GetFlash("notice");
        });
        foreach (var key in expected.Keys.Where(k => k[0] == 'v').ToList())
            expected.Remove(key);
        Value("after", true);
        expected.Remove("fnotice");
        await StoredSizeShouldBeAsync(id, expected);
    }

    [Test]
    public async Task PayloadLimit_IsExact_AndCountsTheMergedSession()
    {
        var a = new string('a', 300);
        var b = new string('b', 200);
        var limit = (int)(SessionValueCodec.PayloadSize("a", SessionValueCodec.Encode("a", new SessionValue(a, false)))
            + SessionValueCodec.PayloadSize("b", SessionValueCodec.Encode("b", new SessionValue(b, false))));
        var manager = CreateManager(c => c.MaxPayloadBytes = limit);
        var id = await CreateSessionOnAsync(manager, s => s.Set("a", a));

        var exact = await manager.StartAsync(Request(id));
        exact.Set("b", b);
        await exact.CommitAsync(); // exactly at the limit

        var over = await manager.StartAsync(Request(id));
        over.Set("b", b + "b"); // one byte more: under the limit alone, over it merged with the stored "a"
        await over.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>().WithMessage($"*{limit}*");

        var shrinking = await manager.StartAsync(Request(id));
        shrinking.Set("b", "short");
        await shrinking.CommitAsync();
        (await LoadAsync(id)).GetString("b").Should().Be("short");
    }

    // ----- helpers ----------------------------------------------------------------------------------------------------

    private SessionRecord NewRecord(string name)
    {
        var now = Time.GetUtcNow();
        var record = new SessionRecord(now + Expires, now + IdleTimeout);
        record.SetValue("name", new SessionValue(name, false));
        return record;
    }

    /// <summary>When Redis will drop the session's key, in Unix milliseconds (<c>PEXPIRETIME</c>).</summary>
    private async Task<long> ExpiryOfAsync(string id)
    {
        var result = await Raw.ExecuteAsync("PEXPIRETIME", (RedisKey)Redis.KeyOf(id));
        return (long)result;
    }

    private async Task StoredSizeShouldBeAsync(string id, Dictionary<string, long> expected)
    {
        var fields = (await Raw.HashGetAllAsync(Redis.KeyOf(id))).Select(e => (string)e.Name!).Where(n => n[0] != '#');
        fields.Should().BeEquivalentTo(expected.Keys);
        var stored = (string?)await Raw.HashGetAsync(Redis.KeyOf(id), "#s");
        long.Parse(stored!, CultureInfo.InvariantCulture).Should().Be(expected.Values.Sum());
    }
}
