using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>Users and devices beyond the store contract: the memory index's size, the configuration, and databases without an index.</summary>
public class UserSessionTests
{
    [Test]
    public void NegativeMaxSessionsPerUser_IsRejected_NamingTheField()
    {
        var act = () => new SessionManager(new SessionConfig { MaxSessionsPerUser = -1 });

        act.Should().Throw<ArgumentException>().WithMessage("SessionConfig.MaxSessionsPerUser: -1*");
        new SessionConfig().MaxSessionsPerUser.Should().Be(0, "unlimited by default");
    }

    [Test]
    public async Task TenThousandExpiredSessionsOfOneUser_LeaveNothingInTheMemoryIndex()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        using var database = new MemorySessionDatabase(time);
        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = time });
        for (var i = 0; i < 10_000; i++)
            (await manager.StartAsync(new TestCarrier())).SetUser("alice");
        database.IndexedUsers.Should().Be(1);
        (await manager.ListUserSessionsAsync("alice")).Should().HaveCount(10_000);

        time.Advance(TimeSpan.FromMinutes(31));
        database.Sweep();

        database.Count.Should().Be(0);
        database.IndexedUsers.Should().Be(0, "the sweep removes each expired session's index entry, and the user's empty set");
        (await database.ListUserSessionsAsync("alice", default)).Should().BeEmpty();
    }

    [Test]
    public async Task RenewAndDestroy_OnTheMemoryDatabase_LeaveNoIndexEntryBehind()
    {
        using var manager = new SessionManager();
        var database = (MemorySessionDatabase)manager.Database;
        var carrier = new TestCarrier();
        (await manager.StartAsync(carrier)).SetUser("alice");
        var next = carrier.NextRequest();
        await manager.RenewIdAsync(next);

        (await manager.ListUserSessionsAsync("alice")).Should().ContainSingle().Which.Handle.Should().Be(SessionIds.HashText(next.Session!.Id));

        await manager.DestroyAsync(next);
        database.IndexedUsers.Should().Be(0);
    }

    [Test]
    public async Task ADatabaseWithoutAUserIndex_RefusesSignInAndUserOperations_NamingItsType()
    {
        using var manager = new SessionManager(new SessionConfig { Database = new UnindexedDatabase() });
        var session = await manager.StartAsync(new TestCarrier());

        session.Invoking(s => s.SetUser("alice")).Should().Throw<NotSupportedException>().WithMessage("*UnindexedDatabase*IUserSessionIndex*");
        await manager.Invoking(m => m.ListUserSessionsAsync("alice").AsTask()).Should().ThrowAsync<NotSupportedException>().WithMessage("*UnindexedDatabase*");
        await manager.Invoking(m => m.DestroyUserSessionsAsync("alice").AsTask()).Should().ThrowAsync<NotSupportedException>();
        session.IsNew.Should().BeTrue("nothing was written");
    }

    /// <summary>A database with the core contract only: every call goes to a copying memory database.</summary>
    private sealed class UnindexedDatabase : ISessionDatabase
    {
        private readonly CopyingMemoryDatabase _inner = new();

        public bool SharesRecords => _inner.SharesRecords;

        public bool CompletesSynchronously => _inner.CompletesSynchronously;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => _inner.LoadAsync(id, cancellationToken);

        public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken) => _inner.CommitAsync(id, record, changes, cancellationToken);

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            _inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => _inner.RenewAsync(id, newId, cancellationToken);

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => _inner.DestroyAsync(id, cancellationToken);

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => _inner.DestroyAllAsync(cancellationToken);
    }
}
