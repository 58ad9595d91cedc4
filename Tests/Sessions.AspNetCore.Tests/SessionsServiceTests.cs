using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary><c>AddSessions</c> and <c>UseSessions</c>: options validation at start-up, binding, services from the container, commit timing.</summary>
[TestFixture]
public sealed class SessionsServiceTests
{
    private static IEnumerable<TestCaseData> InvalidConfigs()
    {
        yield return new TestCaseData((Action<SessionConfig>)(c => c.Cookie = "bad;name"), "SessionConfig.Cookie: 'bad;name'*").SetArgDisplayNames("cookie name with ;");
        yield return new TestCaseData((Action<SessionConfig>)(c => c.Cookie = "has space"), "SessionConfig.Cookie:*").SetArgDisplayNames("cookie name with space");
        yield return new TestCaseData((Action<SessionConfig>)(c => c.CookiePath = "relative"), "SessionConfig.CookiePath:*").SetArgDisplayNames("relative path");
        yield return new TestCaseData((Action<SessionConfig>)(c => c.IdleTimeout = TimeSpan.Zero), "SessionConfig.IdleTimeout:*").SetArgDisplayNames("zero idle timeout");
        yield return new TestCaseData((Action<SessionConfig>)(c => c.SameSite = CookieSameSite.None), "SessionConfig.SameSite:*Secure*").SetArgDisplayNames("SameSite=None without Secure");
        yield return new TestCaseData((Action<SessionConfig>)(c => c.Cookie = "__Host-sid"), "SessionConfig.CookieSecure:*__Host-*").SetArgDisplayNames("__Host- without Secure");
    }

    [TestCaseSource(nameof(InvalidConfigs))]
    public async Task InvalidOptions_FailAtStartUp_NamingTheField(Action<SessionConfig> configure, string message)
    {
        await using var app = Build(services => services.AddSessions(configure), mapEndpoints: false);

        var act = () => app.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Match("*" + message);
    }

    [Test]
    public async Task InvalidBoundOptions_FailAtStartUp_NamingTheField()
    {
        await using var app = Build(
            services => services.AddSessions(),
            configuration => configuration["Sessions:IdleTimeout"] = "-00:05:00",
            mapEndpoints: false);

        var act = () => app.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("SessionConfig.IdleTimeout");
    }

    [Test]
    public async Task Options_AreBoundFromConfiguration()
    {
        await using var running = await RunningApp.StartAsync(Build(
            services => services.AddSessions(),
            configuration =>
            {
                configuration["Sessions:Cookie"] = "app_sid";
                configuration["Sessions:Expires"] = "01:00:00";
                configuration["Sessions:SameSite"] = "Strict";
            }));
        using var client = running.Raw();

        using var response = await client.GetAsync("/write?key=a", cookieHeader: null);

        var header = response.SetCookies().Should().ContainSingle().Subject;
        header.Should().StartWith("app_sid=").And.Contain("max-age=3600").And.Contain("samesite=strict");
    }

    [Test]
    public async Task TimeProviderFromTheContainer_DrivesExpiration()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var running = await RunningApp.StartAsync(TestEndpoints.Map, services => services.AddSingleton<TimeProvider>(time));
        using var client = running.Raw();
        using var first = await client.GetAsync("/write?key=a", cookieHeader: null);
        var cookie = "sid=" + first.SetCookieValue();

        time.Advance(TimeSpan.FromMinutes(29));
        (await client.BodyAsync("/keys", cookie)).Should().Be("a");
        time.Advance(TimeSpan.FromMinutes(31));
        (await client.BodyAsync("/keys", cookie)).Should().BeEmpty("the idle timeout passed");
    }

    [Test]
    public async Task CopyingDatabaseFromTheContainer_IsCommittedBeforeTheResponseStarts()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var running = await RunningApp.StartAsync(app =>
        {
            TestEndpoints.Map(app);
            var sessions = app.Services.GetRequiredService<SessionManager>();
            // Sends the whole response, then holds the pipeline: the middleware's end-of-request commit has not run yet.
            app.MapGet("/hold", async context =>
            {
                var session = await sessions.StartAsync(context);
                session.Set("held", context.Request.Query["value"].ToString());
                context.Response.ContentLength = 2;
                await context.Response.WriteAsync("ok");
                await context.Response.CompleteAsync();
                await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            });
        }, services => services.AddSingleton<ISessionDatabase>(database));
        using var holdingFirst = running.Raw();
        using var holdingSecond = running.Raw();
        using var client = running.Raw();

        try
        {
            // Each request on its own connection: Kestrel reads a connection's next request only after the held one ends.
            using var created = await holdingFirst.GetAsync("/hold?value=new", cookieHeader: null);
            (await created.Content.ReadAsStringAsync()).Should().Be("ok");
            var cookie = "sid=" + created.SetCookieValue();
            (await client.BodyAsync("/keys", cookie)).Should().Be("held", "a new session is stored before its response starts");

            using var updated = await holdingSecond.GetAsync("/hold?value=second", cookie);
            (await updated.Content.ReadAsStringAsync()).Should().Be("ok");
            updated.SetCookies().Should().BeEmpty();
            database.Count.Should().Be(1);
            var record = await database.LoadAsync(cookie["sid=".Length..], CancellationToken.None);
            record!.TryGetValue("held", out var value).Should().BeTrue();
            value.Value.Should().Be("second", "an existing session's changes are committed before its response starts");
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [TestCase("memory")]
    [TestCase("copying")]
    public async Task WritingANewSessionAfterTheResponseStarted_ThrowsAClearError(string store)
    {
        var database = new CopyingMemoryDatabase(asynchronous: true);
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var running = await RunningApp.StartAsync(app =>
        {
            var sessions = app.Services.GetRequiredService<SessionManager>();
            app.MapGet("/late", async context =>
            {
                var session = await sessions.StartAsync(context);
                await context.Response.WriteAsync("started");
                await context.Response.Body.FlushAsync();
                try
                {
                    session.Set("late", "write");
                    outcome.TrySetResult(null);
                }
                catch (Exception e)
                {
                    outcome.TrySetResult(e);
                }
            });
        }, services =>
        {
            if (store == "copying")
                services.AddSingleton<ISessionDatabase>(database);
        });
        using var client = running.Raw();

        using var response = await client.GetAsync("/late", cookieHeader: null);

        response.SetCookies().Should().BeEmpty();
        var error = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(30));
        error.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("the response has already started");
        database.Count.Should().Be(0);
        database.Commits.Should().Be(0);
    }

    [Test]
    public async Task WritingAnExistingSessionAfterTheResponseStarted_Throws_AndStoresNothing()
    {
        // The commit precedes the first byte of the response; a write after it could never be committed in time.
        var database = new CopyingMemoryDatabase(asynchronous: true);
        var outcome = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var running = await RunningApp.StartAsync(app =>
        {
            TestEndpoints.Map(app);
            var sessions = app.Services.GetRequiredService<SessionManager>();
            app.MapGet("/late", async context =>
            {
                var session = await sessions.StartAsync(context);
                await context.Response.WriteAsync("started");
                await context.Response.Body.FlushAsync();
                try
                {
                    session.Set("late", "write");
                    outcome.TrySetResult(null);
                }
                catch (Exception e)
                {
                    outcome.TrySetResult(e);
                }
            });
        }, services => services.AddSingleton<ISessionDatabase>(database));
        using var client = running.Raw();
        using var first = await client.GetAsync("/write?key=a", cookieHeader: null);
        var cookie = "sid=" + first.SetCookieValue();

        (await client.BodyAsync("/late", cookie)).Should().Be("started");

        (await outcome.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeOfType<InvalidOperationException>()
            .Which.Message.Should().Contain("the response has already started");
        (await client.BodyAsync("/keys", cookie)).Should().Be("a");
    }

    [Test]
    public async Task FailingCommit_IsAnswered503WithRetryAfter_NeverSuccess()
    {
        await using var running = await RunningApp.StartAsync(TestEndpoints.Map,
            services => services.AddSingleton<ISessionDatabase>(new FailingCommitDatabase()));
        using var client = running.Raw();

        using var response = await client.GetAsync("/write?key=a", cookieHeader: null);

        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        response.SetCookies().Should().BeEmpty();
    }

    [Test]
    public async Task ExplicitDatabaseInOptions_WinsOverTheContainer()
    {
        var explicitDatabase = new CopyingMemoryDatabase();
        var containerDatabase = new CopyingMemoryDatabase();
        await using var running = await RunningApp.StartAsync(TestEndpoints.Map,
            services => services.AddSingleton<ISessionDatabase>(containerDatabase),
            config => config.Database = explicitDatabase);
        using var client = running.Raw();

        (await client.BodyAsync("/write?key=a")).Should().Be("ok");

        explicitDatabase.Count.Should().Be(1);
        containerDatabase.Count.Should().Be(0);
        running.Services.GetRequiredService<SessionManager>().Database.Should().BeSameAs(explicitDatabase);
    }

    /// <summary>An app whose options come from <c>Sessions:*</c> configuration; without endpoints nothing resolves the manager before start-up.</summary>
    private static WebApplication Build(Action<IServiceCollection> services, Action<IConfiguration>? configuration = null, bool mapEndpoints = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        configuration?.Invoke(builder.Configuration);
        builder.Services.Configure<SessionConfig>(builder.Configuration.GetSection("Sessions"));
        services(builder.Services);
        var app = builder.Build();
        app.UseSessions();
        if (mapEndpoints)
            TestEndpoints.Map(app);
        return app;
    }

    /// <summary>A database of copies whose commits fail, as a remote database that is down.</summary>
    private sealed class FailingCommitDatabase : ISessionDatabase
    {
        private readonly CopyingMemoryDatabase _inner = new();

        public bool SharesRecords => false;

        public bool CompletesSynchronously => false;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => _inner.LoadAsync(id, cancellationToken);

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => _inner.RenewAsync(id, newId, cancellationToken);

        public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken) =>
            ValueTask.FromException<bool>(new SessionDatabaseException("The database is down."));

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            _inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => _inner.DestroyAsync(id, cancellationToken);

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => _inner.DestroyAllAsync(cancellationToken);
    }
}
