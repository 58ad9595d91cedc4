using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Redis;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>
/// Logs and metrics of real requests over Kestrel: <c>AddSessions</c> wires the application's <see cref="ILoggerFactory"/>
/// and <see cref="IMeterFactory"/>; every failure the middleware answers is logged exactly once; no session ID reaches a log.
/// </summary>
public sealed class ObservabilityTests
{
    private LogCapture _logs = null!;
    private List<string> _ids = null!;
    private RunningApp? _app;

    [SetUp]
    public void Capture()
    {
        _logs = new LogCapture();
        _ids = [];
        _app = null;
    }

    [TearDown]
    public async Task StopApp()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        // Whatever each test did, no session ID it saw reached any log, the framework's included.
        var text = _logs.AllText().ToList();
        foreach (var id in _ids)
            text.Should().NotContain(t => t.Contains(id, StringComparison.Ordinal), "a session ID never appears in a log");
        _logs.Dispose();
    }

    private async Task<RunningApp> StartAsync(Action<IServiceCollection>? services = null, Action<SessionConfig>? configure = null)
    {
        _app = await RunningApp.StartAsync(app =>
        {
            TestEndpoints.Map(app);
            var sessions = app.Services.GetRequiredService<SessionManager>();
            // Plays another request that destroys the session between this request's load and its commit.
            app.MapGet("/ended", async context =>
            {
                var session = await sessions.StartAsync(context);
                await sessions.DestroyByIdAsync(session.Id);
                session.Set("late", "write");
                await context.Response.WriteAsync("written");
            });
        }, s =>
        {
            s.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
            services?.Invoke(s);
        }, configure);
        return _app;
    }

    private string Issued(HttpResponseMessage response)
    {
        var value = response.SetCookieValue();
        _ids.Add(value);
        return "sid=" + value;
    }

    [Test]
    public async Task Real_requests_are_measured_on_the_meter_the_containers_factory_made()
    {
        var app = await StartAsync(s => s.AddSingleton<ISessionDatabase>(new CopyingMemoryDatabase(asynchronous: true)));
        using var metrics = new MetricCapture(i => i.Meter.Scope == app.Services.GetRequiredService<IMeterFactory>());
        using var client = app.Raw();

        using var first = await client.GetAsync("/write?key=a", cookieHeader: null);
        var cookie = Issued(first);
        (await client.BodyAsync("/write?key=b", cookie)).Should().Be("ok");
        for (var i = 0; i < 10; i++)
        {
            var guess = SessionIds.NewId();
            _ids.Add(guess);
            using var response = await client.GetAsync("/keys", $"sid=x{i}; sid={guess}");
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        metrics.Sum("sessions.created", ("sessions.database", "copyingmemory")).Should().Be(1);
        metrics.Of("sessions.commit.duration").Should().HaveCount(2).And.OnlyContain(m => (string?)m.Tag("sessions.database") == "copyingmemory" && m.Value > 0);
        metrics.Of("sessions.load.duration").Should().HaveCount(11, "the second write and each guessed ID were loaded");
        metrics.Sum("sessions.cookies.rejected", ("sessions.reason", "unknown")).Should().Be(10);
        metrics.Sum("sessions.cookies.rejected", ("sessions.reason", "malformed")).Should().Be(10);
        metrics.Of("sessions.payload.size").Select(m => m.Value).Should().Equal(
            SessionValueCodec.PayloadSize("a", SessionValueCodec.Encode("a", new SessionValue("a", false))),
            SessionValueCodec.PayloadSize("b", SessionValueCodec.Encode("b", new SessionValue("b", false))));
    }

    [TestCase("ended", 409, 2, LogLevel.Information)]
    [TestCase("full", 503, 4, LogLevel.Warning)]
    [TestCase("limit", 413, 3, LogLevel.Warning)]
    public async Task Each_failure_the_middleware_answers_is_logged_exactly_once_per_request(string failure, int status, int eventId, LogLevel level)
    {
        var app = await StartAsync(
            s =>
            {
                if (failure == "ended")
                    s.AddSingleton<ISessionDatabase>(new CopyingMemoryDatabase(asynchronous: true));
            },
            c =>
            {
                c.MemoryMaxSessions = failure == "full" ? 1 : c.MemoryMaxSessions;
                c.MaxKeys = failure == "limit" ? 1 : c.MaxKeys;
            });
        using var client = app.Raw();
        using var first = await client.GetAsync("/write?key=a", cookieHeader: null);
        var cookie = Issued(first);

        const int requests = 3;
        for (var i = 0; i < requests; i++)
        {
            using var response = failure switch
            {
                "ended" => await client.GetAsync("/ended", Issued(await client.GetAsync("/write?key=a", cookieHeader: null))),
                "full" => await client.GetAsync("/write?key=a", cookieHeader: null),
                _ => await client.GetAsync($"/write?key=k{i}", cookie),
            };
            ((int)response.StatusCode).Should().Be(status);
        }

        var events = _logs.WithId(eventId);
        events.Should().HaveCount(requests).And.OnlyContain(e => e.Level == level && e.Category == "Sessions.SessionManager");
        _logs.Entries.Where(e => e.Category.StartsWith("Sessions", StringComparison.Ordinal) && e.Level >= LogLevel.Information)
            .Should().HaveCount(requests, "nothing else is logged about these failures, and nothing twice");
    }

    [Test]
    public async Task A_store_failure_is_logged_once_per_request_as_an_error_with_its_exception()
    {
        var redis = RedisProcess.Start(LoopbackPorts.Free());
        try
        {
            var app = await StartAsync(s => s.AddRedisSessionDatabase($"127.0.0.1:{redis.Port}", o => o.OperationTimeout = TimeSpan.FromSeconds(1)));
            using var client = app.Raw();
            using var first = await client.GetAsync("/write?key=a", cookieHeader: null);
            var cookie = Issued(first);
            (await client.BodyAsync("/keys", cookie)).Should().Be("a");
            redis.Dispose();

            using var load = await client.GetAsync("/keys", cookie);
            using var commit = await client.GetAsync("/write?key=b", cookieHeader: null);

            load.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            commit.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            var failures = _logs.WithId(1);
            failures.Should().HaveCount(2, "one failure per request, logged once although the middleware answered it");
            failures.Should().OnlyContain(e => e.Level == LogLevel.Error && e.Exception is SessionDatabaseException && (string?)e.Value("Database") == "redis");
            failures.Select(e => e.Value("Operation")).Should().BeEquivalentTo(["load", "commit"]);
            _logs.Entries.Where(e => e.Level >= LogLevel.Error).Should().HaveCount(2, "no framework log repeats the failure");
        }
        finally
        {
            redis.Dispose();
        }
    }
}
