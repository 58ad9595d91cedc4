using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>RenewId, new in the port: the fixation defence.</summary>
public class RenewIdTests
{
    [Test]
    public void RenewId_MovesTheDataToANewId_DeletesTheOldId_WritesTheNewCookie_AndRaisesRenewed()
    {
        using var manager = NewManager();
        var renewed = new List<SessionEventArgs>();
        manager.Renewed += (_, e) => renewed.Add(e);
        var first = EstablishedRequest(manager, "cart", "3 items");
        var oldId = manager.Start(first).Id;
        var request = first.NextRequest();
        var session = manager.Start(request);
        session.SetFlash("notice", "welcome");

        manager.RenewId(request).Should().BeTrue();

        session.Id.Should().NotBe(oldId).And.HaveLength(43);
        session.Get("cart").Should().Be("3 items");
        LastCookie(request).Value.Should().Be(session.Id);
        renewed.Should().ContainSingle().Which.Should().BeEquivalentTo(new
        {
            SessionId = session.Id,
            PreviousSessionId = oldId,
            Reason = SessionEventReason.Renewed,
        });
        StoredSessions(manager).Should().Be(1);

        var next = manager.Start(request.NextRequest());
        next.Id.Should().Be(session.Id);
        next.Get("cart").Should().Be("3 items");
        next.GetFlash("notice").Should().Be("welcome", "flashes move with the session");
    }

    [Test]
    public void OldIdReplayedAfterRenew_IsRejected_AndGetsAFreshEmptySession()
    {
        using var manager = NewManager();
        var first = EstablishedRequest(manager, "cart", 1);
        var oldCookie = first.NextRequest().CookieHeader;
        var oldId = manager.Start(first).Id;
        manager.RenewId(first.NextRequest());

        var replay = manager.Start(new TestCarrier(oldCookie));

        replay.Id.Should().NotBe(oldId);
        replay.Get("cart").Should().BeNull();
    }

    [Test]
    public void WritesAfterRenew_InTheSameRequest_ReachTheNewSession()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();
        var session = manager.Start(request);

        manager.RenewId(request);
        session.Set("user", "alice");

        manager.Start(request.NextRequest()).Get("user").Should().Be("alice");
    }

    [Test]
    public void RenewId_OnAnUnwrittenSession_DrawsAFreshIdWithoutStoringOrWritingAnything()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        var session = manager.Start(request);
        var before = session.Id;

        manager.RenewId(request).Should().BeTrue();

        session.Id.Should().NotBe(before);
        request.Written.Should().BeEmpty();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void RenewId_AfterDestroyInTheSameRequest_ReturnsFalse_AndRenewsNothing()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();
        manager.Destroy(request);

        manager.RenewId(request).Should().BeFalse();

        StoredSessions(manager).Should().Be(0);
        request.Written.Should().ContainSingle().Which.IsDeletion.Should().BeTrue();
    }

    [Test]
    public void RenewId_WhenAnotherRequestDestroyedTheSessionMeanwhile_ReturnsFalse_AndLeavesNoCopyBehind()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager, "cart", 1).NextRequest();
        var session = manager.Start(request);
        manager.DestroyById(session.Id); // logout in another request

        manager.RenewId(request).Should().BeFalse();

        StoredSessions(manager).Should().Be(0, "the renewed copy must not outlive the destroyed session");
        session.IsDestroyed.Should().BeTrue();
        LastCookie(request).IsDeletion.Should().BeTrue();
    }

    [Test]
    public void ConcurrentRequestHoldingTheOldId_SeesAnEmptySession_AndItsWriteIsRefused()
    {
        using var manager = NewManager();
        var first = EstablishedRequest(manager, "cart", 1);
        var requestA = first.NextRequest();
        var requestB = first.NextRequest();
        var a = manager.Start(requestA);
        var oldId = a.Id;
        var b = manager.Start(requestB);

        manager.RenewId(requestB).Should().BeTrue();
        a.Invoking(s => s.Set("late", true)).Should().Throw<SessionEndedException>("request A writing after the renewal is told, not ignored");

        a.Get("cart").Should().BeNull();
        manager.Start(new TestCarrier(CookieHeader(oldId))).Id.Should().NotBe(oldId, "S is not recreated");
        var renewed = manager.Start(requestB.NextRequest());
        renewed.Id.Should().Be(b.Id);
        renewed.Get("late").Should().BeNull("S' is unchanged by A");
        renewed.Get("cart").Should().Be(1);
    }

    [Test]
    public async Task RenewIdAsync_Works()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();
        var oldId = manager.Start(request).Id;

        (await manager.RenewIdAsync(request)).Should().BeTrue();

        manager.Start(request).Id.Should().NotBe(oldId);
    }
}
