using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// A request carrying several candidate session cookies is loaded with one <see cref="ISessionBatchLoader.LoadManyAsync"/>
/// call when the database can batch, and with one <see cref="ISessionDatabase.LoadAsync"/> when it carries one; the
/// outcome and the counters are the same as on the one-by-one path of a database that cannot batch.
/// </summary>
public class BatchLoadTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);

    /// <summary>A well-formed ID no session has.</summary>
    private static string Unknown(char c) => new(c, SessionIds.MinLength + 10);

    /// <summary>The same database without the batch capability: every call forwarded, so the manager loads one by one.</summary>
    private sealed class OneByOne(CopyingMemoryDatabase inner) : ISessionDatabase
    {
        public bool SharesRecords => inner.SharesRecords;

        public bool CompletesSynchronously => inner.CompletesSynchronously;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => inner.LoadAsync(id, cancellationToken);

        public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken) =>
            inner.CommitAsync(id, record, changes, cancellationToken);

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => inner.RenewAsync(id, newId, cancellationToken);

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => inner.DestroyAsync(id, cancellationToken);

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => inner.DestroyAllAsync(cancellationToken);
    }

    private static SessionManager Manager(FakeTimeProvider clock, ISessionDatabase database) =>
        NewManager(clock, c =>
        {
            c.Database = database;
            c.IdleTimeout = Idle;
        });

    private static async Task<string> CreateAsync(SessionManager manager, string value)
    {
        var request = new TestCarrier();
        (await manager.StartAsync(request)).Set("k", value);
        await manager.CommitAsync(request);
        return LastCookie(request).Value;
    }

    private static string Header(params string[] ids) => string.Join("; ", ids.Select(id => CookieHeader(id)));

    [TestCase(false)]
    [TestCase(true)]
    public async Task One_candidate_is_loaded_with_LoadAsync_not_LoadManyAsync(bool asynchronous)
    {
        var database = new CopyingMemoryDatabase(asynchronous);
        using var manager = Manager(NewClock(), database);
        var live = await CreateAsync(manager, "v");
        var loads = database.Loads;

        (await manager.StartAsync(new TestCarrier(Header(live)))).GetString("k").Should().Be("v");
        (await manager.StartAsync(new TestCarrier(Header(Unknown('A'))))).IsNew.Should().BeTrue();
        (await manager.StartAsync(new TestCarrier())).IsNew.Should().BeTrue();

        database.BatchLoads.Should().Be(0);
        (database.Loads - loads).Should().Be(2);
        manager.Counters.Unknown.Should().Be(1);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Eight_decoys_and_the_real_cookie_are_loaded_with_one_LoadManyAsync_call(bool asynchronous)
    {
        var database = new CopyingMemoryDatabase(asynchronous);
        using var manager = Manager(NewClock(), database);
        var live = await CreateAsync(manager, "v");
        var decoys = "ABCDEFGH".Select(Unknown).ToArray();
        var loads = database.Loads;

        // At most MaxCookieLookups candidates are read: the eight decoys fill the cap and the real cookie is never tried.
        (await manager.StartAsync(new TestCarrier(Header([.. decoys, live])))).IsNew.Should().BeTrue();
        database.BatchLoads.Should().Be(1);
        (database.Loads - loads).Should().Be(SessionManager.MaxCookieLookups);
        manager.Counters.Unknown.Should().Be(SessionManager.MaxCookieLookups);

        // Seven decoys and the real cookie: one call for all eight, and the real one wins.
        (await manager.StartAsync(new TestCarrier(Header([.. decoys[..7], live])))).GetString("k").Should().Be("v");
        database.BatchLoads.Should().Be(2);
        (database.Loads - loads).Should().Be(2 * SessionManager.MaxCookieLookups);
        manager.Counters.Unknown.Should().Be(SessionManager.MaxCookieLookups + 7);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task The_outcome_and_counters_match_the_one_by_one_path(bool batching)
    {
        var clock = NewClock();
        var database = new CopyingMemoryDatabase();
        using var manager = Manager(clock, batching ? database : new OneByOne(database));
        var expired = await CreateAsync(manager, "old");
        clock.Advance(Idle + TimeSpan.FromSeconds(1));
        var first = await CreateAsync(manager, "first");
        var second = await CreateAsync(manager, "second");
        var ended = new List<string>();
        manager.Destroyed += (_, e) => ended.Add($"{e.Reason}:{e.SessionId}");

        var session = await manager.StartAsync(new TestCarrier(Header(Unknown('A'), expired, Unknown('B'), first, second, Unknown('C'))));

        session.GetString("k").Should().Be("first", "the first live candidate wins");
        manager.Counters.Unknown.Should().Be(2, "the unknown candidates before the winner are counted, none after it");
        manager.Counters.Expired.Should().Be(1);
        ended.Should().Equal($"Expired:{expired}");
        (await database.LoadAsync(expired, CancellationToken.None)).Should().BeNull("the expired candidate is destroyed");
        (await database.LoadAsync(second, CancellationToken.None)).Should().NotBeNull("a live candidate after the winner is left alone");
        database.BatchLoads.Should().Be(batching ? 1 : 0);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task No_live_candidate_gives_a_new_session_with_the_same_counts_on_both_paths(bool batching)
    {
        var clock = NewClock();
        var database = new CopyingMemoryDatabase(asynchronous: true);
        using var manager = Manager(clock, batching ? database : new OneByOne(database));
        var expired = await CreateAsync(manager, "old");
        clock.Advance(Idle + TimeSpan.FromSeconds(1));

        var session = await manager.StartAsync(new TestCarrier(Header(expired, Unknown('A'), expired, Unknown('B'))));

        session.IsNew.Should().BeTrue();
        session.Id.Should().NotBe(expired);
        manager.Counters.Unknown.Should().Be(2);
        manager.Counters.Expired.Should().Be(1, "a repeated value is one candidate");
        database.Count.Should().Be(0);
        database.BatchLoads.Should().Be(batching ? 1 : 0);
    }
}
