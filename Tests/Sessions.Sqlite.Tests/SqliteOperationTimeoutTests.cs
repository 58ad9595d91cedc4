using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// Attacks on the write queue: writers piled up behind a held lock, a file locked by another process, callers that give
/// up. Every operation ends within <see cref="SqliteSessionDatabaseOptions.OperationTimeout"/> (plus a bounded margin)
/// with a <see cref="SessionDatabaseException"/> naming it, or with <see cref="OperationCanceledException"/> when its
/// caller cancels; nothing is half-written, and the database works again once the lock is gone.
/// </summary>
public sealed class SqliteOperationTimeoutTests
{
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(2);

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

    [Test]
    public async Task WritersQueuedBehindAForeignWriteLock_EachFailWithinTheOperationTimeout_AndNothingIsHalfWritten()
    {
        var database = Open(new SqliteSessionDatabaseOptions()); // the defaults: a 5 s operation timeout
        var budget = TimeSpan.FromSeconds(5) + Margin;
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("name", "ada"));

        List<(Exception? Error, TimeSpan Elapsed)> results;
        using (HoldWriteLock())
        {
            var writers = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
            {
                var session = await manager.StartAsync(Request(id));
                session.Set($"k{i}", i);
                var clock = Stopwatch.StartNew();
                try
                {
                    await session.CommitAsync();
                    return ((Exception?)null, clock.Elapsed);
                }
                catch (Exception e)
                {
                    return (e, clock.Elapsed);
                }
            })).ToArray();
            results = (await Task.WhenAll(writers)).ToList();
        }

        foreach (var (error, elapsed) in results)
        {
            error.Should().BeOfType<SessionDatabaseException>().Which.Message.Should().Contain("SqliteSessionDatabaseOptions.OperationTimeout");
            elapsed.Should().BeLessThan(budget, "a queued writer must not wait for every writer ahead of it");
        }
        var after = await manager.StartAsync(Request(id));
        after.GetAll().Keys.Should().Equal(["name"], "a timed-out commit writes nothing");
        after.Set("k", "after");
        await after.CommitAsync();
        (await manager.StartAsync(Request(id))).GetString("k").Should().Be("after", "the database works again once the lock is gone");
    }

    [Test]
    public async Task EveryWrite_BehindAForeignWriteLock_FailsWithinTheOperationTimeout_WhileLoadsGoOn()
    {
        var database = Open(new SqliteSessionDatabaseOptions { OperationTimeout = TimeSpan.FromSeconds(1) });
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("name", "ada"));
        var session = await manager.StartAsync(Request(id));
        session.Set("k", "v");

        using (HoldWriteLock())
        {
            var operations = new Dictionary<string, Func<Task>>
            {
                ["commit"] = () => session.CommitAsync().AsTask(),
                ["renew"] = () => database.RenewAsync(id, SessionIds.NewId(), CancellationToken.None).AsTask(),
                ["destroy"] = () => database.DestroyAsync(id, CancellationToken.None).AsTask(),
                ["update expiration"] = () => database.UpdateExpirationAsync(id, null, _time.GetUtcNow().AddHours(1), CancellationToken.None).AsTask(),
                ["destroy all"] = () => database.DestroyAllAsync(CancellationToken.None).AsTask(),
                ["purge"] = () => Task.Run(() => database.PurgeExpired()),
            };
            await ExpectTimeoutsAsync(operations, TimeSpan.FromSeconds(1));
            (await database.LoadAsync(id, CancellationToken.None)).Should().NotBeNull("a writer's lock does not block readers (WAL)");
        }

        await ExpectWorkingAsync(database, manager, id);
    }

    [Test]
    public async Task EveryOperation_WithEveryConnectionHeld_FailsWithinTheOperationTimeout_AndWorksOnceOneIsFree()
    {
        var database = Open(new SqliteSessionDatabaseOptions { OperationTimeout = TimeSpan.FromSeconds(1), MaxConnections = 2 });
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("name", "ada"));
        var session = await manager.StartAsync(Request(id));
        session.Set("k", "v");

        var held = new[] { await database.Pool.RentAsync(CancellationToken.None), await database.Pool.RentAsync(CancellationToken.None) };
        try
        {
            var operations = new Dictionary<string, Func<Task>>
            {
                ["load"] = () => database.LoadAsync(id, CancellationToken.None).AsTask(),
                ["count"] = () => database.CountAsync(CancellationToken.None).AsTask(),
                ["commit"] = () => session.CommitAsync().AsTask(),
                ["renew"] = () => database.RenewAsync(id, SessionIds.NewId(), CancellationToken.None).AsTask(),
                ["destroy"] = () => database.DestroyAsync(id, CancellationToken.None).AsTask(),
                ["update expiration"] = () => database.UpdateExpirationAsync(id, null, _time.GetUtcNow().AddHours(1), CancellationToken.None).AsTask(),
                ["destroy all"] = () => database.DestroyAllAsync(CancellationToken.None).AsTask(),
                ["purge"] = () => Task.Run(() => database.PurgeExpired()),
            };
            await ExpectTimeoutsAsync(operations, TimeSpan.FromSeconds(1));
        }
        finally
        {
            foreach (var connection in held)
                database.Pool.Return(connection);
        }

        await ExpectWorkingAsync(database, manager, id);
    }

    [Test]
    public async Task CallerCancellation_WhileQueuedOrWaitingForALock_ThrowsOperationCanceled_LongBeforeTheTimeout()
    {
        var database = Open(new SqliteSessionDatabaseOptions { OperationTimeout = TimeSpan.FromSeconds(60), BusyTimeout = TimeSpan.FromSeconds(60), MaxConnections = 1 });
        var manager = Manager(database);
        var id = await CreateAsync(manager, s => s.Set("name", "ada"));
        var session = await manager.StartAsync(Request(id));
        session.Set("k", "v");

        using (HoldWriteLock())
        {
            using var cancel = new CancellationTokenSource();
            var clock = Stopwatch.StartNew();
            var waiting = new[]
            {
                session.CommitAsync(cancel.Token).AsTask(), // takes the write queue and the connection, then waits for the file's lock
                database.DestroyAsync(id, cancel.Token).AsTask(), // queued behind it
                database.LoadAsync(id, cancel.Token).AsTask(), // waits for the one connection
            };
            await Task.Delay(300);
            waiting.Should().OnlyContain(t => !t.IsCompleted, "every operation is still waiting");
            await cancel.CancelAsync();

            foreach (var task in waiting)
                await task.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "cancellation ends the wait, not the 60 s timeout");
        }

        await ExpectWorkingAsync(database, manager, id);
    }

    [Test]
    public void OperationTimeout_OutOfRange_IsRefusedNamingIt()
    {
        foreach (var timeout in new[] { TimeSpan.Zero, TimeSpan.FromSeconds(-1), TimeSpan.FromMinutes(6) })
        {
            var act = () => new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { OperationTimeout = timeout }, _time);
            act.Should().Throw<ArgumentException>().WithMessage("*SqliteSessionDatabaseOptions.OperationTimeout*");
        }
    }

    // ----- helpers ----------------------------------------------------------------------------------------------------

    /// <summary>Runs every operation at once; each must fail with a time-out naming the setting, within it plus the margin.</summary>
    private static async Task ExpectTimeoutsAsync(Dictionary<string, Func<Task>> operations, TimeSpan timeout)
    {
        var runs = operations.Select(async operation =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await operation.Value();
                return (operation.Key, Error: (Exception?)null, clock.Elapsed);
            }
            catch (Exception e)
            {
                return (operation.Key, Error: e, clock.Elapsed);
            }
        }).ToList();
        foreach (var (name, error, elapsed) in await Task.WhenAll(runs))
        {
            error.Should().BeOfType<SessionDatabaseException>($"{name} must time out").Which.Message.Should().Contain("SqliteSessionDatabaseOptions.OperationTimeout", name);
            elapsed.Should().BeLessThan(timeout + Margin, $"{name} must end within the operation timeout");
        }
    }

    /// <summary>After the attack: the session is as it was (nothing half-written), and every operation works again.</summary>
    private async Task ExpectWorkingAsync(SqliteSessionDatabase database, SessionManager manager, string id)
    {
        // Once the write lock is free: on a loaded CI machine a timed-out operation's connection was once seen still
        // finishing its rollback a second after the attacker let go (the next commit timed out behind it).
        using (var probe = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadWrite, Pooling = false, DefaultTimeout = 10 }.ToString()))
        {
            probe.Open();
            using var command = probe.CreateCommand();
            command.CommandText = "PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE; ROLLBACK";
            await command.ExecuteNonQueryAsync();
        }
        var session = await manager.StartAsync(Request(id));
        session.IsNew.Should().BeFalse("no timed-out destroy or renew took effect");
        session.GetAll().Keys.Should().Equal(["name"], "no timed-out commit wrote anything");
        session.Set("after", 1);
        await session.CommitAsync();
        (await database.CountAsync(CancellationToken.None)).Should().Be(1);
        (await database.UpdateExpirationAsync(id, null, DateTimeOffset.UtcNow.AddHours(1), CancellationToken.None)).Should().BeTrue();
        (await database.DestroyAsync(id, CancellationToken.None)).Should().BeTrue();
        await database.DestroyAllAsync(CancellationToken.None);
        database.PurgeExpired().Should().Be(0);
    }

    private SqliteSessionDatabase Open(SqliteSessionDatabaseOptions options)
    {
        var database = new SqliteSessionDatabase(DbPath, options, _time);
        _disposables.Add(database);
        return database;
    }

    private SessionManager Manager(ISessionDatabase database)
    {
        var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = _time });
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

    /// <summary>Another connection to the file (as another process would open it) holding its write lock until disposed.</summary>
    private SqliteConnection HoldWriteLock(bool exclusive = false)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = exclusive
            ? "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE session SET version = version WHERE 0"
            : "BEGIN IMMEDIATE";
        command.ExecuteNonQuery();
        return connection;
    }
}
