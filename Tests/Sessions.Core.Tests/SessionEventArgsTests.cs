using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>Every event names its session by the hash of its ID, the one name events from other processes carry too.</summary>
public sealed class SessionEventArgsTests
{
    [Test]
    public async Task LocalEvents_CarryTheIdAndItsHash_AndAreNotRemote()
    {
        using var manager = new SessionManager();
        var events = new List<SessionEventArgs>();
        manager.Created += (_, e) => events.Add(e);
        manager.Renewed += (_, e) => events.Add(e);
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("n", 1);
        var created = session.Id;
        var next = carrier.NextRequest();
        await manager.RenewIdAsync(next);

        events.Should().HaveCount(2).And.OnlyContain(e => !e.IsRemote);
        events[0].IdHash.Should().Be(SessionIds.HashText(created));
        events[1].IdHash.Should().Be(SessionIds.HashText(next.Session!.Id));
        events[1].PreviousIdHash.Should().Be(SessionIds.HashText(created));
    }

    [Test]
    public void ForHash_NamesTheSessionByHashOnly_AndRequiresTheHashButForDestroyedAll()
    {
        var hash = SessionIds.HashText(SessionIds.NewId());
        var e = SessionEventArgs.ForHash(SessionEventReason.Expired, hash, isRemote: true);
        e.SessionId.Should().BeNull();
        e.IdHash.Should().Be(hash);
        e.IsRemote.Should().BeTrue();
        SessionEventArgs.ForHash(SessionEventReason.DestroyedAll, null).IdHash.Should().BeNull();
        var act = () => SessionEventArgs.ForHash(SessionEventReason.Destroyed, null);
        act.Should().Throw<ArgumentNullException>().WithMessage("*Destroyed*hash*");
    }

    [Test]
    public void HashText_OfStoredHashBytes_IsTheHashTextOfTheId()
    {
        var id = SessionIds.NewId();
        SessionIds.HashText(SessionIds.Hash(id)).Should().Be(SessionIds.HashText(id));
        var act = () => SessionIds.HashText(new byte[31]);
        act.Should().Throw<ArgumentException>().WithMessage("*32 bytes*31*");
    }
}
