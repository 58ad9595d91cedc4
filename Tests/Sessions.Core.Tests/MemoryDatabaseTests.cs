using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>The memory database: the periodic sweeper (no timer per session), the optional session bound, and its events.</summary>
public class MemoryDatabaseTests
{
    private static SessionRecord Record(DateTimeOffset idleDeadline, DateTimeOffset? absolute = null) => new(absolute, idleDeadline);

    private static SessionChanges Create(SessionRecord record) => SessionChanges.CreateFrom(record);

    private static async Task Add(MemorySessionDatabase database, string id, SessionRecord record) =>
        (await database.CommitAsync(id, record, Create(record), default)).Should().BeTrue();

    [Test]
    public async Task Sweep_RemovesOnlyExpiredSessions_AndReportsEachOnce()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock, sweepInterval: TimeSpan.FromMinutes(1));
        var expired = new List<string>();
        database.SessionExpired += expired.Add;
        var soon = SessionIds.NewId();
        var later = SessionIds.NewId();
        var absolute = SessionIds.NewId();
        await Add(database, soon, Record(Epoch.AddMinutes(5)));
        await Add(database, later, Record(Epoch.AddMinutes(30)));
        await Add(database, absolute, Record(Epoch.AddHours(1), Epoch.AddMinutes(3)));

        clock.Advance(TimeSpan.FromMinutes(2));
        expired.Should().BeEmpty();
        clock.Advance(TimeSpan.FromMinutes(4));

        expired.Should().BeEquivalentTo(absolute, soon);
        database.Count.Should().Be(1);
        (await database.LoadAsync(later, default)).Should().NotBeNull();
        (await database.LoadAsync(soon, default)).Should().BeNull();
        (await database.CountAsync(default)).Should().Be(1);
    }

    [Test]
    public async Task Sweep_RunsOnTheConfiguredInterval_NotBefore()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock, sweepInterval: TimeSpan.FromMinutes(10));
        var id = SessionIds.NewId();
        await Add(database, id, Record(Epoch.AddMinutes(1)));

        clock.Advance(TimeSpan.FromMinutes(9));
        database.Count.Should().Be(1, "the record is expired but no sweep ran yet");
        clock.Advance(TimeSpan.FromMinutes(1));
        database.Count.Should().Be(0);
    }

    [Test]
    public async Task Sweep_WithAThrowingHandler_StillRemovesEveryExpiredSession_AndKeepsRunning()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock);
        var seen = 0;
        database.SessionExpired += _ =>
        {
            Interlocked.Increment(ref seen);
            throw new InvalidOperationException("handler failure");
        };
        for (var i = 0; i < 3; i++)
            await Add(database, SessionIds.NewId(), Record(Epoch.AddMinutes(1)));

        clock.Advance(TimeSpan.FromMinutes(2));
        await Add(database, SessionIds.NewId(), Record(clock.GetUtcNow().AddMinutes(1)));
        clock.Advance(TimeSpan.FromMinutes(2));

        seen.Should().Be(4);
        database.Count.Should().Be(0);
    }

    [Test]
    public async Task Dispose_StopsTheSweeper()
    {
        var clock = NewClock();
        var database = new MemorySessionDatabase(clock);
        var expired = 0;
        database.SessionExpired += _ => expired++;
        await Add(database, SessionIds.NewId(), Record(Epoch.AddMinutes(1)));

        database.Dispose();
        clock.Advance(TimeSpan.FromMinutes(5));

        expired.Should().Be(0);
        database.Count.Should().Be(1);
    }

    [Test]
    public void ManagerDispose_StopsTheSweeperOfTheDatabaseItCreated()
    {
        var clock = NewClock();
        var manager = NewManager(clock, c => c.Expires = TimeSpan.FromMinutes(1));
        var events = 0;
        manager.Destroyed += (_, _) => events++;
        EstablishedRequest(manager);

        manager.Dispose();
        clock.Advance(TimeSpan.FromMinutes(5));

        events.Should().Be(0);
    }

    [Test]
    public void MaxSessions_ANewSessionBeyondItFailsWithATypedError_AndLeavesNoCookieAndNoState()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock, maxSessions: 2);
        using var manager = NewManager(clock, c => c.Database = database);
        var created = 0;
        manager.Created += (_, _) => created++;
        var first = EstablishedRequest(manager);
        EstablishedRequest(manager);

        var request = new TestCarrier();
        var session = manager.Start(request);
        session.Invoking(s => s.Set("k", 1)).Should().Throw<SessionLimitExceededException>();

        request.Written.Should().BeEmpty("no cookie for a session that was not stored");
        session.IsNew.Should().BeTrue();
        database.Count.Should().Be(2);
        created.Should().Be(2);

        // Existing sessions keep working, and a slot freed by Destroy can be used again.
        var again = first.NextRequest();
        manager.Start(again).Set("more", 1);
        manager.Destroy(again);
        session.Set("k", 1);
        request.Written.Should().ContainSingle();
        database.Count.Should().Be(2);
    }

    [Test]
    public async Task MaxSessions_IsNeverExceededUnderConcurrentCreation()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock, maxSessions: 10);
        using var manager = NewManager(clock, c => c.Database = database);
        var succeeded = 0;
        var refused = 0;

        await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() =>
        {
            try
            {
                manager.Start(new TestCarrier()).Set("k", 1);
                Interlocked.Increment(ref succeeded);
            }
            catch (SessionLimitExceededException)
            {
                Interlocked.Increment(ref refused);
            }
        })));

        succeeded.Should().Be(10);
        refused.Should().Be(90);
        database.Count.Should().Be(10);
    }

    [Test]
    public async Task CommitOfANewSession_WithAnIdInUse_ReturnsFalse_AndKeepsTheStoredRecord()
    {
        using var database = new MemorySessionDatabase(NewClock());
        var id = SessionIds.NewId();
        var original = Record(Epoch.AddHours(1));
        original.SetValue("who", new SessionValue("original", false));
        await Add(database, id, original);

        var intruder = Record(Epoch.AddHours(1));
        (await database.CommitAsync(id, intruder, Create(intruder), default)).Should().BeFalse();

        (await database.LoadAsync(id, default)).Should().BeSameAs(original);
        database.Count.Should().Be(1);
    }

    [Test]
    public async Task Destroy_EndsTheSharedRecord_SoRequestsStillHoldingItSeeAnEmptySession()
    {
        using var database = new MemorySessionDatabase(NewClock());
        var id = SessionIds.NewId();
        var record = Record(Epoch.AddHours(1));
        record.SetValue("a", new SessionValue(1, false));
        await Add(database, id, record);

        (await database.DestroyAsync(id, default)).Should().BeTrue();
        (await database.DestroyAsync(id, default)).Should().BeFalse();

        record.IsEnded.Should().BeTrue();
        record.Count.Should().Be(0);
        database.Count.Should().Be(0);
        (await database.UpdateExpirationAsync(id, null, Epoch, default)).Should().BeFalse();
    }

    [Test]
    public async Task CommitAfterDestroy_DoesNotResurrectTheSession()
    {
        using var database = new MemorySessionDatabase(NewClock());
        var id = SessionIds.NewId();
        var record = Record(Epoch.AddHours(1));
        await Add(database, id, record);
        await database.DestroyAsync(id, default);

        var changes = new SessionChanges();
        (await database.CommitAsync(id, record.Copy(), changes, default)).Should().BeFalse();

        (await database.LoadAsync(id, default)).Should().BeNull();
    }

    [Test]
    public async Task DestroyAll_EmptiesTheDatabase()
    {
        using var database = new MemorySessionDatabase(NewClock());
        for (var i = 0; i < 5; i++)
            await Add(database, SessionIds.NewId(), Record(Epoch.AddHours(1)));

        await database.DestroyAllAsync(default);

        database.Count.Should().Be(0);
    }

    [Test]
    public void Constructor_RejectsANonPositiveBoundOrInterval()
    {
        var act1 = () => new MemorySessionDatabase(maxSessions: 0);
        var act2 = () => new MemorySessionDatabase(sweepInterval: TimeSpan.Zero);
        var act3 = () => new MemorySessionDatabase(sweepInterval: TimeSpan.FromSeconds(-1));

        act1.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxSessions");
        act2.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sweepInterval");
        act3.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("sweepInterval");
    }

    [Test]
    public void SharesRecords_IsTrue_SoValuesStayLiveObjects()
    {
        using var database = new MemorySessionDatabase(NewClock());
        database.SharesRecords.Should().BeTrue();
    }

    [Test]
    public void UseDatabase_SwapsTheBackend_AndMovesTheExpiryEventSubscription()
    {
        var clock = NewClock();
        using var first = new MemorySessionDatabase(clock);
        using var second = new MemorySessionDatabase(clock);
        using var manager = NewManager(clock, c =>
        {
            c.Database = first;
            c.Expires = TimeSpan.FromMinutes(1);
        });
        var expired = new List<string?>();
        manager.Destroyed += (_, e) => expired.Add(e.SessionId);
        EstablishedRequest(manager);

        manager.UseDatabase(second);
        var id = manager.Start(EstablishedRequest(manager)).Id;
        clock.Advance(TimeSpan.FromMinutes(2));

        manager.Database.Should().BeSameAs(second);
        second.Count.Should().Be(0);
        first.Count.Should().Be(0);
        expired.Should().Equal(id);
        manager.Invoking(m => m.UseDatabase(null!)).Should().Throw<ArgumentNullException>();
    }
}
