using Sessions.Redis;
using Sessions.Sqlite;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The request lifecycle's guarantees (the table in docs/hosts.md), each row a test run over real HTTP on every host,
/// with a real database that stores copies (the embedded SQLite database in a temporary folder) or a Redis that is down.
/// One application, written once against <see cref="IGuaranteeRequest"/>, runs unchanged on the three hosts.
/// </summary>
[TestFixtureSource(nameof(Hosts))]
public sealed class LifecycleGuaranteeTests(string hostName)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private DirectoryInfo _folder = null!;
    private SqliteSessionDatabase _database = null!;
    private SessionManager _sessions = null!;
    private TaskCompletionSource _release = null!;
    private TaskCompletionSource _holding = null!;
    private TaskCompletionSource<Exception?> _outcome = null!;

    public static IEnumerable<string> Hosts => SampleHost.Names;

    [SetUp]
    public void OpenDatabase()
    {
        _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _folder = Directory.CreateTempSubdirectory("sessions-lifecycle-");
        _database = new SqliteSessionDatabase(Path.Combine(_folder.FullName, "sessions.db"));
        _sessions = new SessionManager(new SessionConfig { Database = _database });
    }

    [TearDown]
    public async Task CloseDatabase()
    {
        _release.TrySetResult();
        _sessions.Dispose();
        await _database.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    /// <summary>The one application: each path exercises one guarantee.</summary>
    private async Task App(IGuaranteeRequest request)
    {
        switch (request.Path)
        {
            case "/sync":
                try
                {
                    request.Start().Set("name", "iris");
                    await request.WriteAsync("written");
                }
                catch (InvalidOperationException e)
                {
                    request.SetStatus(500);
                    await request.WriteAsync(e.Message);
                }
                break;
            case "/set-and-hold":
                (await request.StartAsync()).Set("name", "iris");
                await request.BeforeBodyAsync();
                await request.WriteAsync("first byte");
                _holding.TrySetResult();
                await _release.Task; // the client has the status, headers and first byte; the response is not complete
                await request.WriteAsync(", rest");
                break;
            case "/late-write":
                var session = await request.StartAsync();
                await request.BeforeBodyAsync();
                await request.WriteAsync("started");
                try
                {
                    session.Set("late", "write");
                    _outcome.TrySetResult(null);
                }
                catch (Exception e)
                {
                    _outcome.TrySetResult(e);
                }
                break;
            case "/write-after-another-request-ended-it":
                var held = await request.StartAsync();
                _holding.TrySetResult();
                await _release.Task; // meanwhile the session is destroyed elsewhere
                held.Set("late", "write");
                await request.BeforeBodyAsync();
                await request.WriteAsync("unreachable");
                break;
            case "/set":
                (await request.StartAsync()).Set("name", "iris");
                await request.BeforeBodyAsync();
                await request.WriteAsync("set");
                break;
            case "/big":
                (await request.StartAsync()).Set("big", new string('x', 4000));
                await request.BeforeBodyAsync();
                await request.WriteAsync("stored?");
                break;
            case "/get":
                await request.WriteAsync((await request.StartAsync()).GetString("name", "(none)"));
                break;
            default:
                request.SetStatus(404);
                break;
        }
    }

    [Test]
    public async Task The_synchronous_API_on_a_database_that_does_not_complete_synchronously_fails_on_the_first_request_and_stores_nothing()
    {
        await using var host = await GuaranteeHost.StartAsync(hostName, _sessions, App);
        using var client = new SampleClient(host.BaseAddress);

        var reply = await client.SendAsync(HttpMethod.Get, "/sync", cookieHeader: null);

        reply.Status.Should().Be(500);
        reply.Body.Should().Contain("StartAsync", "the message names the call to use");
        reply.SetCookies.Should().BeEmpty();
        (await _database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task A_change_is_stored_and_its_cookie_sent_before_the_first_byte_of_the_response()
    {
        await using var host = await GuaranteeHost.StartAsync(hostName, _sessions, App);
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = host.BaseAddress };

        using var response = await http.GetAsync("/set-and-hold", HttpCompletionOption.ResponseHeadersRead).WaitAsync(Bound);
        await _holding.Task.WaitAsync(Bound);

        var id = response.Headers.GetValues("Set-Cookie").Should().ContainSingle().Subject.Split(';')[0]["sid=".Length..];
        var stored = await _database.LoadAsync(id, CancellationToken.None);
        stored.Should().NotBeNull("the session is in the database while its response is still being written");
        stored!.TryGetValue("name", out var name).Should().BeTrue();
        name.Value!.ToString().Should().Be("iris");
        _release.SetResult();
        (await response.Content.ReadAsStringAsync()).Should().Be("first byte, rest");
        using var client = new SampleClient(host.BaseAddress);
        (await client.SendAsync(HttpMethod.Get, "/get", "sid=" + id)).Body.Should().Be("iris");
    }

    [Test]
    public async Task A_write_after_the_response_started_throws_and_stores_nothing()
    {
        await using var host = await GuaranteeHost.StartAsync(hostName, _sessions, App);
        using var client = new SampleClient(host.BaseAddress);

        var reply = await client.SendAsync(HttpMethod.Get, "/late-write", cookieHeader: null);

        reply.Body.Should().Be("started");
        reply.SetCookies.Should().BeEmpty();
        (await _outcome.Task.WaitAsync(Bound)).Should().BeOfType<InvalidOperationException>()
            .Which.Message.Should().Contain("the response has already started");
        (await _database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task A_write_to_a_session_another_request_ended_meanwhile_is_answered_409_and_stores_nothing()
    {
        await using var host = await GuaranteeHost.StartAsync(hostName, _sessions, App);
        using var client = new SampleClient(host.BaseAddress);
        var id = await CreateSessionAsync();

        var racing = client.SendAsync(HttpMethod.Get, "/write-after-another-request-ended-it", "sid=" + id);
        await _holding.Task.WaitAsync(Bound);
        (await _sessions.DestroyByIdAsync(id)).Should().BeTrue();
        _release.SetResult();
        var reply = await racing.WaitAsync(Bound);

        reply.Status.Should().Be(409);
        reply.SetCookies.Should().BeEmpty();
        reply.CacheControl.Should().Be("no-store");
        (await _database.LoadAsync(id, CancellationToken.None)).Should().BeNull("destroy is final: the late write did not bring it back");
    }

    [Test]
    public async Task A_database_failure_answers_503_with_Retry_After_and_no_cookie()
    {
        // A Redis that is not there: every load and commit fails within the operation timeout.
        using var down = new RedisSessionDatabase($"127.0.0.1:{Sessions.Testing.LoopbackPorts.Free()}", new RedisSessionOptions { OperationTimeout = TimeSpan.FromMilliseconds(500) });
        using var sessions = new SessionManager(new SessionConfig { Database = down });
        await using var host = await GuaranteeHost.StartAsync(hostName, sessions, App);
        using var client = new SampleClient(host.BaseAddress);

        var load = await client.SendAsync(HttpMethod.Get, "/get", "sid=" + SessionIds.NewId());
        var commit = await client.SendAsync(HttpMethod.Get, "/set", cookieHeader: null);

        foreach (var reply in new[] { load, commit })
        {
            reply.Status.Should().Be(503);
            reply.RetryAfter.Should().Be("5");
            reply.CacheControl.Should().Be("no-store");
            reply.SetCookies.Should().BeEmpty();
        }
    }

    [Test]
    public async Task A_session_over_its_payload_limit_at_commit_answers_413_and_stores_nothing()
    {
        // The embedded database refuses the commit made just before the response starts: a clean answer, not an aborted response.
        using var sessions = new SessionManager(new SessionConfig { Database = _database, MaxPayloadBytes = 1024 });
        await using var host = await GuaranteeHost.StartAsync(hostName, sessions, App);
        using var client = new SampleClient(host.BaseAddress);

        var reply = await client.SendAsync(HttpMethod.Get, "/big", cookieHeader: null);

        reply.Status.Should().Be(413);
        reply.SetCookies.Should().BeEmpty();
        reply.CacheControl.Should().Be("no-store");
        (await _database.CountAsync(CancellationToken.None)).Should().Be(0);
    }

    [Test]
    public async Task A_full_memory_database_answers_503_with_Retry_After_and_existing_sessions_keep_working()
    {
        using var memory = new MemorySessionDatabase(maxSessions: 1);
        using var sessions = new SessionManager(new SessionConfig { Database = memory });
        await using var host = await GuaranteeHost.StartAsync(hostName, sessions, App);
        using var client = new SampleClient(host.BaseAddress);
        var first = await client.SendAsync(HttpMethod.Get, "/set", cookieHeader: null);
        var cookie = first.SetCookies.Should().ContainSingle().Subject.Split(';')[0];

        var refused = await client.SendAsync(HttpMethod.Get, "/set", cookieHeader: null);

        refused.Status.Should().Be(503);
        refused.RetryAfter.Should().Be("5");
        refused.SetCookies.Should().BeEmpty();
        (await client.SendAsync(HttpMethod.Get, "/get", cookie)).Body.Should().Be("iris", "the session stored before the bound keeps working");
    }

    private async Task<string> CreateSessionAsync()
    {
        var carrier = new Sessions.Testing.TestCarrier();
        var session = await _sessions.StartAsync(carrier);
        session.Set("name", "iris");
        await session.CommitAsync();
        return session.Id;
    }
}
