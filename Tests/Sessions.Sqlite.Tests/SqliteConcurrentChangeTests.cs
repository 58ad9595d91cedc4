using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// Requests that overlap on one session: a commit writes back neither a deadline nor a key it merely loaded, and
/// <see cref="SqliteSessionDatabase.RenewAsync"/> moves the session as stored, never racing with a commit to the old ID.
/// </summary>
/// <remarks>
/// A request's change set is taken as the manager hands it to the database (<see cref="ChangeSetAsync"/>), so a test can
/// commit it to the real database at the moment it chooses and read the database's answer.
/// </remarks>
public sealed class SqliteConcurrentChangeTests
{
    private TempDirectory _directory = null!;
    private FakeTimeProvider _time = null!;
    private SqliteSessionDatabase _database = null!;
    private SessionManager _manager = null!;

    [SetUp]
    public void SetUp()
    {
        _directory = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        _time = new FakeTimeProvider(new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
        _database = new SqliteSessionDatabase(_directory.File("sessions.db"), timeProvider: _time);
        _manager = new SessionManager(new SessionConfig { Database = _database, TimeProvider = _time });
    }

    [TearDown]
    public void TearDown()
    {
        _manager.Dispose();
        _database.Dispose();
        _directory.Dispose();
    }

    [Test]
    public async Task CommitAfterAnotherRequestShortenedTheAbsoluteDeadline_KeepsTheShortenedDeadline()
    {
        var id = await CreateAsync(s => s.Set("name", "iris"));
        var loaded = await _manager.StartAsync(Request(id)); // request A loads the two-hour deadline
        var shortened = _time.GetUtcNow() + TimeSpan.FromMinutes(10);
        var idle = _time.GetUtcNow() + TimeSpan.FromMinutes(30);
        (await _database.UpdateExpirationAsync(id, shortened, idle, CancellationToken.None)).Should().BeTrue(); // request B

        loaded.Set("name", "edward");
        await loaded.CommitAsync();

        var stored = await _database.LoadAsync(id, CancellationToken.None);
        stored!.AbsoluteDeadline.Should().Be(shortened, "request A never moved the absolute deadline, so it must not write back the one it loaded");
        stored.TryGetValue("name", out var name).Should().BeTrue();
        name.Value.Should().Be("edward");
        _time.Advance(TimeSpan.FromMinutes(11)); // past the shortened deadline, within the idle one: the timed purge runs
        _database.PurgeExpired();
        (await _database.CountAsync(CancellationToken.None)).Should().Be(0, "the purge follows the shortened deadline too");
    }

    [Test]
    public async Task RenewAsync_MovesTheSessionAsStored_AndTheOldIdAcceptsNoCommit()
    {
        var id = await CreateAsync(s =>
        {
            s.Set("cart", "3 items");
            s.Set("user", "iris");
        });
        var (lateRecord, lateChanges) = await ChangeSetAsync(id, s => s.Set("late", "write")); // loaded before the renew
        await RequestAsync(id, s => s.Delete("cart").Should().BeTrue()); // another request logs the cart out
        var before = await _database.LoadAsync(id, CancellationToken.None);
        var newId = SessionIds.NewId();

        (await _database.RenewAsync(id, newId, CancellationToken.None)).Should().Be(SessionRenewResult.Renewed);

        var renewed = await _database.LoadAsync(newId, CancellationToken.None);
        renewed.Should().NotBeNull();
        renewed!.TryGetValue("user", out var user).Should().BeTrue();
        user.Value.Should().Be("iris");
        renewed.TryGetValue("cart", out _).Should().BeFalse("the cart another request deleted stays deleted");
        renewed.AbsoluteDeadline.Should().Be(before!.AbsoluteDeadline);
        renewed.IdleDeadline.Should().Be(before.IdleDeadline);
        (await _database.LoadAsync(id, CancellationToken.None)).Should().BeNull();

        (await _database.CommitAsync(id, lateRecord, lateChanges, CancellationToken.None)).Should().BeFalse("the old ID names no session");
        (await _database.LoadAsync(id, CancellationToken.None)).Should().BeNull("a commit to the old ID does not recreate it");
        (await _database.LoadAsync(newId, CancellationToken.None))!.TryGetValue("late", out _).Should().BeFalse();
        (await _database.CountAsync(CancellationToken.None)).Should().Be(1);
    }

    [Test]
    public async Task RenewAsync_RacingACommitThatDeletesAKey_NeverLosesTheDelete()
    {
        var deletedFirst = 0;
        for (var iteration = 0; iteration < 50; iteration++)
        {
            var id = await CreateAsync(s =>
            {
                s.Set("cart", "3 items");
                s.Set("user", "iris");
            });
            var (record, changes) = await ChangeSetAsync(id, s => s.Delete("cart").Should().BeTrue());
            var newId = SessionIds.NewId();
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            var renew = Task.Run(async () =>
            {
                await start.Task;
                return await _database.RenewAsync(id, newId, CancellationToken.None);
            });
            var delete = Task.Run(async () =>
            {
                await start.Task;
                return await _database.CommitAsync(id, record, changes, CancellationToken.None);
            });
            start.SetResult();
            var (renewResult, deleteAcknowledged) = (await renew, await delete);

            renewResult.Should().Be(SessionRenewResult.Renewed, "iteration {0}", iteration);
            var renewed = await _database.LoadAsync(newId, CancellationToken.None);
            var cartUnderNewId = renewed!.TryGetValue("cart", out _);
            cartUnderNewId.Should().Be(!deleteAcknowledged,
                "iteration {0}: an acknowledged delete must not reappear under the new ID, and an unacknowledged one must not be applied", iteration);
            renewed.TryGetValue("user", out _).Should().BeTrue("iteration {0}", iteration);
            (await _database.LoadAsync(id, CancellationToken.None)).Should().BeNull("iteration {0}", iteration);
            if (deleteAcknowledged)
                deletedFirst++;
        }
        TestContext.Out.WriteLine($"the delete committed before the renew in {deletedFirst} of 50 iterations");
    }

    [Test]
    public async Task RenewAsync_ToAnIdInUse_OrFromAnUnknownId_ChangesNothing()
    {
        var first = await CreateAsync(s => s.Set("owner", "first"));
        var second = await CreateAsync(s => s.Set("owner", "second"));
        var firstBefore = await _database.LoadAsync(first, CancellationToken.None);
        var secondBefore = await _database.LoadAsync(second, CancellationToken.None);

        (await _database.RenewAsync(first, second, CancellationToken.None)).Should().Be(SessionRenewResult.IdInUse);
        var unknown = SessionIds.NewId();
        var target = SessionIds.NewId();
        (await _database.RenewAsync(unknown, target, CancellationToken.None)).Should().Be(SessionRenewResult.NotFound);

        Describe(await _database.LoadAsync(first, CancellationToken.None)).Should().Be(Describe(firstBefore)).And.Contain("owner=first");
        Describe(await _database.LoadAsync(second, CancellationToken.None)).Should().Be(Describe(secondBefore)).And.Contain("owner=second");
        (await _database.LoadAsync(target, CancellationToken.None)).Should().BeNull();
        (await _database.CountAsync(CancellationToken.None)).Should().Be(2);
    }

    [Test]
    public async Task CreateRetried_IsItsOwn_WhileTheSessionLives_AndAnotherCreateOfTheIdIsRefused()
    {
        var id = SessionIds.NewId();
        var now = _time.GetUtcNow();
        var record = new SessionRecord(now + TimeSpan.FromHours(2), now + TimeSpan.FromMinutes(30));
        record.SetValue("name", new SessionValue("iris", false));
        var create = SessionChanges.CreateFrom(record);
        (await _database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue();
        await RequestAsync(id, s => s.Set("name", "edward"));

        (await _database.CommitAsync(id, record, create, CancellationToken.None)).Should().BeTrue("a retried create is recognised as its own");
        (await _database.CommitAsync(id, record, SessionChanges.CreateFrom(record), CancellationToken.None)).Should().BeFalse("another create finds the ID in use");

        Describe(await _database.LoadAsync(id, CancellationToken.None)).Should().Contain("name=edward", "a retried create writes nothing again");
        (await _database.CountAsync(CancellationToken.None)).Should().Be(1);
    }

    private static string Describe(SessionRecord? record)
    {
        record.Should().NotBeNull();
        var values = string.Join(", ", record!.Values.ToArray().Select(v => $"{v.Key}={v.Value.Value}"));
        return $"absolute {record.AbsoluteDeadline:O}, idle {record.IdleDeadline:O}, version {record.Version}: {values}";
    }

    private static TestCarrier Request(string id) => new($"{SessionConfig.DefaultCookieName}={id}");

    private async Task<string> CreateAsync(Action<Session> write)
    {
        var session = await _manager.StartAsync(new TestCarrier());
        write(session);
        await session.CommitAsync();
        return session.Id;
    }

    private async Task RequestAsync(string id, Action<Session> body)
    {
        var session = await _manager.StartAsync(Request(id));
        session.IsNew.Should().BeFalse();
        body(session);
        await session.CommitAsync();
    }

    /// <summary>Runs a request on <paramref name="id"/> and returns the commit it asks of the database, which is not applied.</summary>
    private async Task<(SessionRecord Record, SessionChanges Changes)> ChangeSetAsync(string id, Action<Session> body)
    {
        var capture = new CommitCapture(_database);
        using var manager = new SessionManager(new SessionConfig { Database = capture, TimeProvider = _time });
        var session = await manager.StartAsync(Request(id));
        session.IsNew.Should().BeFalse();
        body(session);
        await session.CommitAsync();
        capture.Captured.Should().NotBeNull("the request must commit");
        return capture.Captured!.Value;
    }

    /// <summary>The real database, except that a commit is kept for the test instead of applied.</summary>
    private sealed class CommitCapture(ISessionDatabase inner) : ISessionDatabase
    {
        public (SessionRecord Record, SessionChanges Changes)? Captured { get; private set; }

        public bool SharesRecords => inner.SharesRecords;

        public bool CompletesSynchronously => inner.CompletesSynchronously;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => inner.LoadAsync(id, cancellationToken);

        public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
        {
            Captured.Should().BeNull("one request commits once");
            Captured = (record, changes);
            return new(true);
        }

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not expected while capturing a commit");

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not expected while capturing a commit");

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not expected while capturing a commit");

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("not expected while capturing a commit");
    }
}
