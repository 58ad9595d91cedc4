using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// Group commit: concurrent commits are applied in one transaction and acknowledged after one sync, each keeping its own
/// outcome. Commits are queued behind a held connection, so a group is formed without relying on timing.
/// </summary>
public sealed class SqliteGroupCommitTests
{
    private TempDirectory _directory = null!;

    private string DbPath => _directory.File("sessions.db");

    [SetUp]
    public void SetUp() => _directory = new TempDirectory();

    [TearDown]
    public void TearDown() => _directory.Dispose();

    [Test]
    public async Task ManyConcurrentCommits_ToDistinctSessions_AreAllAcknowledged_InFewGroups_AndAllPresentAfterReopening()
    {
        const int commits = 64;
        var ids = new List<string>();
        var database = new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { MaxConnections = 1 });
        using (database)
        using (var manager = new SessionManager(new SessionConfig { Database = database }))
        {
            var held = await database.Pool.RentAsync(CancellationToken.None); // the first group waits for it; the others queue
            var pending = new List<Task>();
            for (var i = 0; i < commits; i++)
            {
                var session = await manager.StartAsync(new TestCarrier());
                session.Set("n", i);
                session.SetFlash("f", "flash " + i);
                pending.Add(session.CommitAsync().AsTask());
                ids.Add(session.Id);
            }
            await WaitForAsync(() => database.QueuedCommits == commits);
            var groupsBefore = database.CommitGroups;
            database.Pool.Return(held);
            await Task.WhenAll(pending);

            (database.CommitGroups - groupsBefore).Should().Be(1, "every commit queued before the group began is applied in that one transaction");
            (await database.CountAsync(CancellationToken.None)).Should().Be(commits);
        }

        using var reopened = new SqliteSessionDatabase(DbPath);
        using var again = new SessionManager(new SessionConfig { Database = reopened });
        for (var i = 0; i < commits; i++)
        {
            var session = await again.StartAsync(Request(ids[i]));
            session.IsNew.Should().BeFalse();
            session.Get<int>("n").Should().Be(i);
            session.PeekFlash("f").Should().Be("flash " + i);
        }
    }

    [Test]
    public async Task GroupWhereOneCommitExceedsThePayloadLimit_FailsOnlyThatOne_AndStoresTheOthers()
    {
        const int commits = 16;
        var database = new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { MaxConnections = 1 });
        using (database)
        using (var manager = new SessionManager(new SessionConfig { Database = database, MaxPayloadBytes = 1024 }))
        {
            var big = await manager.StartAsync(new TestCarrier());
            big.Set("a", new string('a', 700));
            await big.CommitAsync();
            var existing = await manager.StartAsync(new TestCarrier());
            existing.Set("name", "ada");
            await existing.CommitAsync();

            var tooLarge = await manager.StartAsync(Request(big.Id)); // 700 stored + 500 written: refused inside the transaction
            tooLarge.Set("b", new string('b', 500));
            var changed = await manager.StartAsync(Request(existing.Id));
            changed.Set("name", "edward");

            var held = await database.Pool.RentAsync(CancellationToken.None);
            var pending = new List<Task>();
            var ids = new List<string>();
            for (var i = 0; i < commits / 2; i++)
            {
                var session = await manager.StartAsync(new TestCarrier());
                session.Set("n", i);
                pending.Add(session.CommitAsync().AsTask());
                ids.Add(session.Id);
            }
            var refused = tooLarge.CommitAsync().AsTask();
            pending.Add(changed.CommitAsync().AsTask());
            for (var i = commits / 2; i < commits; i++)
            {
                var session = await manager.StartAsync(new TestCarrier());
                session.Set("n", i);
                pending.Add(session.CommitAsync().AsTask());
                ids.Add(session.Id);
            }
            await WaitForAsync(() => database.QueuedCommits == commits + 2);
            var groupsBefore = database.CommitGroups;
            database.Pool.Return(held);

            await refused.Invoking(t => t).Should().ThrowAsync<SessionLimitExceededException>().WithMessage("*MaxPayloadBytes (1024)*");
            await Task.WhenAll(pending);
            (database.CommitGroups - groupsBefore).Should().Be(1);

            var stored = await manager.StartAsync(Request(big.Id));
            stored.GetString("a").Should().HaveLength(700);
            stored.TryGet<string>("b", out _).Should().BeFalse("the refused commit's writes were rolled back");
            (await manager.StartAsync(Request(existing.Id))).GetString("name").Should().Be("edward");
            for (var i = 0; i < commits; i++)
                (await manager.StartAsync(Request(ids[i]))).Get<int>("n").Should().Be(i);
        }
    }

    [Test]
    public async Task QueuedCommit_CancelledBeforeItsGroupBegins_IsNotApplied_AndTheOthersAre()
    {
        var database = new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { MaxConnections = 1 });
        using (database)
        using (var manager = new SessionManager(new SessionConfig { Database = database }))
        {
            var held = await database.Pool.RentAsync(CancellationToken.None);
            var kept = await manager.StartAsync(new TestCarrier());
            kept.Set("n", 1);
            var keptCommit = kept.CommitAsync().AsTask();
            using var cancel = new CancellationTokenSource();
            var dropped = await manager.StartAsync(new TestCarrier());
            dropped.Set("n", 2);
            var droppedCommit = dropped.CommitAsync(cancel.Token).AsTask();
            await WaitForAsync(() => database.QueuedCommits == 2);

            await cancel.CancelAsync();
            await droppedCommit.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
            database.Pool.Return(held);
            await keptCommit;

            (await database.LoadAsync(kept.Id, CancellationToken.None)).Should().NotBeNull();
            (await database.LoadAsync(dropped.Id, CancellationToken.None)).Should().BeNull("a commit cancelled while queued is never applied");
        }
    }

    [Test]
    public async Task WithAGroupCommitDelay_ConcurrentCommitsToOneSessionAndToDistinctOnes_AreAllApplied()
    {
        var database = new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { GroupCommitDelay = TimeSpan.FromMilliseconds(2) });
        using (database)
        using (var manager = new SessionManager(new SessionConfig { Database = database }))
        {
            var shared = await manager.StartAsync(new TestCarrier());
            shared.Set("start", true);
            await shared.CommitAsync();
            var ids = new string[32];
            await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    var own = await manager.StartAsync(i == 0 ? new TestCarrier() : Request(ids[w]));
                    own.Set("n", i);
                    await own.CommitAsync();
                    ids[w] = own.Id;
                    var common = await manager.StartAsync(Request(shared.Id));
                    common.Set($"w{w}", i);
                    await common.CommitAsync();
                }
            })));

            var stored = await manager.StartAsync(Request(shared.Id));
            for (var w = 0; w < 32; w++)
            {
                stored.Get<int>($"w{w}").Should().Be(9, "each request wrote only its own key of the shared session");
                (await manager.StartAsync(Request(ids[w]))).Get<int>("n").Should().Be(9);
            }
        }
    }

    [Test]
    public void GroupCommitDelay_OutOfRange_IsRefused()
    {
        var act = () => new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { GroupCommitDelay = TimeSpan.FromSeconds(2) });
        act.Should().Throw<ArgumentException>().WithMessage("*SqliteSessionDatabaseOptions.GroupCommitDelay*");
    }

    private static TestCarrier Request(string id) => new($"{SessionConfig.DefaultCookieName}={id}");

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
            await Task.Delay(5);
        condition().Should().BeTrue("the commits were queued");
    }
}
