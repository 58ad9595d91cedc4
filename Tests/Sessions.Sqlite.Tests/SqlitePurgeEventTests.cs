using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>The purge tells the manager about every session it deletes, so <c>Expired</c> is raised for each, by the hash of its ID.</summary>
public sealed class SqlitePurgeEventTests
{
    private TempDirectory _directory = null!;
    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = new TempDirectory();
        _time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    }

    [TearDown]
    public void TearDown() => _directory.Dispose();

    [Test]
    public async Task TimedPurge_RaisesExpiredOncePerPurgedSession_ByHash_AndNotForLiveOnes()
    {
        var options = new SqliteSessionDatabaseOptions { PurgeInterval = TimeSpan.FromMinutes(1), PurgeBatchSize = 2 }; // several batches
        using var database = new SqliteSessionDatabase(_directory.File("sessions.db"), options, _time);
        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = _time });
        var events = new List<SessionEventArgs>();
        manager.Destroyed += (_, e) =>
        {
            lock (events)
                events.Add(e);
        };
        var expiring = new List<string>();
        for (var i = 0; i < 5; i++)
            expiring.Add(await CreateAsync(manager));
        _time.Advance(TimeSpan.FromMinutes(20));
        var live = await CreateAsync(manager);

        _time.Advance(TimeSpan.FromMinutes(11)); // the first five are idle past their 30 minutes; the purge timer fires

        (await database.CountAsync(CancellationToken.None)).Should().Be(1);
        events.Should().HaveCount(5).And.OnlyContain(e => e.Reason == SessionEventReason.Expired && e.SessionId == null && !e.IsRemote,
            "the database stores only hashes: the purge cannot name the ID, and the purge is this process's own");
        events.Select(e => e.IdHash).Should().BeEquivalentTo(expiring.Select(SessionIds.HashText));
        events.Select(e => e.IdHash).Should().NotContain(SessionIds.HashText(live));

        events.Clear();
        database.PurgeExpired().Should().Be(0);
        events.Should().BeEmpty("a purged session is reported once");
    }

    [Test]
    public async Task ThrowingHandler_DoesNotStopThePurge()
    {
        var options = new SqliteSessionDatabaseOptions { PurgeInterval = TimeSpan.FromDays(1) };
        using var database = new SqliteSessionDatabase(_directory.File("sessions.db"), options, _time);
        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = _time });
        var calls = 0;
        manager.Destroyed += (_, _) =>
        {
            calls++;
            throw new InvalidOperationException("handler failure");
        };
        for (var i = 0; i < 3; i++)
            await CreateAsync(manager);
        _time.Advance(TimeSpan.FromMinutes(31));

        database.PurgeExpired().Should().Be(3);
        calls.Should().Be(3);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    private static async Task<string> CreateAsync(SessionManager manager)
    {
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("n", 1);
        await session.CommitAsync();
        return session.Id;
    }
}
