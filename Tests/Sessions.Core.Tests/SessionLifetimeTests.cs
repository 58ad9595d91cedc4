using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>The session's own end: <see cref="Session.Destroy"/> and <see cref="Session.Lifetime"/> (go-sessions' <c>Destroy</c> and <c>Lifetime</c>).</summary>
public class SessionLifetimeTests
{
    private static List<SessionEventArgs> Record(SessionManager manager)
    {
        var events = new List<SessionEventArgs>();
        manager.Destroyed += (_, e) => events.Add(e);
        return events;
    }

    [Test]
    public void Session_Destroy_ends_the_requests_session_as_the_manager_does()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);
        var id = session.Id;

        session.Destroy().Should().BeTrue();

        session.IsDestroyed.Should().BeTrue();
        LastCookie(request).IsDeletion.Should().BeTrue();
        events.Should().ContainSingle().Which.Should().BeEquivalentTo(new { SessionId = id, Reason = SessionEventReason.Destroyed });
        session.Destroy().Should().BeFalse("it is already destroyed");
        manager.Start(request.NextRequest()).Get("k").Should().BeNull();
    }

    [Test]
    public async Task Session_DestroyAsync_on_a_database_of_copies_deletes_the_stored_session()
    {
        using var manager = NewManager(configure: c => c.Database = new CopyingMemoryDatabase(asynchronous: true));
        var first = new TestCarrier();
        var created = await manager.StartAsync(first);
        created.Set("k", "v");
        await created.CommitAsync();

        var request = first.NextRequest();
        var session = await manager.StartAsync(request);
        (await session.DestroyAsync()).Should().BeTrue();
        session.Invoking(s => s.Destroy()).Should().Throw<InvalidOperationException>().WithMessage("*DestroyAsync*");
        (await manager.StartAsync(request.NextRequest())).Get("k").Should().BeNull();
    }

    [Test]
    public void A_session_that_is_no_longer_the_requests_does_not_destroy_its_successor()
    {
        using var manager = NewManager(configure: c => c.AllowReclaim = true);
        var request = EstablishedRequest(manager).NextRequest();
        var old = manager.Start(request);
        old.Destroy().Should().BeTrue();
        var successor = manager.Start(request);
        successor.Set("k", "again");

        old.Destroy().Should().BeFalse();
        successor.IsDestroyed.Should().BeFalse();
    }

    [Test]
    public void Lifetime_shows_both_deadlines_and_the_time_left_on_the_managers_clock()
    {
        var clock = NewClock();
        using var manager = NewManager(clock, c =>
        {
            c.Expires = TimeSpan.FromHours(2);
            c.IdleTimeout = TimeSpan.FromMinutes(30);
        });
        var session = manager.Start(new TestCarrier());
        session.Set("k", "v");
        var lifetime = session.Lifetime;

        lifetime.AbsoluteDeadline.Should().Be(Epoch.AddHours(2));
        lifetime.IdleDeadline.Should().Be(Epoch.AddMinutes(30));
        lifetime.EndsAt.Should().Be(Epoch.AddMinutes(30));
        lifetime.TimeLeft.Should().Be(TimeSpan.FromMinutes(30));

        clock.Advance(TimeSpan.FromMinutes(10));
        lifetime.TimeLeft.Should().Be(TimeSpan.FromMinutes(20), "the view reads the clock on every call");
        lifetime.HasExpired.Should().BeFalse();

        clock.Advance(TimeSpan.FromMinutes(25));
        lifetime.TimeLeft.Should().Be(TimeSpan.Zero);
        lifetime.HasExpired.Should().BeTrue();
    }

    [Test]
    public void Lifetime_without_an_absolute_deadline_ends_at_the_idle_one()
    {
        using var manager = NewManager(configure: c => c.Expires = TimeSpan.Zero);
        var session = manager.Start(new TestCarrier());
        session.Lifetime.AbsoluteDeadline.Should().BeNull();
        session.Lifetime.EndsAt.Should().Be(session.Lifetime.IdleDeadline);
    }

    [Test]
    public void Lifetime_follows_UpdateExpiration()
    {
        var clock = NewClock();
        using var manager = NewManager(clock);
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);

        clock.Advance(TimeSpan.FromMinutes(5));
        manager.UpdateExpiration(request, TimeSpan.FromMinutes(10)).Should().BeTrue();

        session.Lifetime.AbsoluteDeadline.Should().Be(Epoch.AddMinutes(15));
        session.Lifetime.EndsAt.Should().Be(Epoch.AddMinutes(15));
        session.Lifetime.TimeLeft.Should().Be(TimeSpan.FromMinutes(10));
    }

    [Test]
    public void ExpireNow_ends_the_session_as_an_expiry()
    {
        using var manager = NewManager();
        var events = Record(manager);
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);
        var id = session.Id;

        session.Lifetime.ExpireNow().Should().BeTrue();

        session.Lifetime.HasExpired.Should().BeTrue();
        session.Lifetime.TimeLeft.Should().Be(TimeSpan.Zero);
        LastCookie(request).IsDeletion.Should().BeTrue();
        events.Should().ContainSingle().Which.Should().BeEquivalentTo(new { SessionId = id, Reason = SessionEventReason.Expired });
        manager.Start(request.NextRequest()).Get("k").Should().BeNull();
    }
}
