using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>The store-down policy in the core: fail closed by default, fail open (an empty, unsaved session) only when configured.</summary>
public sealed class DatabaseFailureTests
{
    [Test]
    public async Task LoadFailure_PropagatesAsSessionDatabaseException_ByDefault()
    {
        using var manager = new SessionManager(new SessionConfig { Database = new DownDatabase() });
        var request = new TestCarrier("sid=" + SessionIds.NewId());

        await manager.Invoking(m => m.StartAsync(request).AsTask()).Should().ThrowAsync<SessionDatabaseException>();
        request.Written.Should().BeEmpty();
    }

    [Test]
    public async Task LoadFailure_WithContinueUnsaved_GivesAnEmptySessionThatIsNeverStored_AndKeepsTheClientsCookie()
    {
        var database = new DownDatabase();
        using var manager = new SessionManager(new SessionConfig { Database = database, DatabaseFailureMode = SessionDatabaseFailureMode.ContinueUnsaved });
        var request = new TestCarrier("sid=" + SessionIds.NewId());

        var session = await manager.StartAsync(request);
        session.IsUnsaved.Should().BeTrue();
        session.IsNew.Should().BeTrue();
        session.Set("name", "iris");
        session.GetString("name").Should().Be("iris", "the write lives for the request");
        await session.CommitAsync();
        await request.StartResponseAsync();

        database.Commits.Should().Be(0, "nothing is stored");
        request.Written.Should().BeEmpty("no cookie replaces the one naming the real session, which is back with the database");
    }

    [Test]
    public async Task CommitFailure_FailsEvenWithContinueUnsaved()
    {
        // Failing open applies to reading only: a write is never reported as saved when it was not.
        var database = new DownDatabase { LoadWorks = true };
        using var manager = new SessionManager(new SessionConfig { Database = database, DatabaseFailureMode = SessionDatabaseFailureMode.ContinueUnsaved });
        var request = new TestCarrier();

        var session = await manager.StartAsync(request);
        session.Set("name", "iris");

        await session.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionDatabaseException>();
        request.Written.Should().BeEmpty("the cookie of a session the database did not store is never sent");
    }

    [TestCase(false, TestName = "CommitFailure_IsCountedAndLoggedOnce_WhenOnlyTheErrorCounterIsListenedTo")]
    [TestCase(true, TestName = "CommitFailure_IsCountedAndLoggedOnce_WhenCommitsAreMeasuredToo")]
    public async Task CommitFailure_IsCountedAndLoggedOnce(bool measureCommits)
    {
        // Unmeasured, the session awaits the database itself (no telemetry layer): the failure is still counted and logged, once.
        var logs = new LogCapture();
        using var manager = new SessionManager(new SessionConfig { Database = new DownDatabase { LoadWorks = true }, LoggerFactory = logs });
        using var metrics = new MetricCapture(i => ReferenceEquals(i.Meter, manager.Telemetry.Meter) && (measureCommits || i.Name == "sessions.database.errors"));
        manager.Telemetry.ObservesCommits.Should().Be(measureCommits);
        var request = new TestCarrier();
        (await manager.StartAsync(request)).Set("name", "iris");

        await manager.Invoking(m => m.CommitAsync(request).AsTask()).Should().ThrowAsync<SessionDatabaseException>();

        metrics.Sum("sessions.database.errors", (SessionTelemetry.OperationTag, "commit")).Should().Be(1);
        logs.WithId(1).Should().ContainSingle().Which.Value("Fingerprint").Should().Be(manager.Fingerprint(request.Session!.Id));
        metrics.Of("sessions.commit.duration").Should().HaveCount(measureCommits ? 1 : 0);
    }

    [TestCase(false, TestName = "LoadFailure_IsCountedAndLoggedOnce_WhenOnlyTheErrorCounterIsListenedTo")]
    [TestCase(true, TestName = "LoadFailure_IsCountedAndLoggedOnce_WhenLoadsAreMeasuredToo")]
    public async Task LoadFailure_IsCountedAndLoggedOnce(bool measureLoads)
    {
        // Unmeasured, the manager awaits the database itself (no telemetry layer): the failure is still counted and logged, once.
        var logs = new LogCapture();
        using var manager = new SessionManager(new SessionConfig { Database = new DownDatabase(), LoggerFactory = logs });
        using var metrics = new MetricCapture(i => ReferenceEquals(i.Meter, manager.Telemetry.Meter) && (measureLoads || i.Name == "sessions.database.errors"));
        manager.Telemetry.ObservesLoads.Should().Be(measureLoads);
        var id = SessionIds.NewId();

        await manager.Invoking(m => m.StartAsync(new TestCarrier("sid=" + id)).AsTask()).Should().ThrowAsync<SessionDatabaseException>();

        metrics.Sum("sessions.database.errors", (SessionTelemetry.OperationTag, "load")).Should().Be(1);
        logs.WithId(1).Should().ContainSingle().Which.Value("Fingerprint").Should().Be(manager.Fingerprint(id));
        metrics.Of("sessions.load.duration").Should().HaveCount(measureLoads ? 1 : 0);
    }

    [Test]
    public void UnknownFailureMode_IsRejectedNamingTheField()
    {
        var create = () => new SessionManager(new SessionConfig { DatabaseFailureMode = (SessionDatabaseFailureMode)42 });

        create.Should().Throw<ArgumentException>().WithMessage("SessionConfig.DatabaseFailureMode*");
    }

    /// <summary>A database that is down: every call fails as a remote database does when it cannot be reached.</summary>
    private sealed class DownDatabase : ISessionDatabase
    {
        private int _commits;

        public bool LoadWorks { get; init; }

        public int Commits => _commits;

        public bool SharesRecords => false;

        public bool CompletesSynchronously => false;

        public async ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return LoadWorks ? null : throw Down();
        }

        public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
        {
            await Task.Yield();
            Interlocked.Increment(ref _commits);
            throw Down();
        }

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            ValueTask.FromException<bool>(Down());

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) =>
            ValueTask.FromException<SessionRenewResult>(Down());

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => ValueTask.FromException<bool>(Down());

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => ValueTask.FromException(Down());

        private static SessionDatabaseException Down() => new("The database is down.");
    }
}
