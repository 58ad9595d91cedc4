using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sessions.Testing;

namespace Sessions.Redis.Tests;

/// <summary>
/// The Redis health check, start-up warning and store-failure telemetry against a real redis-server of each test's own,
/// on its own port, stopped (killed or frozen) by its PID.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisObservabilityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    private readonly List<IDisposable> _cleanup = [];

    [TearDown]
    public void CleanUp()
    {
        for (var i = _cleanup.Count - 1; i >= 0; i--)
            _cleanup[i].Dispose();
        _cleanup.Clear();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _cleanup.Add(disposable);
        return disposable;
    }

    private async Task<(RedisProcess Redis, RedisSessionDatabase Database)> StartAsync()
    {
        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var database = Track(new RedisSessionDatabase($"127.0.0.1:{redis.Port}", new RedisSessionOptions { OperationTimeout = Timeout }));
        await database.Connection;
        return (redis, database);
    }

    [Test]
    public async Task HealthCheck_IsHealthy_AndLoadsEveryScriptIntoAnEmptyScriptCache()
    {
        var (redis, database) = await StartAsync();
        using (var admin = redis.Admin())
            admin.Call("SCRIPT", "FLUSH").Should().Be("OK");

        var result = await new RedisSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext());

        result.Status.Should().Be(HealthStatus.Healthy, result.Description);
        result.Data["primaries"].Should().Be(1);
        result.Data["unreachable"].Should().Be(0);
        using var check = redis.Admin();
        foreach (var script in RedisScripts.All)
            check.Call("SCRIPT", "EXISTS", Convert.ToHexStringLower(script.Hash)).Should().Be("1", "the check loaded the script");
    }

    [Test]
    public async Task HealthCheck_IsUnhealthy_WhenTheServerIsStopped_AndReportsTheRegisteredFailureStatusThroughDependencyInjection()
    {
        var (redis, database) = await StartAsync();
        redis.Dispose();

        var direct = await new RedisSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext());
        direct.Status.Should().Be(HealthStatus.Unhealthy);
        direct.Description.Should().Contain("Redis");
        await TestContext.Out.WriteLineAsync($"stopped: {direct.Description}");

        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(new LogCapture());
        services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        services.AddSingleton(database);
        services.AddHealthChecks().AddRedisSessionDatabaseCheck(failureStatus: HealthStatus.Degraded, tags: ["ready"]);
        await using var provider = services.BuildServiceProvider();
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = report.Entries.Should().ContainKey(RedisSessionHealthChecksBuilderExtensions.DefaultName).WhoseValue;
        entry.Status.Should().Be(HealthStatus.Degraded, "a failure reports the registration's failure status");
        entry.Tags.Should().Equal("ready");
    }

    [Test]
    public async Task HealthCheck_OfAFrozenServer_FailsWithinTheOperationTimeout()
    {
        var (redis, database) = await StartAsync();
        redis.Pause();
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var result = await new RedisSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext());
            stopwatch.Elapsed.Should().BeLessThan(Timeout + TimeSpan.FromSeconds(1));
            result.Status.Should().Be(HealthStatus.Unhealthy);
            result.Description.Should().Contain("did not answer within the operation timeout");
        }
        finally
        {
            redis.Resume();
        }
    }

    [Test]
    public async Task AStoreFailure_IsCountedTimedTracedAndLoggedOnce_NamingTheSessionByItsFingerprint()
    {
        var (redis, database) = await StartAsync();
        var logs = Track(new LogCapture());
        var meters = Track(new TestMeterFactory());
        using var metrics = MetricCapture.Of(meters);
        var manager = Track(new SessionManager(new SessionConfig { Database = database, LoggerFactory = logs, MeterFactory = meters }));
        var first = new TestCarrier();
        (await manager.StartAsync(first)).Set("name", "iris");
        await manager.CommitAsync(first);
        var id = first.Session!.Id;
        redis.Dispose();

        using (var traces = new ActivityCapture())
        {
            var load = async () => await manager.StartAsync(first.NextRequest());
            await load.Should().ThrowAsync<SessionDatabaseException>();
            var activity = traces.Stopped.Should().ContainSingle().Subject;
            activity.OperationName.Should().Be("sessions.load");
            activity.Status.Should().Be(ActivityStatusCode.Error);
            activity.GetTagItem("error.type").Should().Be(typeof(SessionDatabaseException).FullName);
            activity.GetTagItem("sessions.fingerprint").Should().Be(manager.Fingerprint(id));
        }

        var error = metrics.Of("sessions.database.errors").Should().ContainSingle().Subject;
        error.Value.Should().Be(1);
        error.Tag("sessions.database").Should().Be("redis");
        error.Tag("sessions.operation").Should().Be("load");
        error.Tag("error.type").Should().Be(typeof(SessionDatabaseException).FullName);
        metrics.Of("sessions.load.duration").Should().ContainSingle(m => (string?)m.Tag("error.type") == typeof(SessionDatabaseException).FullName);
        var logged = logs.WithId(1).Should().ContainSingle().Subject;
        logged.Level.Should().Be(LogLevel.Error);
        logged.Exception.Should().BeOfType<SessionDatabaseException>();
        logged.Value("Fingerprint").Should().Be(manager.Fingerprint(id));
        logged.Message.Should().Be($"The session database (redis) failed to load session {manager.Fingerprint(id)}; nothing was stored.");
        logs.AllText().Should().NotContain(t => t.Contains(id, StringComparison.Ordinal));
    }

    [Test]
    public async Task AStartUpWithRedisDown_LogsOneWarning_AndAStartUpWithRedisUp_LogsNone()
    {
        var down = await StartHostedAsync($"127.0.0.1:{LoopbackPorts.Free()},connectTimeout=500");
        var warning = down.WithId(6).Should().ContainSingle().Subject;
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Category.Should().Be(typeof(RedisSessionDatabase).FullName);
        warning.Value("Database").Should().Be("redis");
        await TestContext.Out.WriteLineAsync(warning.Message);

        var redis = Track(RedisProcess.Start(LoopbackPorts.Free()));
        var up = await StartHostedAsync($"127.0.0.1:{redis.Port}");
        up.WithId(6).Should().BeEmpty();
    }

    /// <summary>Runs the hosted services <c>AddRedisSessionDatabase</c> registered, as a host starts and stops them.</summary>
    private async Task<LogCapture> StartHostedAsync(string configuration)
    {
        var logs = Track(new LogCapture());
        var services = new ServiceCollection();
        services.AddSingleton<ILoggerFactory>(logs);
        services.AddRedisSessionDatabase(configuration);
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
