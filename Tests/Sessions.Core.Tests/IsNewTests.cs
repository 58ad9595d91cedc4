using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>When <see cref="Session.IsNew"/> is true, and the Created event.</summary>
public class IsNewTests
{
    private SessionManager _manager = null!;

    [SetUp]
    public void SetUp() => _manager = NewManager();

    [TearDown]
    public void TearDown() => _manager.Dispose();

    [Test]
    public void IsNew_IsTrueRightAfterACookielessStart()
    {
        _manager.Start(new TestCarrier()).IsNew.Should().BeTrue();
    }

    private static IEnumerable<TestCaseData> Writes()
    {
        yield return new TestCaseData((Action<Session>)(s => s.Set("k", 1))).SetName("IsNew_IsFalseAfterSet");
        yield return new TestCaseData((Action<Session>)(s => s.SetImmutable("k", 1))).SetName("IsNew_IsFalseAfterSetImmutable");
        yield return new TestCaseData((Action<Session>)(s => s.Increment("k"))).SetName("IsNew_IsFalseAfterIncrement");
        yield return new TestCaseData((Action<Session>)(s => s.Decrement("k"))).SetName("IsNew_IsFalseAfterDecrement");
        yield return new TestCaseData((Action<Session>)(s => s.Clear())).SetName("IsNew_IsFalseAfterClear");
        yield return new TestCaseData((Action<Session>)(s => s.SetFlash("k", 1))).SetName("IsNew_IsFalseAfterSetFlash");
    }

    [TestCaseSource(nameof(Writes))]
    public void IsNew_IsFalseAfterTheFirstWrite(Action<Session> write)
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);

        write(session);

        session.IsNew.Should().BeFalse();
        request.Written.Should().ContainSingle();
    }

    [Test]
    public void IsNew_StaysTrueAfterADeleteThatRemovedNothing_AndAfterReads()
    {
        var session = _manager.Start(new TestCarrier());

        session.Delete("nothing").Should().BeFalse();
        _ = session.Get("x");
        _ = session.GetAll();
        _ = session.GetInt32("x", 0);
        _ = session.Id;

        session.IsNew.Should().BeTrue();
    }

    [Test]
    public void IsNew_IsFalseAfterADeleteThatRemovedSomething_OnALoadedSession()
    {
        var request = EstablishedRequest(_manager, "a", 1).NextRequest();
        var session = _manager.Start(request);

        session.IsNew.Should().BeFalse();
        session.Delete("a").Should().BeTrue();
        session.IsNew.Should().BeFalse();
    }

    [Test]
    public void IsNew_StaysTrueOnLaterRequests_WhenTheSessionWasNeverWritten()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        _ = session.Get("x");

        var next = _manager.Start(request.NextRequest());

        next.IsNew.Should().BeTrue();
        next.Id.Should().NotBe(session.Id, "nothing was issued, so nothing is remembered");
    }

    [Test]
    public void IsNew_IsTrueForASessionStartedFromAnUnknownCookieId_FixedDefect()
    {
        // go-sessions adopted the unknown ID and reported IsNew false; the port issues a fresh session.
        _manager.Start(new TestCarrier(CookieHeader(SessionIds.NewId()))).IsNew.Should().BeTrue();
    }

    [Test]
    public void IsNew_IsFalseForALoadedSession()
    {
        var request = EstablishedRequest(_manager).NextRequest();
        _manager.Start(request).IsNew.Should().BeFalse();
    }

    [Test]
    public void Created_IsRaisedOnceOnTheFirstWrite_OutsideTheSessionLock()
    {
        var created = new List<SessionEventArgs>();
        Session? session = null;
        _manager.Created += (_, e) =>
        {
            created.Add(e);
            // Handlers run outside the lock: calling back into the session and the manager works.
            session!.Get("a").Should().Be(1);
            _manager.Start(new TestCarrier()).Get("x").Should().BeNull();
        };
        var request = new TestCarrier();
        session = _manager.Start(request);

        session.Set("a", 1);
        session.Set("b", 2);
        session.Increment("c");

        created.Should().ContainSingle().Which.Should().BeEquivalentTo(new { SessionId = session.Id, Reason = SessionEventReason.Created });
        _manager.Start(request.NextRequest()).Set("d", 4);
        created.Should().ContainSingle("a loaded session is not created again");
    }
}
