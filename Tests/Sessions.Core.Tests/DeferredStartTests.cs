using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>
/// What a deferred start (<see cref="SessionManager.StartDeferred"/>) asks of a database that stores copies, counted by
/// <see cref="CopyingMemoryDatabase"/>: no load for a request that only writes or does nothing, one commit per request
/// that writes, and a load only when the request reads what it did not write (synchronously on a database that completes
/// synchronously, never blocking on one that does not).
/// </summary>
public class DeferredStartTests
{
    private static async Task<(SessionManager Manager, CopyingMemoryDatabase Database, string Id)> StoredSessionAsync(bool asynchronous)
    {
        var database = new CopyingMemoryDatabase(asynchronous);
        var manager = new SessionManager(new SessionConfig { Database = database });
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        session.Set("a", 1);
        await session.CommitAsync();
        return (manager, database, session.Id);
    }

    private static TestCarrier Request(string cookieHeader) => new(cookieHeader);

    [TestCase(true)]
    [TestCase(false)]
    public async Task AWriteOnlyRequest_LoadsNothing_AndCommitsOnce(bool asynchronous)
    {
        var (manager, database, id) = await StoredSessionAsync(asynchronous);
        using var _ = manager;
        var (loads, commits) = (database.Loads, database.Commits);

        var carrier = Request("sid=" + id);
        var session = manager.StartDeferred(carrier);
        session.Set("b", 2);
        session.GetInt32("b").Should().Be(2);
        await carrier.StartResponseAsync();

        database.Loads.Should().Be(loads);
        database.Commits.Should().Be(commits + 1);
        session.IsLoaded.Should().BeFalse("nothing needed the stored session");
    }

    [Test]
    public async Task ARequestThatDoesNothing_WithDecoysBeforeTheCookie_LoadsNothing()
    {
        var (manager, database, id) = await StoredSessionAsync(asynchronous: true);
        using var _ = manager;
        var (loads, commits) = (database.Loads, database.Commits);

        var carrier = Request($"sid={SessionIds.NewId()}; sid={SessionIds.NewId()}; sid={id}");
        manager.StartDeferred(carrier);
        await carrier.StartResponseAsync();

        database.Loads.Should().Be(loads, "with nothing to commit, the decoys need not be told from the real cookie");
        database.Commits.Should().Be(commits);
    }

    [Test]
    public async Task OnADatabaseThatCompletesSynchronously_AReadOfAnotherKey_LoadsThere()
    {
        var (manager, database, id) = await StoredSessionAsync(asynchronous: false);
        using var _ = manager;
        var loads = database.Loads;

        var session = manager.StartDeferred(Request("sid=" + id));
        session.GetInt32("a").Should().Be(1);

        database.Loads.Should().Be(loads + 1);
        session.IsLoaded.Should().BeTrue();
        session.Id.Should().Be(id);
    }

    [Test]
    public async Task OnADatabaseThatDoesNot_AReadOfAnotherKey_ThrowsBeforeAnyIo_AndLoadAsyncThenServesIt()
    {
        var (manager, database, id) = await StoredSessionAsync(asynchronous: true);
        using var _ = manager;
        var loads = database.Loads;

        var session = manager.StartDeferred(Request("sid=" + id));
        session.Invoking(s => s.GetInt32("a")).Should().Throw<InvalidOperationException>()
            .WithMessage("*StartDeferred*'a'*await session.LoadAsync()*");
        database.Loads.Should().Be(loads, "the read threw instead of waiting on the database");

        await session.LoadAsync();
        await session.LoadAsync(); // loaded: nothing more
        session.GetInt32("a").Should().Be(1);
        database.Loads.Should().Be(loads + 1);
    }

    [Test]
    public async Task AfterClear_EveryKeyIsAnsweredWithoutALoad()
    {
        var (manager, database, id) = await StoredSessionAsync(asynchronous: true);
        using var _ = manager;
        var loads = database.Loads;

        var carrier = Request("sid=" + id);
        var session = manager.StartDeferred(carrier);
        session.Clear();
        session.Get("a").Should().BeNull("the request cleared every value");
        await carrier.StartResponseAsync();

        database.Loads.Should().Be(loads);
        (await manager.StartAsync(Request("sid=" + id))).Count.Should().Be(0);
    }

    [Test]
    public async Task ANullKey_IsRefused_LoadedOrNot()
    {
        var (manager, _, id) = await StoredSessionAsync(asynchronous: true);
        using var __ = manager;

        var deferred = manager.StartDeferred(Request("sid=" + id));
        var loaded = await manager.StartAsync(Request("sid=" + id));

        foreach (var session in new[] { deferred, loaded })
        {
            session.Invoking(s => s.Get(null!)).Should().Throw<ArgumentNullException>().WithParameterName("key");
            session.Invoking(s => s.GetString(null!)).Should().Throw<ArgumentNullException>().WithParameterName("key");
            session.Invoking(s => s.Delete(null!)).Should().Throw<ArgumentNullException>().WithParameterName("key");
        }
    }

    [Test]
    public void OnTheMemoryDatabase_StartDeferred_IsStart()
    {
        using var manager = new SessionManager();
        var first = new TestCarrier();
        manager.Start(first).Set("a", 1);
        var id = first.Written.Single().Value;

        var session = manager.StartDeferred(Request("sid=" + id));

        session.IsLoaded.Should().BeTrue();
        session.Id.Should().Be(id);
        session.GetInt32("a").Should().Be(1);
    }
}
