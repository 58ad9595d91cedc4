using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>Destroy, DestroyById, DestroyAll and the Destroyed event.</summary>
public class DestroyTests
{
    private static List<SessionEventArgs> Record(SessionManager manager)
    {
        var events = new List<SessionEventArgs>();
        manager.Destroyed += (_, e) =>
        {
            lock (events)
                events.Add(e);
        };
        return events;
    }

    [Test]
    public void Destroy_RemovesTheSession_RaisesDestroyedOnce_AndExpiresTheCookieWithTheSameAttributes()
    {
        using var manager = NewManager(configure: c => c.SameSite = CookieSameSite.Strict);
        var events = Record(manager);
        var first = EstablishedRequest(manager);
        first.IsHttps = true;
        var id = manager.Start(first).Id;
        var request = new TestCarrier(CookieHeader(id), isHttps: true);

        manager.Destroy(request).Should().BeTrue();

        events.Should().ContainSingle().Which.Should().BeEquivalentTo(new { SessionId = id, Reason = SessionEventReason.Destroyed });
        var deletion = request.Written.Should().ContainSingle().Subject;
        deletion.Name.Should().Be("sid");
        deletion.Value.Should().BeEmpty();
        deletion.Path.Should().Be("/");
        deletion.Domain.Should().BeNull();
        deletion.MaxAgeSeconds.Should().Be(0);
        deletion.IsDeletion.Should().BeTrue();
        deletion.Expires.Should().Be(DateTimeOffset.FromUnixTimeSeconds(0));
        deletion.HttpOnly.Should().BeTrue("unlike go-sessions, the deletion keeps the cookie's attributes");
        deletion.Secure.Should().BeTrue();
        deletion.SameSite.Should().Be(CookieSameSite.Strict);
        request.SetCookieHeaders.Single().Should().Be("sid=; expires=Thu, 01 Jan 1970 00:00:00 GMT; max-age=0; path=/; secure; samesite=strict; httponly");
        request.NoStore.Should().BeTrue();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void Destroy_WithoutACookie_WritesNothing_AndRaisesNothing()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var request = new TestCarrier();

        manager.Destroy(request).Should().BeFalse();

        request.Written.Should().BeEmpty();
        events.Should().BeEmpty();
    }

    [Test]
    public void Destroy_WithAnUnknownCookie_ExpiresThatCookie_ButRaisesNothing()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var request = new TestCarrier(CookieHeader(SessionIds.NewId()));

        manager.Destroy(request).Should().BeFalse();

        request.Written.Should().ContainSingle().Which.IsDeletion.Should().BeTrue();
        events.Should().BeEmpty();
    }

    [Test]
    public void Destroy_OfASessionCreatedInTheSameRequest_DeletesItAndItsCookie()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var request = EstablishedRequest(manager);

        manager.Destroy(request).Should().BeTrue();

        request.Written.Should().HaveCount(2);
        request.Written[1].IsDeletion.Should().BeTrue();
        events.Should().ContainSingle();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void Destroy_IsFinal_TheOldCookieReplayedLaterGetsAFreshSession_FixedDefect()
    {
        using var manager = NewManager();
        var first = EstablishedRequest(manager, "secret", 42);
        var oldCookie = first.NextRequest().CookieHeader;
        var id = manager.Start(first).Id;
        manager.Destroy(first.NextRequest());

        var replay = manager.Start(new TestCarrier(oldCookie));

        replay.Id.Should().NotBe(id);
        replay.Get("secret").Should().BeNull();
    }

    [Test]
    public void DestroyedSession_ReadsEmpty_AndWritesThrowInvalidOperationException_InItsOwnRequest()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager, "a", 1).NextRequest();
        var session = manager.Start(request);
        manager.Destroy(request);

        session.IsDestroyed.Should().BeTrue();
        session.Get("a").Should().BeNull();
        session.GetAll().Should().BeEmpty();
        session.Count.Should().Be(0);
        session.Delete("a").Should().BeFalse();
        session.Invoking(s => s.Set("b", 2)).Should().Throw<InvalidOperationException>().WithMessage("*destroyed*");
        session.Invoking(s => s.Increment("c")).Should().Throw<InvalidOperationException>();
        session.Invoking(s => s.SetFlash("f", 1)).Should().Throw<InvalidOperationException>();
        session.Invoking(s => s.Clear()).Should().Throw<InvalidOperationException>();
        manager.Destroy(request).Should().BeFalse("a second Destroy in the request is a no-op");
        request.Written.Should().ContainSingle();
    }

    [Test]
    public void DestroyById_ForAnUnknownOrMalformedId_ReturnsFalse_AndRaisesNothing()
    {
        var clock = NewClock();
        var database = new CountingDatabase(new MemorySessionDatabase(clock));
        using var manager = NewManager(clock, c => c.Database = database);
        var events = Record(manager);

        manager.DestroyById(SessionIds.NewId()).Should().BeFalse();
        manager.DestroyById("../../etc/passwd").Should().BeFalse();
        manager.DestroyById("*").Should().BeFalse();

        events.Should().BeEmpty();
        database.Destroys.Should().Be(1, "only the well-formed ID reaches the database");
        manager.Invoking(m => m.DestroyById(null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public void DestroyById_DeletesFromTheDatabase_WritesNoCookie_AndTheOldCookieThenGetsAFreshSession()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var first = EstablishedRequest(manager, "a", 1);
        var id = manager.Start(first).Id;

        manager.DestroyById(id).Should().BeTrue();

        events.Should().ContainSingle().Which.SessionId.Should().Be(id);
        var next = first.NextRequest();
        var session = manager.Start(next);
        session.Id.Should().NotBe(id);
        session.Get("a").Should().BeNull();
        next.Written.Should().BeEmpty();
    }

    [Test]
    public void DestroyById_ActsOnTheSharedDatabase_NotOnlyOnSessionsThisManagerStarted()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock);
        using var one = NewManager(clock, c => c.Database = database);
        using var other = NewManager(clock, c => c.Database = database);
        var id = one.Start(EstablishedRequest(one)).Id;

        other.DestroyById(id).Should().BeTrue();

        database.Count.Should().Be(0);
    }

    [Test]
    public void DestroyAll_DestroysEverySessionInTheDatabase_AndRaisesDestroyedOncePerSessionWithItsId_OurBehaviour()
    {
        var clock = NewClock();
        using var database = new MemorySessionDatabase(clock);
        using var one = NewManager(clock, c => c.Database = database);
        using var other = NewManager(clock, c => c.Database = database);
        var events = Record(one);
        var requests = Enumerable.Range(0, 3).Select(_ => EstablishedRequest(one)).ToList();
        requests.Add(EstablishedRequest(other)); // a session this manager never saw

        one.DestroyAll();

        database.Count.Should().Be(0);
        // The memory database keeps the IDs, so every session is named, including the one the other manager created.
        events.Select(e => e.Reason).Should().AllBeEquivalentTo(SessionEventReason.DestroyedAll);
        events.Select(e => e.SessionId).Should().BeEquivalentTo(requests.Select(r => r.Session!.Id));
        requests.Should().OnlyContain(r => r.Written.Count == 1, "DestroyAll writes no cookie");
        foreach (var request in requests)
            one.Start(request.NextRequest()).Get("k").Should().BeNull();
    }

    [Test]
    public async Task DestroyedHandler_ThatCallsBackIntoTheManager_DoesNotDeadlock()
    {
        using var manager = NewManager();
        var victim = manager.Start(EstablishedRequest(manager)).Id;
        var target = EstablishedRequest(manager).NextRequest();
        var calls = 0;
        manager.Destroyed += (_, e) =>
        {
            if (Interlocked.Increment(ref calls) > 1)
                return;
            manager.DestroyById(victim).Should().BeTrue();
            var other = new TestCarrier();
            manager.Start(other).Set("from-handler", 1);
            manager.DestroyAll();
        };

        var run = Task.Run(() => manager.Destroy(target));

        (await run.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
        calls.Should().Be(3, "the outer Destroy, the DestroyById and the DestroyAll each raise once");
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public async Task AsyncForms_DestroyAndDestroyByIdAndDestroyAll_Work()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();
        var other = manager.Start(EstablishedRequest(manager)).Id;
        EstablishedRequest(manager);

        (await manager.DestroyAsync(request)).Should().BeTrue();
        (await manager.DestroyByIdAsync(other)).Should().BeTrue();
        await manager.DestroyAllAsync();

        StoredSessions(manager).Should().Be(0);
    }
}
