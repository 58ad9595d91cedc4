using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary><c>services.AddSqliteSessionDatabase(...)</c>: what it registers, what it checks, and that it works on a real file.</summary>
[TestFixture]
public sealed class RegistrationTests
{
    [Test]
    public async Task AddSqliteSessionDatabase_RegistersOneSingleton_AsISessionDatabase_ThatTheManagerUses_AndDisposesIt()
    {
        using var folder = new TempDirectory();
        var path = folder.File("sessions.db");
        var services = new ServiceCollection().AddSqliteSessionDatabase(path, o => o.MaxConnections = 2);
        string id;
        SqliteSessionDatabase database;
        await using (var provider = services.BuildServiceProvider())
        {
            database = provider.GetRequiredService<SqliteSessionDatabase>();
            provider.GetRequiredService<ISessionDatabase>().Should().BeSameAs(database);
            database.Path.Should().Be(Path.GetFullPath(path));

            using var manager = new SessionManager(new SessionConfig { Database = provider.GetRequiredService<ISessionDatabase>() });
            var session = await manager.StartAsync(new TestCarrier());
            session.Set("name", "iris");
            await session.CommitAsync();
            id = session.Id;
        }
        await FluentActions.Awaiting(async () => await database.LoadAsync(id, CancellationToken.None))
            .Should().ThrowAsync<ObjectDisposedException>("the container disposed the database it created");

        using var reopened = new SqliteSessionDatabase(path);
        (await reopened.LoadAsync(id, CancellationToken.None))!.Count.Should().Be(1, "the session was written to the file");
    }

    [Test]
    public async Task AddSqliteSessionDatabase_FromConfiguration_BindsThePath_AndTheOptions()
    {
        using var folder = new TempDirectory();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sessions:Sqlite:Path"] = folder.File("configured.db"),
            ["Sessions:Sqlite:Synchronous"] = "Normal",
            ["Sessions:Sqlite:MaxConnections"] = "3",
            ["Sessions:Sqlite:BusyTimeout"] = "00:00:02",
        }).Build();
        var services = new ServiceCollection().AddSqliteSessionDatabase(configuration.GetSection("Sessions:Sqlite"));
        await using var provider = services.BuildServiceProvider();

        var database = provider.GetRequiredService<SqliteSessionDatabase>();
        database.Path.Should().Be(folder.File("configured.db"));
        var connection = database.Pool.Rent(TimeSpan.FromSeconds(5)) ?? throw new InvalidOperationException("no pooled connection");
        try
        {
            using var pragma = connection.Connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous";
            Convert.ToInt64(pragma.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture).Should().Be(1, "Synchronous = Normal was bound from configuration");
        }
        finally
        {
            database.Pool.Return(connection);
        }

        using var manager = new SessionManager(new SessionConfig { Database = provider.GetRequiredService<ISessionDatabase>() });
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("name", "iris");
        await session.CommitAsync();
        (await database.LoadAsync(session.Id, CancellationToken.None))!.Count.Should().Be(1);
        File.Exists(folder.File("configured.db")).Should().BeTrue();
    }

    [Test]
    public async Task AddSqliteSessionDatabase_TakesTheContainersTimeProvider()
    {
        using var folder = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddSqliteSessionDatabase(folder.File("clock.db"), o => o.PurgeInterval = TimeSpan.FromMinutes(1));
        await using var provider = services.BuildServiceProvider();
        var database = provider.GetRequiredService<SqliteSessionDatabase>();
        using var manager = new SessionManager(new SessionConfig { Database = database, TimeProvider = time, IdleTimeout = TimeSpan.FromMinutes(5) });
        var session = await manager.StartAsync(new TestCarrier());
        session.Set("name", "iris");
        await session.CommitAsync();
        (await database.CountAsync(CancellationToken.None)).Should().Be(1);

        // the session is due on the fake clock only: the database sees it expired (and its purge timer fires) only on the container's clock
        time.Advance(TimeSpan.FromMinutes(10));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await database.CountAsync(CancellationToken.None) != 0 && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        (await database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public void AddSqliteSessionDatabase_ChecksItsArguments_AtRegistration()
    {
        var services = new ServiceCollection();
        FluentActions.Invoking(() => services.AddSqliteSessionDatabase("  ")).Should().Throw<ArgumentException>().WithMessage("*path*");
        FluentActions.Invoking(() => services.AddSqliteSessionDatabase("x.db", o => o.MaxConnections = 0)).Should().Throw<ArgumentException>().WithMessage("*MaxConnections*");
        var noPath = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Db:MaxConnections"] = "2" }).Build();
        FluentActions.Invoking(() => services.AddSqliteSessionDatabase(noPath.GetSection("Db"))).Should().Throw<ArgumentException>().WithMessage("*'Path'*'Db'*");
        var badTimeout = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Path"] = "x.db", ["BusyTimeout"] = "00:00:00.1" }).Build();
        FluentActions.Invoking(() => services.AddSqliteSessionDatabase(badTimeout)).Should().Throw<ArgumentException>().WithMessage("*BusyTimeout*");
        services.Should().BeEmpty();
    }
}
