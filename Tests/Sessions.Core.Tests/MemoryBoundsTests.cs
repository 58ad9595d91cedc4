using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Attacks on the memory database's size: a flood of cookieless first writes (one new session each), and one session
/// grown with large strings, objects or flashes. Every bound holds, and what a refused request gets is a
/// <see cref="SessionLimitExceededException"/> with nothing stored and no cookie.
/// </summary>
public class MemoryBoundsTests
{
    [Test]
    public async Task SessionFlood_ByDefault_StopsAtTheDefaultBound()
    {
        using var database = new MemorySessionDatabase(NewClock());
        var now = Epoch;
        for (var i = 0; i < MemorySessionDatabase.DefaultMaxSessions; i++)
            (await database.CommitAsync(SessionIds.NewId(), new SessionRecord(null, now.AddMinutes(30)), new SessionChanges { IsNew = true }, default)).Should().BeTrue();

        var act = async () => await database.CommitAsync(SessionIds.NewId(), new SessionRecord(null, now.AddMinutes(30)), new SessionChanges { IsNew = true }, default);

        await act.Should().ThrowAsync<SessionLimitExceededException>();
        database.Count.Should().Be(MemorySessionDatabase.DefaultMaxSessions);
        database.MaxSessions.Should().Be(100_000);
    }

    [Test]
    public void SessionFlood_OnTheManagersOwnDatabase_StopsAtSessionConfigMemoryMaxSessions()
    {
        using var manager = NewManager(configure: c => c.MemoryMaxSessions = 3);
        for (var i = 0; i < 3; i++)
            EstablishedRequest(manager);

        var request = new TestCarrier();
        manager.Start(request).Invoking(s => s.Set("k", 1)).Should().Throw<SessionLimitExceededException>().WithMessage("*3 sessions*");

        request.Written.Should().BeEmpty();
        ((MemorySessionDatabase)manager.Database).MaxSessions.Should().Be(3);
        new SessionConfig().MemoryMaxSessions.Should().Be(MemorySessionDatabase.DefaultMaxSessions);
    }

    [Test]
    public void SessionFlood_OfCookielessFirstWrites_StaysWithinTheBound_RefusesOnlyNewSessions_AndDrainsAfterExpiry()
    {
        const int bound = 1_000;
        const int requests = 100_000;
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock, maxSessions: bound);
        using var manager = NewManager(clock, c => c.Database = database);
        var accepted = new List<TestCarrier>();
        var refused = 0;
        var refusedWithCookie = 0;

        for (var i = 0; i < requests; i++)
        {
            var request = new TestCarrier(); // no cookie: every request is a first visit
            try
            {
                manager.Start(request).Increment("counter");
                accepted.Add(request);
            }
            catch (SessionLimitExceededException)
            {
                refused++;
                if (request.Written.Count > 0)
                    refusedWithCookie++;
            }
            database.Count.Should().BeLessThanOrEqualTo(bound);
        }

        accepted.Should().HaveCount(bound, "the first requests fill the bound");
        refused.Should().Be(requests - bound);
        refusedWithCookie.Should().Be(0, "a refused request gets no cookie naming a session that does not exist");
        database.Count.Should().Be(bound);

        // The sessions that exist keep working, reads and writes, at the bound.
        var returning = accepted[0].NextRequest();
        var existing = manager.Start(returning);
        existing.GetInt32("counter").Should().Be(1);
        existing.Increment("counter").Should().Be(2);
        existing.Set("more", "a new key of an existing session");
        manager.Start(accepted[^1].NextRequest()).GetInt32("counter").Should().Be(1);

        // Idle sessions expire; the sweep empties the database and new sessions are accepted again.
        clock.Advance(new SessionConfig().IdleTimeout + TimeSpan.FromMinutes(1));
        database.Count.Should().Be(0);
        manager.Start(new TestCarrier()).Increment("counter").Should().Be(1);
        database.Count.Should().Be(1);
    }

    [Test]
    public void StringFlood_CannotGrowAMemorySessionPastMaxPayloadBytes()
    {
        using var manager = NewManager(configure: c =>
        {
            c.MaxPayloadBytes = 10_000;
            c.MaxKeys = 10_000;
        });
        var session = manager.Start(new TestCarrier());
        var stored = 0;

        var act = () =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                session.Set("k" + i, new string('x', 1_000));
                stored++;
            }
        };

        act.Should().Throw<SessionLimitExceededException>().WithMessage("*MaxPayloadBytes (10000)*");
        stored.Should().BeInRange(1, 9);
        session.Count.Should().Be(stored, "the refused value was not stored");
        PayloadOf(session).Should().BeLessThanOrEqualTo(10_000);
    }

    [Test]
    public void FlashFlood_CannotGrowAMemorySessionPastMaxPayloadBytes()
    {
        using var manager = NewManager(configure: c => c.MaxKeys = 100_000);
        var request = EstablishedRequest(manager);
        var session = manager.Start(request.NextRequest());
        var flash = new string('f', 7 * 1024);
        var stored = 0;

        var act = () =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                session.SetFlash("flash" + i, flash);
                stored++;
            }
        };

        act.Should().Throw<SessionLimitExceededException>().WithMessage("*MaxPayloadBytes*");
        stored.Should().BeInRange(1, 9, "64 KB hold nine 7 KB flashes at most");
        PayloadOf(session).Should().BeLessThanOrEqualTo(new SessionConfig().MaxPayloadBytes);
    }

    [Test]
    public void ObjectFlood_IsCountedAsSerialised_AndRefusedPastMaxPayloadBytes()
    {
        using var manager = NewManager(configure: c => c.MaxPayloadBytes = 10_000);
        var session = manager.Start(new TestCarrier());
        var small = Enumerable.Range(0, 10).Select(i => "item" + i).ToList();
        var large = Enumerable.Range(0, 2_000).Select(i => "item" + i).ToList();

        session.Set("small", small);
        session.Invoking(s => s.Set("large", large)).Should().Throw<SessionLimitExceededException>();
        session.Invoking(s => s.SetImmutable("large", large)).Should().Throw<SessionLimitExceededException>();

        session.Get("small").Should().BeSameAs(small, "the memory database still keeps the live object");
        session.Get("large").Should().BeNull();
    }

    [Test]
    public void ReplacingDeletingAndConsumingFreeTheirBytes()
    {
        using var manager = NewManager(configure: c => c.MaxPayloadBytes = 10_000);
        var first = EstablishedRequest(manager);
        var session = manager.Start(first.NextRequest());
        var big = new string('x', 6_000);

        for (var i = 0; i < 100; i++)
            session.Set("same", big + i); // a replaced value no longer counts
        session.Invoking(s => s.Set("other", big)).Should().Throw<SessionLimitExceededException>();
        session.Delete("same").Should().BeTrue();
        session.Set("other", big);
        session.Invoking(s => s.SetFlash("note", big)).Should().Throw<SessionLimitExceededException>();
        session.Clear();
        session.SetFlash("note", big);

        var next = manager.Start(first.NextRequest());
        next.GetFlash("note").Should().Be(big);
        next.Set("after", big); // the consumed flash no longer counts
        next.Invoking(s => s.SetFlash("again", big)).Should().Throw<SessionLimitExceededException>();
        next.ClearFlashes();
        next.SetFlash("again", "small");
    }

    [Test]
    public void RenewedSession_KeepsCountingItsPayload()
    {
        using var manager = NewManager(configure: c => c.MaxPayloadBytes = 10_000);
        var first = EstablishedRequest(manager, "big", new string('x', 6_000));
        var request = first.NextRequest();
        manager.RenewId(request).Should().BeTrue();

        var renewed = manager.Start(request.NextRequest());
        renewed.GetString("big").Should().HaveLength(6_000);
        renewed.Invoking(s => s.Set("more", new string('y', 6_000))).Should().Throw<SessionLimitExceededException>();
    }

    private static long PayloadOf(Session session)
    {
        var record = session.Record;
        long total = 0;
        foreach (var value in record.Values)
            total += SessionValueCodec.PayloadSize(value.Key, SessionValueCodec.Encode(value.Key, value.Value));
        foreach (var flash in record.Flashes)
            total += SessionValueCodec.PayloadSize(flash.Key, SessionValueCodec.EncodeFlash(flash.Key, flash.Value));
        return total;
    }
}
