using Sessions.Owin;
using Sessions.Testing;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The OWIN middleware's commit with a database that stores copies, without a network, on a fake host that sends the
/// headers (running its <c>server.OnSendingHeaders</c> callbacks) on the first write or flush of its body, or after the
/// application's task completes. The commit is stored before the headers go out, because from then on the response can
/// reach the client (whose next request, on another connection or another process, must see the change), and a failed
/// commit fails the write that would send them. No thread ever waits for a commit: the body's first asynchronous write
/// awaits it, and the OnSendingHeaders callback returns at once.
/// </summary>
public sealed class OwinCommitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private static readonly byte[] Hello = "hello"u8.ToArray();

    [Test]
    public async Task The_change_is_stored_when_the_first_body_write_sends_the_headers_not_after()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true); // every commit completes on another thread
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            await Body(env).WriteAsync(Hello);
        });

        await host.RunAsync(app);

        commitsWhenHeadersWent.Should().Be(1, "the first write awaits the commit before the host sends the headers");
        database.Commits.Should().Be(1, "nothing changed after the body was written, so the middleware has nothing more to commit");
        host.Written.Should().Equal(Hello);
        var id = host.SessionId();
        (await sessions.StartAsync(new FakeHost(cookie: "sid=" + id).Environment)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task Without_a_body_the_middleware_commits_before_the_host_sends_the_headers()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true);
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env => (await sessions.StartAsync(env)).Set("name", "iris"));

        await host.RunAsync(app);

        commitsWhenHeadersWent.Should().Be(1, "the middleware's task completes only once the commit is stored");
        host.Written.Should().BeEmpty();
        (await sessions.StartAsync(new FakeHost(cookie: "sid=" + host.SessionId()).Environment)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task A_slow_commit_holds_the_first_write_without_blocking_a_thread()
    {
        var database = new GatedDatabase();
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        var writeReturned = new TaskCompletionSource<Task>(TaskCreationOptions.RunContinuationsAsynchronously);
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            var write = Body(env).WriteAsync(Hello, 0, Hello.Length, CancellationToken.None);
            writeReturned.SetResult(write); // reached only if WriteAsync did not block on the commit
            await write;
        });
        try
        {
            // Off the test thread, so a blocking write fails the bounded wait instead of hanging the test.
            var run = Task.Run(() => host.RunAsync(app));

            var write = await writeReturned.Task.WaitAsync(Bound);
            await database.CommitStarted.WaitAsync(Bound);
            write.IsCompleted.Should().BeFalse("the write awaits the commit");
            host.HeadersWereSent.Should().BeFalse("no header goes out before the commit is stored");
            host.Written.Should().BeEmpty();
            run.IsCompleted.Should().BeFalse();

            database.Open();
            await run.WaitAsync(Bound);
        }
        finally
        {
            database.Open(); // never leave a commit (and the test run) hanging
        }

        commitsWhenHeadersWent.Should().Be(1);
        host.Written.Should().Equal(Hello);
        (await sessions.StartAsync(new FakeHost(cookie: "sid=" + host.SessionId()).Environment)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task The_OnSendingHeaders_callback_never_waits_for_a_commit()
    {
        var database = new GatedDatabase();
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var session = await sessions.StartAsync(host.Environment);
        session.Set("name", "iris"); // a change not committed yet, as when a host sends the headers on its own

        try
        {
            await Task.Run(host.RunOnSendingHeadersCallbacks).WaitAsync(Bound);
        }
        finally
        {
            database.Open();
        }

        database.CommitStarted.IsCompleted.Should().BeFalse("the callback starts no commit either: the body and the middleware commit");
    }

    [Test]
    public async Task A_cookie_write_after_the_headers_were_sent_throws()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = new CopyingMemoryDatabase(asynchronous: true) });
        var host = new FakeHost(cookie: null);
        var session = await sessions.StartAsync(host.Environment);
        host.RunOnSendingHeadersCallbacks();

        var late = () => session.Set("name", "iris"); // the first write of a new session writes its cookie

        late.Should().Throw<InvalidOperationException>().WithMessage("*the response has already started*");
    }

    [Test]
    public async Task A_failed_commit_fails_the_write_that_would_send_the_headers_and_answers_503()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = new RefusingDatabase() });
        var host = new FakeHost(cookie: null);
        var bodyWritten = false;
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            await Body(env).WriteAsync(Hello);
            bodyWritten = true;
        });

        await app(host.Environment);

        bodyWritten.Should().BeFalse("the write that would have sent the headers failed with the commit");
        host.HeadersWereSent.Should().BeFalse("no byte of a response that reports a write goes out when the write was not stored");
        host.Written.Should().BeEmpty();
        host.Environment["owin.ResponseStatusCode"].Should().Be(503, "the middleware answers a database failure 503, as on ASP.NET Core");
        var headers = (IDictionary<string, string[]>)host.Environment["owin.ResponseHeaders"];
        headers["Retry-After"].Should().Equal("5");
        headers.Should().NotContainKey("Set-Cookie");
    }

    [Test]
    public async Task A_synchronous_write_never_waits_for_a_pending_commit_and_the_middleware_awaits_it()
    {
        var database = new GatedDatabase();
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        var refused = new TaskCompletionSource<InvalidOperationException>(TaskCreationOptions.RunContinuationsAsynchronously);
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            var session = await sessions.StartAsync(env);
            session.Set("name", "iris");
            var body = Body(env);
            refused.SetResult(((Action)(() => body.Write(Hello, 0, Hello.Length))).Should().Throw<InvalidOperationException>().Which);
        });
        try
        {
            var run = Task.Run(() => host.RunAsync(app));

            (await refused.Task.WaitAsync(Bound)).Message.Should().Contain("write the response body asynchronously");
            await database.CommitStarted.WaitAsync(Bound);
            host.HeadersWereSent.Should().BeFalse();
            run.IsCompleted.Should().BeFalse("the middleware awaits the commit the write started before the host may send the headers");

            database.Open();
            await run.WaitAsync(Bound);
        }
        finally
        {
            database.Open();
        }

        commitsWhenHeadersWent.Should().Be(1);
        host.Written.Should().BeEmpty();
        (await sessions.StartAsync(new FakeHost(cookie: "sid=" + host.SessionId()).Environment)).GetString("name").Should().Be("iris");
    }

    [Test]
    public async Task A_synchronous_write_passes_through_when_the_database_commits_synchronously()
    {
        var database = new CopyingMemoryDatabase(asynchronous: false);
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(async env =>
        {
            (await sessions.StartAsync(env)).Set("name", "iris");
            Body(env).Write(Hello, 0, Hello.Length);
        });

        await host.RunAsync(app);

        commitsWhenHeadersWent.Should().Be(1);
        host.Written.Should().Equal(Hello);
    }

    [Test]
    public async Task BeginWrite_awaits_the_commit_without_blocking_and_EndWrite_completes_the_write()
    {
        var database = new GatedDatabase();
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var commitsWhenHeadersWent = -1;
        host.HeadersSent += () => commitsWhenHeadersWent = database.Commits;
        (await sessions.StartAsync(host.Environment)).Set("name", "iris");
        var body = Body(host.Environment);
        var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var begun = await Task.Run(() => body.BeginWrite(Hello, 0, Hello.Length, result =>
            {
                body.EndWrite(result);
                ended.SetResult(true);
            }, "state")).WaitAsync(Bound);

            begun.AsyncState.Should().Be("state");
            await database.CommitStarted.WaitAsync(Bound);
            ended.Task.IsCompleted.Should().BeFalse();
            host.HeadersWereSent.Should().BeFalse();

            database.Open();
            await ended.Task.WaitAsync(Bound);
        }
        finally
        {
            database.Open();
        }

        commitsWhenHeadersWent.Should().Be(1);
        host.Written.Should().Equal(Hello);
    }

    [Test]
    public async Task The_memory_database_leaves_the_body_stream_alone()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid" });
        var host = new FakeHost(cookie: null);
        var original = Body(host.Environment);

        (await sessions.StartAsync(host.Environment)).Set("name", "iris");

        Body(host.Environment).Should().BeSameAs(original, "writes are live: there is nothing to commit before the headers");
    }

    [Test]
    public async Task A_request_without_a_session_leaves_the_body_stream_alone()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true);
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database });
        var host = new FakeHost(cookie: null);
        var original = Body(host.Environment);
        AppFunc app = SessionsOwinMiddleware.Create(sessions)(env => Body(env).WriteAsync(Hello, 0, Hello.Length));

        await host.RunAsync(app);

        Body(host.Environment).Should().BeSameAs(original);
        host.Written.Should().Equal(Hello);
        database.Commits.Should().Be(0);
    }

    private static Stream Body(IDictionary<string, object> environment) => (Stream)environment["owin.ResponseBody"];

    /// <summary>
    /// An OWIN host in memory: it sends the headers (its OnSendingHeaders callbacks, last registered first) on the first
    /// write or flush of <c>owin.ResponseBody</c>, or after the application's task completed, as a real host does.
    /// </summary>
    private sealed class FakeHost
    {
        private readonly List<(Action<object> Callback, object State)> _callbacks = [];
        private readonly MemoryStream _written = new();

        public FakeHost(string? cookie)
        {
            var requestHeaders = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["Host"] = ["127.0.0.1"] };
            if (cookie is not null)
                requestHeaders["Cookie"] = [cookie];
            Environment = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["owin.RequestHeaders"] = requestHeaders,
                ["owin.ResponseHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
                ["owin.ResponseBody"] = new HostBody(this),
                ["owin.RequestScheme"] = "http",
                ["server.OnSendingHeaders"] = (Action<Action<object>, object>)((callback, state) => _callbacks.Add((callback, state))),
            };
        }

        public Dictionary<string, object> Environment { get; }

        /// <summary>Raised once the callbacks ran, as the headers go out.</summary>
        public event Action? HeadersSent;

        public bool HeadersWereSent { get; private set; }

        public byte[] Written
        {
            get
            {
                lock (_written)
                    return _written.ToArray();
            }
        }

        public async Task RunAsync(AppFunc app)
        {
            await app(Environment);
            SendHeaders();
        }

        public void RunOnSendingHeadersCallbacks()
        {
            for (var i = _callbacks.Count - 1; i >= 0; i--)
                _callbacks[i].Callback(_callbacks[i].State);
        }

        /// <summary>The ID in the one Set-Cookie header the response carries.</summary>
        public string SessionId()
        {
            var setCookie = ((IDictionary<string, string[]>)Environment["owin.ResponseHeaders"])["Set-Cookie"].Should().ContainSingle().Subject;
            return setCookie.Substring(4, setCookie.IndexOf(';', StringComparison.Ordinal) - 4);
        }

        private void SendHeaders()
        {
            if (HeadersWereSent)
                return;
            RunOnSendingHeadersCallbacks();
            HeadersWereSent = true;
            HeadersSent?.Invoke();
        }

        private void Append(ReadOnlySpan<byte> bytes)
        {
            SendHeaders();
            lock (_written)
                _written.Write(bytes);
        }

        private sealed class HostBody(FakeHost host) : Stream
        {
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush() => host.SendHeaders();

            public override Task FlushAsync(CancellationToken cancellationToken)
            {
                host.SendHeaders();
                return Task.CompletedTask;
            }

            public override void Write(byte[] buffer, int offset, int count) => host.Append(buffer.AsSpan(offset, count));

            public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                host.Append(buffer.AsSpan(offset, count));
                return Task.CompletedTask;
            }

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                host.Append(buffer.Span);
                return default;
            }

            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }

    /// <summary>A store that keeps copies and whose commits wait for <see cref="Open"/>, as a slow remote store would.</summary>
    private sealed class GatedDatabase : ISessionDatabase
    {
        private readonly CopyingMemoryDatabase _inner = new();
        private readonly TaskCompletionSource<bool> _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _commitStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool SharesRecords => false;

        public bool CompletesSynchronously => false;

        public int Commits => _inner.Commits;

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => _inner.RenewAsync(id, newId, cancellationToken);

        /// <summary>Completes when the first commit reached the database.</summary>
        public Task CommitStarted => _commitStarted.Task;

        public void Open() => _gate.TrySetResult(true);

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => _inner.LoadAsync(id, cancellationToken);

        public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
        {
            _commitStarted.TrySetResult(true);
            await _gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return await _inner.CommitAsync(id, record, changes, cancellationToken).ConfigureAwait(false);
        }

        public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
            _inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

        public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => _inner.DestroyAsync(id, cancellationToken);

        public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => _inner.DestroyAllAsync(cancellationToken);
    }

    /// <summary>A store that keeps copies and refuses every commit, after a hop to another thread as a remote store would.</summary>
    private sealed class RefusingDatabase : ISessionDatabase
    {
        public bool SharesRecords => false;

        public bool CompletesSynchronously => false;

        public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => new((SessionRecord?)null);

        public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => new(SessionRenewResult.NotFound);

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
