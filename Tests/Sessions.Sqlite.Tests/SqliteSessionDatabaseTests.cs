using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>What the SQLite database does beyond the shared contract: durability on reopen, limits, purge and bad files.</summary>
public sealed partial class SqliteSessionDatabaseTests
{
    private TempDirectory _directory = null!;
    private FakeTimeProvider _time = null!;
    private readonly List<IDisposable> _disposables = [];

    private string DbPath => _directory.File("sessions.db");

    [SetUp]
    public void SetUp()
    {
        _directory = new TempDirectory();
        var now = DateTimeOffset.UtcNow;
        _time = new FakeTimeProvider(new DateTimeOffset(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, TimeSpan.Zero));
    }

    [TearDown]
    public void TearDown()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
            _disposables[i].Dispose();
        _disposables.Clear();
        _directory.Dispose();
    }

    // ----- durability -------------------------------------------------------------------------------------------------

    [Test]
    public async Task Reopened_SessionKeepsValuesOrderFlashesImmutablesAndDeadlines()
    {
        var database = Open();
        var manager = Manager(database);
        var created = _time.GetUtcNow();
        var id = await CreateAsync(manager, s =>
        {
            s.Set("b", "second");
            s.Set("a", 42);
            s.SetImmutable("models", ContractModel.Defaults());
            s.SetFlash("notice", "saved");
        });
        database.Dispose();

        var reopened = Open();
        var record = await reopened.LoadAsync(id, CancellationToken.None);
        record.Should().NotBeNull();
        record!.AbsoluteDeadline.Should().Be(created + TimeSpan.FromHours(2));
        record.IdleDeadline.Should().Be(created + TimeSpan.FromMinutes(30));
        var session = await Manager(reopened).StartAsync(Request(id));
        session.IsNew.Should().BeFalse();
        session.GetAll().Keys.Should().Equal("b", "a", "models");
        session.GetInt32("a").Should().Be(42);
        session.Get<List<ContractModel>>("models")[0].Name.Should().Be("Edward");
        session.Invoking(s => s.Set("models", "changed")).Should().Throw<InvalidOperationException>();
        session.PeekFlash("notice").Should().Be("saved");
    }

    [Test]
    public async Task Integers_ReadBackAsInt64_WithoutLosingPrecision()
    {
        var manager = Manager(Open());
        var id = await CreateAsync(manager, s =>
        {
            s.Set("max", long.MaxValue);
            s.Set("small", 7);
            s.Set("fraction", 0.25);
        });

        var session = await manager.StartAsync(Request(id));

        session.Get("small").Should().BeOfType<long>().Which.Should().Be(7);
        session.GetInt64("max").Should().Be(long.MaxValue);
        session.Get("fraction").Should().BeOfType<double>().Which.Should().Be(0.25);
    }

    [Test]
    public async Task NormalSynchronousMode_AlsoPersistsAcrossReopen()
    {
        var options = Options();
        options.Synchronous = SqliteSynchronousMode.Normal;
        var database = Open(options);
        var id = await CreateAsync(Manager(database), s => s.Set("name", "iris"));
        database.Dispose();

        var session = await Manager(Open()).StartAsync(Request(id));
        session.GetString("name").Should().Be("iris");
        ReadPragma("synchronous").Should().NotBeNull("the file opens as SQLite");
    }

    [Test]
    public async Task RawIds_AreNeverStored_OnlyTheirSha256()
    {
        var database = Open();
        var id = await CreateAsync(Manager(database), s => s.Set("name", "iris"));
        database.Dispose();

        foreach (var file in Directory.GetFiles(_directory.Path))
            Encoding.ASCII.GetString(File.ReadAllBytes(file)).Should().NotContain(id, "{0} must not hold the raw ID", file);
        using var connection = RawConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT key FROM session";
        ((byte[])command.ExecuteScalar()!).Should().Equal(SessionIds.Hash(id));
    }

    [Test]
    public async Task FileIsInWalMode_AndStampedAsASessionDatabase()
    {
        var database = Open();
        await CreateAsync(Manager(database), s => s.Set("name", "iris"));

        ReadPragma("journal_mode").Should().Be("wal");
        ReadPragma("application_id").Should().Be(0x53455353L);
        ReadPragma("user_version").Should().Be(2L);
    }

    [Test]
    public async Task SynchronousStart_ThrowsAtOnce_NamingStartAsync_AndReadsNothing()
    {
        // Decided by the database, not by load: SQLite does not complete synchronously, so even an idle database refuses.
        var manager = Manager(Open());
        var id = await CreateAsync(manager, s => s.Set("name", "iris"));
        var request = Request(id);

        manager.Invoking(m => m.Start(request)).Should().Throw<InvalidOperationException>().WithMessage("*StartAsync*");
        request.Session.Should().BeNull("nothing was started");
        manager.Invoking(m => m.Start(new TestCarrier())).Should().Throw<InvalidOperationException>("a request without a cookie fails the same way, on the first request");
    }

    // ----- concurrency ------------------------------------------------------------------------------------------------

    [Test]
    public async Task ManyParallelCommits_ToDistinctKeysOfOneSession_LoseNothing()
    {
        var manager = Manager(Open());
        var id = await CreateAsync(manager, s => s.Set("start", 0));

        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var session = await manager.StartAsync(Request(id));
            session.Set($"key{i}", i);
            await session.CommitAsync();
        })));

        var all = (await manager.StartAsync(Request(id))).GetAll();
        all.Should().HaveCount(201);
        for (var i = 0; i < 200; i++)
            Convert.ToInt32(all[$"key{i}"], System.Globalization.CultureInfo.InvariantCulture).Should().Be(i);
    }

    [Test]
    public async Task KeyDeletedAndSetAgain_MovesLast_EvenWhenAnotherRequestAddedAKeyMeanwhile()
    {
        var manager = Manager(Open());
        var id = await CreateAsync(manager, s =>
        {
            s.Set("a", 1);
            s.Set("b", 2);
        });
        var moving = await manager.StartAsync(Request(id));
        var adding = await manager.StartAsync(Request(id));
        adding.Set("c", 3);
        await adding.CommitAsync();

        moving.Delete("a").Should().BeTrue();
        moving.Set("a", 10);
        moving.Set("b", 20); // replaced in place
        await moving.CommitAsync();

        (await manager.StartAsync(Request(id))).GetAll().Keys.Should().Equal("b", "c", "a");
    }

    // ----- limits -----------------------------------------------------------------------------------------------------

    [Test]
    public async Task CommitOverMaxPayloadBytes_Throws_AndChangesNothing()
    {
        var manager = Manager(Open(), maxPayloadBytes: 1024);
        var id = await CreateAsync(manager, s => s.Set("a", new string('a', 400)));
        await Request(manager, id, s => s.Set("b", new string('b', 400)));

        var third = await manager.StartAsync(Request(id));
        third.Set("a", "changed");
        third.Set("c", new string('c', 400));
        third.Set("d", new string('d', 300)); // about 1100 bytes in all
        await third.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>().WithMessage("*MaxPayloadBytes (1024)*");

        var single = await manager.StartAsync(Request(id));
        single.Set("huge", new string('h', 2000));
        await single.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>();

        var stored = await manager.StartAsync(Request(id));
        stored.GetAll().Keys.Should().Equal("a", "b");
        stored.GetString("a").Should().Be(new string('a', 400));
        await Request(manager, id, s => s.Set("b", "small now")); // replacing a value frees its bytes
        await Request(manager, id, s => s.Set("c", new string('c', 400)));
        (await manager.StartAsync(Request(id))).GetAll().Keys.Should().Equal("a", "b", "c");
    }

    [Test]
    public async Task LoweringMaxPayloadBytes_NeverDeletesAReadableStoredValue()
    {
        // A commit refuses to grow a session over the new limit, but never drops data it can read to make room.
        var database = Open();
        var id = await CreateAsync(Manager(database), s => s.Set("big", new string('x', 8000)));
        var lowered = Manager(database, maxPayloadBytes: 1024);

        var session = await lowered.StartAsync(Request(id));
        session.Set("small", 1);
        await session.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>();

        var reloaded = await lowered.StartAsync(Request(id));
        reloaded.GetString("big").Should().HaveLength(8000, "the readable value over the lowered limit is kept");
        reloaded.Delete("big").Should().BeTrue();
        await reloaded.CommitAsync();
        (await database.LoadAsync(id, CancellationToken.None))!.Count.Should().Be(0, "shrinking under the new limit is always possible");
    }

    [Test]
    public async Task NewSessionOverMaxPayloadBytes_Throws_AndStoresNoSession()
    {
        var database = Open();
        var manager = Manager(database, maxPayloadBytes: 100);

        var session = await manager.StartAsync(new TestCarrier());
        session.Set("big", new string('x', 200));
        await session.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>();

        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task PayloadLimit_CountsKeysValuesAndFlashesOfTheStoredSession_AndRefusesWithoutWriting()
    {
        var database = Open();
        var id = await CreateAsync(Manager(database), s =>
        {
            s.Set("alpha", new string('a', 100));
            s.SetFlash("notiz", "gespeichert");
        });
        var stored = SessionValueCodec.PayloadSize("alpha", SessionValueCodec.Encode("alpha", new SessionValue(new string('a', 100), false)))
            + SessionValueCodec.PayloadSize("notiz", SessionValueCodec.EncodeFlash("notiz", "gespeichert"));
        const string key = "größe"; // counted in UTF-8 bytes, not characters
        var value = new string('b', 50);
        var added = SessionValueCodec.PayloadSize(key, SessionValueCodec.Encode(key, new SessionValue(value, false)));
        var before = await database.LoadAsync(id, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(10)); // the refused request would also move the idle deadline

        var refused = await Manager(database, maxPayloadBytes: (int)(stored + added - 1)).StartAsync(Request(id));
        refused.Set(key, value);
        await refused.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionLimitExceededException>()
            .WithMessage($"*{stored + added} bytes*MaxPayloadBytes ({stored + added - 1})*");

        var after = await database.LoadAsync(id, CancellationToken.None);
        after!.Version.Should().Be(before!.Version, "nothing was written");
        after.IdleDeadline.Should().Be(before.IdleDeadline, "nothing was written, not even the deadlines");
        after.TryGetValue(key, out _).Should().BeFalse();
        after.TryGetFlash("notiz", out _).Should().BeTrue();

        await Request(Manager(database, maxPayloadBytes: (int)(stored + added)), id, s => s.Set(key, value));
        var accepted = await database.LoadAsync(id, CancellationToken.None);
        accepted!.TryGetValue(key, out var written).Should().BeTrue("exactly at the limit is allowed");
        written.Value.Should().Be(value);
        accepted.TryGetFlash("notiz", out _).Should().BeTrue();
    }

    // ----- purge ------------------------------------------------------------------------------------------------------

    [Test]
    public async Task PurgeTimer_RemovesExpiredSessions_AndKeepsLiveOnes()
    {
        var database = Open(); // purge every minute on the fake clock
        var manager = Manager(database);
        for (var i = 0; i < 5; i++)
            await CreateAsync(manager, s => s.Set("n", i));
        _time.Advance(TimeSpan.FromMinutes(20));
        var live = await CreateAsync(manager, s => s.Set("n", "live"));
        (await database.CountAsync(CancellationToken.None)).Should().Be(6);

        _time.Advance(TimeSpan.FromMinutes(11)); // the first five are idle past their 30 minutes

        (await database.CountAsync(CancellationToken.None)).Should().Be(1);
        (await manager.StartAsync(Request(live))).GetString("n").Should().Be("live");
        using var connection = RawConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM session_item";
        ((long)command.ExecuteScalar()!).Should().Be(1, "the purged sessions' values go with them");
    }

    [Test]
    public async Task PurgeExpired_DeletesInBoundedBatches_UntilNoneIsLeft()
    {
        var options = Options();
        options.PurgeBatchSize = 3;
        options.PurgeInterval = TimeSpan.FromDays(1); // only the explicit call purges
        var database = Open(options);
        var manager = Manager(database);
        for (var i = 0; i < 7; i++)
            await CreateAsync(manager, s => s.Set("n", i));

        database.PurgeExpired().Should().Be(0);
        _time.Advance(TimeSpan.FromMinutes(31));

        database.PurgeExpired().Should().Be(7);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task CommitOfAPurgedSession_IsReported_AndDoesNotRecreateIt()
    {
        var options = Options();
        options.PurgeInterval = TimeSpan.FromDays(1);
        var database = Open(options);
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("n", 1));
        var late = await manager.StartAsync(Request(id));

        _time.Advance(TimeSpan.FromMinutes(31));
        database.PurgeExpired().Should().Be(1);
        late.Set("late", "write");
        await late.Invoking(s => s.CommitAsync().AsTask()).Should().ThrowAsync<SessionEndedException>("the late write is reported, not dropped silently");

        (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    // ----- damaged rows -----------------------------------------------------------------------------------------------

    [Test]
    public async Task CorruptValueRows_AreDropped_AndTheSessionStillLoads()
    {
        var database = Open();
        var manager = Manager(database);
        var id = await CreateAsync(manager, s =>
        {
            s.Set("good", "kept");
            s.Set("notJson", 1);
            s.Set("noMarker", 2);
            s.Set("typeName", 3);
            s.Set("huge", 4);
            s.Set("textPayload", 5);
            s.SetFlash("badFlash", "x");
            s.SetFlash("goodFlash", "y");
        });
        ExecuteRaw("UPDATE session_item SET payload = X'767B6E6F74206A736F6E' WHERE name = 'notJson'"); // v{not json
        ExecuteRaw("UPDATE session_item SET payload = X'00FF00FF' WHERE name = 'noMarker'");
        ExecuteRaw("""UPDATE session_item SET payload = CAST('v{"$type":"System.Diagnostics.Process, System","StartInfo":{"FileName":"sh"}}' AS BLOB) WHERE name = 'typeName'""");
        ExecuteRaw("UPDATE session_item SET payload = zeroblob(1000000) WHERE name = 'huge'");
        ExecuteRaw("UPDATE session_item SET payload = 'v\"text\"' WHERE name = 'textPayload'");
        ExecuteRaw("UPDATE session_item SET payload = X'69' WHERE name = 'badFlash'"); // "i" and nothing else
        ExecuteRaw("INSERT INTO session_item (session, kind, name, ord, payload) SELECT session, 9, 'unknownKind', 99, X'7631' FROM session_item LIMIT 1");
        ExecuteRaw("INSERT INTO session_item (session, kind, name, ord, payload) SELECT session, 0, '', 98, X'7631' FROM session_item LIMIT 1");

        var session = await manager.StartAsync(Request(id));

        session.IsNew.Should().BeFalse();
        session.GetAll().Keys.Should().BeEquivalentTo(["good", "typeName", "textPayload"]);
        session.GetString("good").Should().Be("kept");
        session.Get("typeName").Should().BeOfType<JsonElement>("no type named in stored data is instantiated");
        session.GetString("textPayload").Should().Be("text");
        session.GetFlashes().Keys.Should().Equal("goodFlash");
        session.Set("good", "still writable");
        await session.CommitAsync();
        (await manager.StartAsync(Request(id))).GetString("good").Should().Be("still writable");
    }

    [Test]
    public async Task CorruptSessionRow_IsTreatedAsAbsent()
    {
        var database = Open();
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("name", "iris"));
        ExecuteRaw("UPDATE session SET idle_deadline = -5");

        (await database.LoadAsync(id, CancellationToken.None)).Should().BeNull();
        var session = await manager.StartAsync(Request(id));
        session.IsNew.Should().BeTrue();
        session.Get("name").Should().BeNull();
    }

    // ----- files that must not be used --------------------------------------------------------------------------------

    [Test]
    public void GarbageFile_FailsWithAClearError_AndIsLeftUntouched()
    {
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(DbPath, garbage);

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*not a SQLite database*");
        File.ReadAllBytes(DbPath).Should().Equal(garbage);
    }

    [Test]
    public void SqliteFileWithAnotherSchema_FailsWithAClearError_AndIsLeftUntouched()
    {
        using (var connection = RawConnection(create: true))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('edward')";
            command.ExecuteNonQuery();
        }
        var before = File.ReadAllBytes(DbPath);

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*another schema*");
        File.ReadAllBytes(DbPath).Should().Equal(before);
        Directory.GetFiles(_directory.Path).Select(Path.GetFileName).Should().NotContain("sessions.db-wal");
    }

    [Test]
    public void SessionDatabaseOfANewerSchemaVersion_FailsWithAClearError()
    {
        Open().Dispose();
        ExecuteRaw("PRAGMA user_version = 3");

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*version is 3*reads version 2*");
    }

    [Test]
    public async Task DamagedPages_FailAtStartUp_NotInARequest()
    {
        var database = Open();
        var manager = Manager(database);
        for (var i = 0; i < 100; i++)
            await CreateAsync(manager, s => s.Set("payload", new string('p', 500)));
        database.Dispose();
        File.Exists(DbPath + "-wal").Should().BeFalse("closing checkpoints the WAL into the file");
        var bytes = File.ReadAllBytes(DbPath);
        bytes.Length.Should().BeGreaterThan(8 * 4096);
        for (var i = 4096; i < bytes.Length; i += 7)
            bytes[i] = 0x5A; // everything after the first page (the header and schema) is damaged
        File.WriteAllBytes(DbPath, bytes);

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*damaged*");
        File.ReadAllBytes(DbPath).Should().Equal(bytes);
    }

    [Test]
    public void DamagedHeader_FailsWithAClearError()
    {
        Open().Dispose();
        var bytes = File.ReadAllBytes(DbPath);
        bytes[0] = (byte)'X';
        File.WriteAllBytes(DbPath, bytes);

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*not a SQLite database*");
    }

    [Test]
    public async Task EmptyFile_OrEmptySqliteDatabase_IsInitialised()
    {
        File.WriteAllBytes(DbPath, []);
        var database = Open();
        var id = await CreateAsync(Manager(database), s => s.Set("name", "iris"));
        (await database.LoadAsync(id, CancellationToken.None)).Should().NotBeNull();
        database.Dispose();

        var other = _directory.File("empty-sqlite.db");
        using (var connection = new SqliteConnection($"Data Source={other};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 0"; // creates a valid, empty SQLite file
            command.ExecuteNonQuery();
        }
        using var second = new SqliteSessionDatabase(other, Options(), _time);
        (await second.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task DatabaseLockAndWalFiles_AreCreatedOwnerOnly()
    {
        var database = Open();
        await CreateAsync(Manager(database), s => s.Set("name", "iris"));

        const UnixFileMode ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.GetUnixFileMode(DbPath).Should().Be(ownerOnly);
        File.GetUnixFileMode(DbPath + ".lock").Should().Be(ownerOnly);
        File.GetUnixFileMode(DbPath + "-wal").Should().Be(ownerOnly, "SQLite gives its WAL file the database file's mode");
        File.GetUnixFileMode(DbPath + "-shm").Should().Be(ownerOnly, "SQLite gives its shared-memory file the database file's mode");
    }

    [Test]
    public void MissingDirectory_FailsWithAClearError()
    {
        var path = Path.Combine(_directory.Path, "missing", "sessions.db");

        var act = () => new SqliteSessionDatabase(path, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{path}'*directory does not exist*");
        Directory.Exists(Path.GetDirectoryName(path)).Should().BeFalse();
    }

    [Test]
    public void SecondInstanceOnTheSameFile_FailsWithAClearError_UntilTheFirstIsDisposed()
    {
        var first = Open();

        var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);

        act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*in use by another process*");
        first.Dispose();
        using var second = new SqliteSessionDatabase(DbPath, Options(), _time);
        second.Path.Should().Be(DbPath);
    }

    [Test]
    public async Task ImmutableFile_FailsAsReadOnly_AndStaysReadable()
    {
        var database = Open();
        var id = await CreateAsync(Manager(database), s => s.Set("name", "iris"));
        database.Dispose();
        var before = File.ReadAllBytes(DbPath);

        // Tests run as root, which ignores permission bits: the immutable attribute makes the file read-only even for root.
        using (Immutable(DbPath))
        {
            var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);
            act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*read-only*");
        }

        File.ReadAllBytes(DbPath).Should().Equal(before);
        using var reopened = new SqliteSessionDatabase(DbPath, Options(), _time);
        (await reopened.LoadAsync(id, CancellationToken.None)).Should().NotBeNull();
    }

    [Test]
    public void ReadOnlyDirectory_ForANewDatabase_FailsWithAClearError()
    {
        using (Immutable(_directory.Path))
        {
            var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);
            act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*read-only*");
        }
        File.Exists(DbPath).Should().BeFalse();
    }

    [Test]
    public void ReadOnlyDirectory_ForAnExistingDatabase_FailsWithAClearError()
    {
        Open().Dispose();

        using (Immutable(_directory.Path))
        {
            var act = () => new SqliteSessionDatabase(DbPath, Options(), _time);
            act.Should().Throw<SessionDatabaseException>().WithMessage($"*'{DbPath}'*");
        }
    }

    [Test]
    public void InvalidOptions_ThrowNamingTheField()
    {
        var options = Options();
        options.MaxConnections = 0;
        var act = () => new SqliteSessionDatabase(DbPath, options);
        act.Should().Throw<ArgumentException>().WithMessage("*MaxConnections*");

        options = Options();
        options.PurgeBatchSize = -1;
        act = () => new SqliteSessionDatabase(DbPath, options);
        act.Should().Throw<ArgumentException>().WithMessage("*PurgeBatchSize*");

        act = () => new SqliteSessionDatabase(" ", Options(), _time);
        act.Should().Throw<ArgumentException>();
        File.Exists(DbPath).Should().BeFalse();
    }

    [Test]
    public async Task DisposedDatabase_RefusesOperations_AndReleasesTheFile()
    {
        var database = Open();
        database.Dispose();
        database.Dispose(); // idempotent

        await database.Invoking(d => d.LoadAsync(SessionIds.NewId(), CancellationToken.None).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        await database.Invoking(d => d.DestroyAllAsync(CancellationToken.None).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        database.Invoking(d => d.PurgeExpired()).Should().Throw<ObjectDisposedException>();
        using var reopened = new SqliteSessionDatabase(DbPath, Options(), _time);
        (await reopened.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task CancelledToken_CancelsBeforeAnythingIsWritten()
    {
        var database = Open();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await database.Invoking(d => d.DestroyAllAsync(cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
        await database.Invoking(d => d.LoadAsync(SessionIds.NewId(), cancelled.Token).AsTask()).Should().ThrowAsync<OperationCanceledException>();
    }

    // ----- helpers ----------------------------------------------------------------------------------------------------

    private static SqliteSessionDatabaseOptions Options() => new();

    private SqliteSessionDatabase Open(SqliteSessionDatabaseOptions? options = null)
    {
        var database = new SqliteSessionDatabase(DbPath, options ?? Options(), _time);
        _disposables.Add(database);
        return database;
    }

    private SessionManager Manager(ISessionDatabase database, int maxPayloadBytes = 64 * 1024)
    {
        var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = _time, MaxPayloadBytes = maxPayloadBytes });
        _disposables.Insert(0, manager);
        return manager;
    }

    private static TestCarrier Request(string id) => new($"{SessionConfig.DefaultCookieName}={id}");

    private static async Task<string> CreateAsync(SessionManager manager, Action<Session> write)
    {
        var session = await manager.StartAsync(new TestCarrier());
        write(session);
        await session.CommitAsync();
        return session.Id;
    }

    private static async Task Request(SessionManager manager, string id, Action<Session> body)
    {
        var session = await manager.StartAsync(Request(id));
        session.IsNew.Should().BeFalse();
        body(session);
        await session.CommitAsync();
    }

    private SqliteConnection RawConnection(bool create = false)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = DbPath,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
        }.ToString());
        connection.Open();
        return connection;
    }

    private void ExecuteRaw(string sql)
    {
        using var connection = RawConnection();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private object? ReadPragma(string name)
    {
        using var connection = RawConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return command.ExecuteScalar();
    }

    /// <summary>Sets the immutable attribute (<c>chattr +i</c>) until disposed.</summary>
    private static ImmutableAttribute Immutable(string path)
    {
        RunChattr("+i", path).Should().Be(0, "chattr +i must work on this machine's file system for the read-only tests");
        return new ImmutableAttribute(path);
    }

    private static int RunChattr(string flag, string path)
    {
        using var process = Process.Start(new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private sealed class ImmutableAttribute(string path) : IDisposable
    {
        public void Dispose() => RunChattr("-i", path);
    }
}
