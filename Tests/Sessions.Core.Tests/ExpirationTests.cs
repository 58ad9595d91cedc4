using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>Server-side expiry, idle timeout, UpdateExpiration and ShiftExpiration (fake clock only).</summary>
public class ExpirationTests
{
    private static (SessionManager Manager, FakeTimeProvider Clock, List<SessionEventArgs> Events) Build(Action<SessionConfig>? configure = null)
    {
        var clock = NewClock();
        var manager = NewManager(clock, configure);
        var events = new List<SessionEventArgs>();
        manager.Destroyed += (_, e) =>
        {
            lock (events)
                events.Add(e);
        };
        return (manager, clock, events);
    }

    [Test]
    public void AbsoluteExpiry_EndsTheSessionAfterExpires_RegardlessOfActivity_AndRaisesExpiredOnce()
    {
        var (manager, clock, events) = Build(c =>
        {
            c.Expires = TimeSpan.FromHours(1);
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        using var _ = manager;
        var request = EstablishedRequest(manager);
        var id = manager.Start(request).Id;

        for (var i = 0; i < 5; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(11));
            request = request.NextRequest();
            manager.Start(request).Get("k").Should().Be("v", $"the session is alive after {(i + 1) * 11} minutes");
        }
        clock.Advance(TimeSpan.FromMinutes(5)); // 60 minutes since creation

        var late = manager.Start(request.NextRequest());
        late.Id.Should().NotBe(id);
        late.Get("k").Should().BeNull();
        events.Should().ContainSingle().Which.Should().BeEquivalentTo(new { SessionId = id, Reason = SessionEventReason.Expired });
    }

    [Test]
    public void ExpiredCookie_GetsAFreshIdAndNoOldData_NotTheSameId_FixedDefect()
    {
        var (manager, clock, _) = Build(c => c.Expires = TimeSpan.FromMinutes(10));
        using var __ = manager;
        var request = EstablishedRequest(manager);
        var oldId = manager.Start(request).Id;

        clock.Advance(TimeSpan.FromMinutes(10));
        var next = request.NextRequest();
        var session = manager.Start(next);

        session.Id.Should().NotBe(oldId);
        session.IsNew.Should().BeTrue();
        next.Written.Should().BeEmpty("nothing was written yet");
        StoredSessions(manager).Should().Be(0, "the expired record is deleted");
    }

    [Test]
    public void Sweeper_RemovesExpiredSessionsOnItsOwn_AndRaisesExpiredOncePerSession()
    {
        var (manager, clock, events) = Build(c => c.Expires = TimeSpan.FromMinutes(5));
        using var _ = manager;
        var ids = Enumerable.Range(0, 3).Select(_ => manager.Start(EstablishedRequest(manager)).Id).ToList();

        clock.Advance(TimeSpan.FromMinutes(6)); // the default sweep runs every minute

        StoredSessions(manager).Should().Be(0);
        events.Select(e => e.SessionId).Should().BeEquivalentTo(ids);
        events.Should().OnlyContain(e => e.Reason == SessionEventReason.Expired);

        clock.Advance(TimeSpan.FromMinutes(10));
        events.Should().HaveCount(3, "each session expires once");
    }

    [Test]
    public void IdleTimeout_EndsAnUnusedSession_EvenBeforeItsAbsoluteDeadline()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.FromHours(2);
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        using var __ = manager;
        var request = EstablishedRequest(manager);
        var id = manager.Start(request).Id;

        clock.Advance(TimeSpan.FromMinutes(31));

        manager.Start(request.NextRequest()).Id.Should().NotBe(id);
    }

    [Test]
    public void IdleTimeout_Slides_WithEveryRequest()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.FromHours(2);
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        using var __ = manager;
        var request = EstablishedRequest(manager);
        var id = manager.Start(request).Id;

        for (var i = 0; i < 4; i++)
        {
            clock.Advance(TimeSpan.FromMinutes(25));
            request = request.NextRequest();
            manager.Start(request).Id.Should().Be(id);
            request.Written.Should().BeEmpty("the idle refresh writes no cookie");
        }
    }

    [Test]
    public void ExpiresZero_HasNoAbsoluteDeadline_ButIsStillBoundedByTheIdleTimeout_FixedDefect()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.Zero;
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        using var __ = manager;
        var request = EstablishedRequest(manager);
        var id = manager.Start(request).Id;
        manager.Start(request).ExpiresAt.Should().BeNull();

        for (var i = 0; i < 60; i++) // ten hours of activity
        {
            clock.Advance(TimeSpan.FromMinutes(10));
            request = request.NextRequest();
            manager.Start(request).Id.Should().Be(id);
        }
        clock.Advance(TimeSpan.FromMinutes(31));

        manager.Start(request.NextRequest()).Id.Should().NotBe(id);
    }

    [Test]
    public void NegativeExpires_HasNoAbsoluteDeadline_ButIsStillBoundedByTheIdleTimeout()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.FromSeconds(-1);
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        using var __ = manager;
        var request = EstablishedRequest(manager);
        var id = manager.Start(request).Id;

        clock.Advance(TimeSpan.FromMinutes(29));
        request = request.NextRequest();
        manager.Start(request).Id.Should().Be(id);
        clock.Advance(TimeSpan.FromMinutes(30));

        manager.Start(request.NextRequest()).Id.Should().NotBe(id);
    }

    [Test]
    public void UpdateExpiration_WithoutACookie_ReturnsFalse_AndWritesNoCookie()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = new TestCarrier();

        manager.UpdateExpiration(request, TimeSpan.FromHours(1)).Should().BeFalse();
        manager.ShiftExpiration(request).Should().BeFalse();
        request.Written.Should().BeEmpty();
    }

    [Test]
    public void UpdateExpiration_ForAnUnknownId_ReturnsFalse_AndWritesNoCookie()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = new TestCarrier(CookieHeader(SessionIds.NewId()));

        manager.UpdateExpiration(request, TimeSpan.FromHours(1)).Should().BeFalse();
        manager.UpdateExpiration(request, TimeSpan.FromSeconds(-1)).Should().BeFalse("unlike go-sessions, a negative duration does not make an unknown ID 'found'");
        request.Written.Should().BeEmpty();
    }

    [Test]
    public void UpdateExpiration_OnALiveSession_ResendsTheCookieWithTheSameId_AndMovesTheServerDeadline_FixedDefect()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.FromHours(1);
            c.IdleTimeout = TimeSpan.FromHours(10);
        });
        using var __ = manager;
        var first = EstablishedRequest(manager);
        var id = manager.Start(first).Id;
        clock.Advance(TimeSpan.FromMinutes(50));

        var request = first.NextRequest();
        manager.UpdateExpiration(request, TimeSpan.FromHours(3)).Should().BeTrue();

        var cookie = LastCookie(request);
        cookie.Value.Should().Be(id);
        cookie.MaxAgeSeconds.Should().Be(3 * 3600);
        cookie.Expires.Should().Be(clock.GetUtcNow().AddHours(3));
        manager.Start(request).ExpiresAt.Should().Be(clock.GetUtcNow().AddHours(3), "the server deadline moves with the cookie");

        clock.Advance(TimeSpan.FromHours(2) + TimeSpan.FromMinutes(59));
        manager.Start(request.NextRequest()).Id.Should().Be(id, "the session survives past its original deadline");
        clock.Advance(TimeSpan.FromMinutes(1));
        manager.Start(request.NextRequest()).Id.Should().NotBe(id, "and ends d after the call");
    }

    [Test]
    public void UpdateExpirationNegative_ResendsABrowserSessionCookie_AndDropsTheAbsoluteDeadline()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = EstablishedRequest(manager).NextRequest();

        manager.UpdateExpiration(request, TimeSpan.FromSeconds(-1)).Should().BeTrue();

        LastCookie(request).Expires.Should().BeNull();
        LastCookie(request).MaxAgeSeconds.Should().BeNull();
        manager.Start(request).ExpiresAt.Should().BeNull();
    }

    [Test]
    public void UpdateExpirationZero_ResendsA400DayCookie_AndDropsTheAbsoluteDeadline()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = EstablishedRequest(manager).NextRequest();

        manager.UpdateExpiration(request, TimeSpan.Zero).Should().BeTrue();

        LastCookie(request).MaxAgeSeconds.Should().Be(400L * 86400);
        manager.Start(request).ExpiresAt.Should().BeNull();
    }

    [Test]
    public void UpdateExpirationPositive_OnASessionCreatedWithExpiresZero_AlsoExpiresOnTheServer_FixedDefect()
    {
        var (manager, clock, _) = Build(c =>
        {
            c.Expires = TimeSpan.Zero;
            c.IdleTimeout = TimeSpan.FromHours(10);
        });
        using var __ = manager;
        var request = EstablishedRequest(manager).NextRequest();
        var id = manager.Start(request).Id;

        manager.UpdateExpiration(request, TimeSpan.FromHours(1)).Should().BeTrue();
        LastCookie(request).MaxAgeSeconds.Should().Be(3600);

        clock.Advance(TimeSpan.FromHours(1));
        manager.Start(request.NextRequest()).Id.Should().NotBe(id);
    }

    [Test]
    public void UpdateExpiration_WhenTheSessionWasDestroyedMeanwhile_ReturnsFalse_WritesNoCookie_AndDoesNotResurrectIt()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);

        manager.DestroyById(session.Id).Should().BeTrue(); // another request logged the user out
        manager.UpdateExpiration(request, TimeSpan.FromHours(1)).Should().BeFalse();

        request.Written.Should().BeEmpty();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void UpdateExpiration_OnASessionCreatedInTheSameRequest_Succeeds()
    {
        var (manager, _, _) = Build();
        using var __ = manager;
        var request = EstablishedRequest(manager);

        manager.UpdateExpiration(request, TimeSpan.FromMinutes(5)).Should().BeTrue();

        request.Written.Should().HaveCount(2);
        LastCookie(request).MaxAgeSeconds.Should().Be(300);
    }

    [Test]
    public async Task ShiftExpiration_BehavesAsUpdateExpirationWithConfigExpires()
    {
        var (manager, clock, _) = Build(c => c.Expires = TimeSpan.FromMinutes(20));
        using var __ = manager;
        var first = EstablishedRequest(manager);
        clock.Advance(TimeSpan.FromMinutes(15));
        var request = first.NextRequest();

        (await manager.ShiftExpirationAsync(request)).Should().BeTrue();

        LastCookie(request).MaxAgeSeconds.Should().Be(1200);
        manager.Start(request).ExpiresAt.Should().Be(clock.GetUtcNow().AddMinutes(20));
    }

    [Test]
    public void ExpiresAt_ReportsTheAbsoluteDeadline()
    {
        var (manager, _, _) = Build(c => c.Expires = TimeSpan.FromMinutes(90));
        using var __ = manager;

        manager.Start(new TestCarrier()).ExpiresAt.Should().Be(Epoch.AddMinutes(90));
    }
}
