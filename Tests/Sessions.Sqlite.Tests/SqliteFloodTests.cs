using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// A flood of cookieless first writes (one new session each) against a fresh SQLite file. SQLite has no session-count
/// bound of its own: the outcome is that every request gets a session and a cookie, the file holds every session until
/// the purge removes it after expiry, and the process stays flat, holding nothing per session. Bound the file's growth
/// with the disk (or the file system's quota); the purge is what gives the rows back. The file does not shrink (the
/// database never runs <c>VACUUM</c>): the purged pages go to SQLite's freelist, and later sessions reuse them, so the
/// file stays at its high-water mark instead of growing again. The database is opened with
/// <see cref="SqliteSynchronousMode.Normal"/>: <see cref="SqliteSynchronousMode.Full"/> (the default) costs one fsync per
/// commit, which would make 10^5 commits a disk benchmark rather than a memory test.
/// </summary>
[NonParallelizable]
public sealed class SqliteFloodTests
{
    private const int Requests = 100_000;
    private const int Concurrency = 32;
    private const long ProcessGrowthBound = 32L * 1024 * 1024;

    private TempDirectory _directory = null!;

    [SetUp]
    public void SetUp() => _directory = new TempDirectory();

    [TearDown]
    public void TearDown() => _directory.Dispose();

    [Test]
    public async Task SessionFlood_OfCookielessFirstWrites_IsAllHeldByTheFile_TheProcessStaysFlat_AndThePurgeEmptiesIt()
    {
        var now = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
        var options = new SqliteSessionDatabaseOptions
        {
            Synchronous = SqliteSynchronousMode.Normal,
            PurgeInterval = TimeSpan.FromDays(1), // only the explicit calls purge
        };
        using var database = new SqliteSessionDatabase(_directory.File("sessions.db"), options, time);
        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = time });

        var (accepted, withCookie, sample, growth, _) = await SessionFlood.RunAsync(manager, database, Requests, Concurrency);

        accepted.Should().Be(Requests, "SQLite has no session-count bound: no request is refused");
        withCookie.Should().Be(Requests, "every accepted request got exactly one cookie naming its session");
        growth.Should().BeLessThan(ProcessGrowthBound, "the process holds nothing per session (grew by {0} bytes)", growth);
        (await database.CountAsync(CancellationToken.None)).Should().Be(Requests, "the file holds every session");
        foreach (var id in sample)
        {
            var record = await database.LoadAsync(id!, CancellationToken.None);
            record.Should().NotBeNull();
            HasOnlyKeyN(record!).Should().BeTrue();
        }

        // Nothing is expired yet: the purge keeps every session.
        database.PurgeExpired().Should().Be(0);
        (await database.CountAsync(CancellationToken.None)).Should().Be(Requests);

        // Idle past the timeout: the purge removes them all, in batches, until none is left.
        time.Advance(new SessionConfig().IdleTimeout + TimeSpan.FromMinutes(1));
        long purged = 0;
        int removed;
        while ((removed = database.PurgeExpired()) > 0)
            purged += removed;
        purged.Should().Be(Requests);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
        foreach (var id in sample)
            (await database.LoadAsync(id!, CancellationToken.None)).Should().BeNull();

        // The file keeps its pages (no VACUUM) on the freelist; new sessions are accepted again and reuse them.
        var pages = Pragma("page_count");
        Pragma("freelist_count").Should().BeGreaterThan(0, "the purged rows' pages are free for reuse");
        for (var i = 0; i < Requests / 10; i++)
        {
            var (again, againCookie) = await SessionFlood.FirstWriteAsync(manager, i);
            againCookie.Should().Be(again);
        }
        (await database.CountAsync(CancellationToken.None)).Should().Be(Requests / 10);
        Pragma("page_count").Should().BeLessThanOrEqualTo(pages, "new sessions fill the freed pages before the file grows");
    }


    private long Pragma(string name)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = _directory.File("sessions.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return (long)command.ExecuteScalar()!;
    }

    private static bool HasOnlyKeyN(SessionRecord record) => record.Values.Length == 1 && record.Values[0].Key == "n";
}
