using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>The shared store contract on a fresh SQLite file per test.</summary>
public sealed class SqliteContractTests : SessionDatabaseContract
{
    // The purge runs on the system clock here, not the contract's fake one: the purge cannot report which sessions it
    // removed (only hashes are stored), and the contract expects the manager to find expired sessions and raise Expired
    // itself. SqliteSessionDatabaseTests drives the purge with a fake clock.
    protected override ISessionDatabase CreateDatabase() =>
        new SqliteSessionDatabase(new TempDirectory().File("sessions.db"));

    protected override async ValueTask DisposeDatabaseAsync(ISessionDatabase database)
    {
        await base.DisposeDatabaseAsync(database);
        TempDirectory.Delete(Path.GetDirectoryName(((SqliteSessionDatabase)database).Path)!);
    }

    [Test]
    public async Task ReadOnlyRequest_OnAFreshSession_DoesNotWrite()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var version = (await Database.LoadAsync(id, CancellationToken.None))!.Version;

        Time.Advance(TimeSpan.FromMinutes(1)); // less than a tenth of the idle window: not worth a write
        (await RequestAsync(id, s => s.GetString("name"))).Should().Be("iris");

        (await Database.LoadAsync(id, CancellationToken.None))!.Version.Should().Be(version);
    }

    [Test]
    public async Task EveryCommit_MovesTheVersion()
    {
        var id = await CreateSessionAsync(s => s.Set("name", "iris"));
        var first = (await Database.LoadAsync(id, CancellationToken.None))!.Version;

        await RequestAsync(id, s => s.Set("name", "edward"));

        (await Database.LoadAsync(id, CancellationToken.None))!.Version.Should().Be(first + 1);
    }

    [Test]
    public async Task CountAsync_CountsStoredSessions()
    {
        var counter = (ISessionCounter)Database;
        (await counter.CountAsync(CancellationToken.None)).Should().Be(0);

        var id = await CreateSessionAsync(s => s.Set("a", 1));
        await CreateSessionAsync(s => s.Set("a", 2));
        (await counter.CountAsync(CancellationToken.None)).Should().Be(2);

        await Database.DestroyAsync(id, CancellationToken.None);
        (await counter.CountAsync(CancellationToken.None)).Should().Be(1);
    }
}
