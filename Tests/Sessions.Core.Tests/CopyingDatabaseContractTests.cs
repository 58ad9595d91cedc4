using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>
/// The store contract on <see cref="CopyingMemoryDatabase"/>, a database that stores private copies and takes each request's
/// changes at commit, the way Redis and the embedded store do; once completing synchronously, once asynchronously.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class CopyingDatabaseContractTests(bool asynchronous) : SessionDatabaseContract
{
    private CopyingMemoryDatabase Copying => (CopyingMemoryDatabase)Database;

    protected override ISessionDatabase CreateDatabase() => new CopyingMemoryDatabase(asynchronous);

    [Test]
    public async Task ReadOnlyRequest_OnAFreshSession_DoesNotWrite()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var commits = Copying.Commits;

        Time.Advance(TimeSpan.FromMinutes(1)); // less than a tenth of the idle window: not worth a write
        (await RequestAsync(id, s => s.GetString("name"))).Should().Be("iris");

        Copying.Commits.Should().Be(commits);
    }

    [Test]
    public async Task ReadOnlyRequest_AfterATenthOfTheIdleWindow_RefreshesTheIdleDeadline()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        Time.Advance(IdleTimeout / 5);
        var now = Time.GetUtcNow();
        (await RequestAsync(id, s => s.GetString("name"))).Should().Be("iris");

        (await Database.LoadAsync(id, CancellationToken.None))!.IdleDeadline.Should().Be(now + IdleTimeout);
    }

    [Test]
    public async Task LoadManyAsync_ReturnsOneEntryPerId_InOrder_NullForUnknown_ExpiredIncluded()
    {
        var old = await CreateSessionAsync(s => s.Set("old", 1));
        Time.Advance(IdleTimeout + TimeSpan.FromSeconds(1));
        var live = await CreateSessionAsync(s => s.Set("live", 2));
        var unknown = SessionIds.NewId();

        var records = await Copying.LoadManyAsync([live, unknown, old, live], CancellationToken.None);

        records.Select(r => r is null ? null : string.Join(",", r.Values.ToArray().Select(v => v.Key))).Should().Equal("live", null, "old", "live");
        records[2]!.IsExpired(Time.GetUtcNow()).Should().BeTrue("the manager checks the deadlines itself");
        records[0].Should().NotBeSameAs(records[3], "every entry is a private copy");
    }

    [Test]
    public async Task MalformedCookie_IsNeverLookedUp()
    {
        var loads = Copying.Loads;

        var session = await Manager.StartAsync(new TestCarrier("sid=not a valid id; sid=short; sid=" + new string('a', 200)));

        session.IsNew.Should().BeTrue();
        Copying.Loads.Should().Be(loads);
    }

    [Test]
    public async Task UncommittedWrite_IsNotVisibleToOtherRequests()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));

        var writing = await LoadAsync(id);
        writing.Set("name", "pending");
        (await LoadAsync(id)).GetString("name").Should().Be("iris");

        await writing.CommitAsync();
        (await LoadAsync(id)).GetString("name").Should().Be("pending");
    }

    [Test]
    public void SynchronousStart_OnAnAsynchronousDatabase_Throws()
    {
        var id = SessionIds.NewId();
        var act = () => Manager.Start(Request(id));

        if (asynchronous)
            act.Should().Throw<InvalidOperationException>().WithMessage("*StartAsync*");
        else
            act.Should().NotThrow().Which.IsNew.Should().BeTrue();
    }
}
