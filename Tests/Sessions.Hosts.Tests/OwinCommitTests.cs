using Sessions.Owin;
using Sessions.Testing;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The OWIN middleware's commit with a database that stores copies, without a network: the commit is complete when the
/// <c>server.OnSendingHeaders</c> callback returns, because from then on the response can reach the client (whose next
/// request, on another connection or another process, must see the change), and a failed commit fails that write.
/// </summary>
public sealed class OwinCommitTests
{
    [Test]
    public async Task The_change_is_stored_when_the_headers_go_out_not_after()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true); // every commit completes on another thread
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var commitsWhenHeadersWent = -1;
        var (environment, sendHeaders) = Environment(cookie: null);
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            sendHeaders(); // what the host does on the first write of the body
            commitsWhenHeadersWent = database.Commits;
        });

        await app(environment);

        commitsWhenHeadersWent.Should().Be(1, "the OnSendingHeaders callback returns once the commit is stored");
        database.Commits.Should().Be(1, "nothing changed after the headers, so the middleware has nothing more to commit");
        var setCookie = ((IDictionary<string, string[]>)environment["owin.ResponseHeaders"])["Set-Cookie"].Should().ContainSingle().Subject;
        var id = setCookie.Substring(4, setCookie.IndexOf(';', StringComparison.Ordinal) - 4);

        var (next, _) = Environment(cookie: "sid=" + id);
        (await sessions.StartAsync(next)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task A_failed_commit_fails_the_write_that_sends_the_headers()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = new RefusingDatabase() });
        var (environment, sendHeaders) = Environment(cookie: null);
        var bodyWritten = false;
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            sendHeaders();
            bodyWritten = true;
        });

        var run = () => app(environment);

        (await run.Should().ThrowAsync<SessionDatabaseException>()).WithMessage("refused");
        bodyWritten.Should().BeFalse("no byte of a response that reports a write goes out when the write was not stored");
    }

    /// <summary>An OWIN environment and the host's "send the headers now" (its OnSendingHeaders callbacks, last registered first).</summary>
    private static (Dictionary<string, object> Environment, Action SendHeaders) Environment(string? cookie)
    {
        var callbacks = new List<(Action<object> Callback, object State)>();
        var requestHeaders = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["Host"] = ["127.0.0.1"] };
        if (cookie is not null)
            requestHeaders["Cookie"] = [cookie];
        var environment = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["owin.RequestHeaders"] = requestHeaders,
            ["owin.ResponseHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
            ["owin.RequestScheme"] = "http",
            ["server.OnSendingHeaders"] = (Action<Action<object>, object>)((callback, state) => callbacks.Add((callback, state))),
        };
        return (environment, () =>
        {
            for (var i = callbacks.Count - 1; i >= 0; i--)
                callbacks[i].Callback(callbacks[i].State);
        });
    }

    /// <summary>A store that keeps copies and refuses every commit, after a hop to another thread as a remote store would.</summary>
    private sealed class RefusingDatabase : ISessionDatabase
    {
        public bool SharesRecords => false;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => new((SessionRecord?)null);

        public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new SessionDatabaseException("refused");
        }

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) => new(false);

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => new(false);

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => default;
    }
}
