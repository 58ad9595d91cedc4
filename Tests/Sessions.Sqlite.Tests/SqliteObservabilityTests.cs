using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <summary>
/// The SQLite health check and start-up warning on real files: healthy, then unhealthy when the file is deleted under
/// the open database, when every connection is held (as when the file is locked or the pool is exhausted), or when it is
/// disposed; and a payload limit the database refuses is logged once.
/// </summary>
public sealed class SqliteObservabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    private TempDirectory _directory = null!;
    private readonly List<IDisposable> _disposables = [];

    private string DbPath => _directory.File("sessions.db");

    [SetUp]
    public void SetUp() => _directory = new TempDirectory();

    [TearDown]
    public void TearDown()
    {
        for (var i = _disposables.Count - 1; i >= 0; i--)
            _disposables[i].Dispose();
        _disposables.Clear();
        _directory.Dispose();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    private SqliteSessionDatabase Open() =>
        Track(new SqliteSessionDatabase(DbPath, new SqliteSessionDatabaseOptions { OperationTimeout = Timeout, MaxConnections = 2 }));

    private static Task<HealthCheckResult> CheckAsync(SqliteSessionDatabase database) =>
        new SqliteSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext());

    [Test]
    public async Task AnOpenDatabase_IsHealthy_ThroughDependencyInjectionToo()
    {
        (await CheckAsync(Open())).Status.Should().Be(HealthStatus.Healthy);

        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(Track(new LogCapture()));
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSqliteSessionDatabase(_directory.File("di.db"));
        services.AddHealthChecks().AddSqliteSessionDatabaseCheck(tags: ["ready"]);
        await using var provider = services.BuildServiceProvider();
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        report.Entries.Should().ContainKey(SqliteSessionHealthChecksBuilderExtensions.DefaultName)
            .WhoseValue.Status.Should().Be(HealthStatus.Healthy);
    }

    [Test]
    public async Task ADatabaseWhoseFileWasDeleted_IsUnhealthy()
    {
        var database = Open();
        File.Delete(DbPath);

        var result = await CheckAsync(database);

        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Description.Should().Contain("sessions.db").And.Contain("is gone");
    }

    [Test]
    public async Task ADatabaseWithEveryConnectionHeld_IsUnhealthy_WithinTheOperationTimeout()
    {
        var database = Open();
        var held = new[] { await database.Pool.RentAsync(CancellationToken.None), await database.Pool.RentAsync(CancellationToken.None) };
        try
        {
            var started = DateTime.UtcNow;
            var result = await CheckAsync(database);
            (DateTime.UtcNow - started).Should().BeLessThan(Timeout + TimeSpan.FromSeconds(2));
            result.Status.Should().Be(HealthStatus.Unhealthy);
            result.Exception.Should().BeOfType<SessionDatabaseException>();
            await TestContext.Out.WriteLineAsync(result.Description);
        }
        finally
        {
            foreach (var connection in held)
                database.Pool.Return(connection);
        }
        (await CheckAsync(database)).Status.Should().Be(HealthStatus.Healthy, "it recovers once a connection is free");
    }

    [Test]
    public async Task ADisposedDatabase_IsUnhealthy()
    {
        var database = Open();
        database.Dispose();

        var result = await CheckAsync(database);

        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Description.Should().Contain("disposed");
    }

    [Test]
    public async Task ACommitOverThePayloadLimit_IsLoggedOnceAsAWarning_AndItsPayloadMeasured()
    {
        var logs = Track(new LogCapture());
        var meters = Track(new TestMeterFactory());
        using var metrics = MetricCapture.Of(meters);
        var manager = Track(new SessionManager(new SessionConfig { Database = Open(), LoggerFactory = logs, MeterFactory = meters, MaxPayloadBytes = 64 }));
        var request = new TestCarrier();
        (await manager.StartAsync(request)).Set("big", new string('x', 100));

        var commit = async () => await manager.CommitAsync(request);
        await commit.Should().ThrowAsync<SessionLimitExceededException>();

        var limit = logs.WithId(3).Should().ContainSingle().Subject;
        limit.Level.Should().Be(LogLevel.Warning);
        limit.Value("Fingerprint").Should().Be(manager.Fingerprint(request.Session!.Id));
        logs.Entries.Should().ContainSingle(e => e.Level >= LogLevel.Information);
        metrics.Of("sessions.payload.size").Should().ContainSingle().Which.Value.Should().BeGreaterThan(100);
        metrics.Of("sessions.commit.duration").Should().ContainSingle().Which.Tag("sessions.database").Should().Be("sqlite");
        logs.AllText().Should().NotContain(t => t.Contains(request.Session!.Id, StringComparison.Ordinal));
    }

    [Test]
    public async Task AStartUpOnAFileLockedByAnotherInstance_LogsOneWarning_AndAGoodStartLogsNone()
    {
        using (Open())
        {
            var locked = await StartHostedAsync(DbPath);
            var warning = locked.WithId(6).Should().ContainSingle().Subject;
            warning.Level.Should().Be(LogLevel.Warning);
            warning.Category.Should().Be(typeof(SqliteSessionDatabase).FullName);
            warning.Value("Database").Should().Be("sqlite");
            warning.Exception.Should().BeOfType<SessionDatabaseException>();
            await TestContext.Out.WriteLineAsync(warning.Message);
        }

        (await StartHostedAsync(_directory.File("free.db"))).WithId(6).Should().BeEmpty();
    }

    /// <summary>Runs the hosted services <c>AddSqliteSessionDatabase</c> registered, as a host starts and stops them.</summary>
    private async Task<LogCapture> StartHostedAsync(string path)
    {
        var logs = Track(new LogCapture());
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddSqliteSessionDatabase(path);
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        hosted.Should().ContainSingle();
        foreach (var service in hosted)
            await service.StartAsync(CancellationToken.None);
        foreach (var service in hosted)
            await service.StopAsync(CancellationToken.None); // waits for the background check
        return logs;
    }
}
