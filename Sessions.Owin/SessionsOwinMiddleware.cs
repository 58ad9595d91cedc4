using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Owin;

/// <summary>
/// The OWIN middleware that commits each request's session. In Katana: <c>app.Use(SessionsOwinMiddleware.Create(sessions));</c>
/// then <c>sessions.Start(context.Environment)</c> in the application.
/// </summary>
/// <remarks>
/// <para>
/// With the memory database writes are live and there is nothing to commit. With a database that stores copies
/// (Redis, SQLite) the session must be stored before the response headers go out: once the client has the response,
/// its next request (another connection, another process on the same store) must see the change, and a failed commit
/// must not follow a success. OWIN's <c>server.OnSendingHeaders</c> callbacks are synchronous and cannot await, so
/// starting a session on such a database replaces <c>owin.ResponseBody</c> with a stream whose first asynchronous write
/// or flush awaits the commit before the host sends the headers; when the application's task completes the middleware
/// commits (asynchronously, before the host sends the headers of a response with no body) and, if the body was written,
/// commits what changed after it. No thread waits for a commit.
/// </para>
/// <para>
/// Write the body asynchronously (<c>WriteAsync</c>, <c>FlushAsync</c>, or an awaited <c>StreamWriter</c>): a synchronous
/// <c>Write</c> or <c>Flush</c> that would have to wait for a commit throws an <see cref="InvalidOperationException"/>
/// instead (it passes through when the commit has nothing to store). Read <c>owin.ResponseBody</c> from the environment
/// after starting the session, as Katana's <c>context.Response.Body</c> does; a stream taken before bypasses the commit.
/// A commit failure propagates from that write (no byte of the response goes out); a database failure
/// (<see cref="SessionDatabaseException"/>) that reaches the middleware before the headers went out is answered
/// <c>503 Service Unavailable</c> with <c>Retry-After</c>, any other failure propagates to the host. The cookie itself is a header, written when the session is first written, so write to the
/// session before the response body; a cookie write after the headers were sent throws.
/// </para>
/// </remarks>
public static class SessionsOwinMiddleware
{
    /// <summary>Builds the middleware for <paramref name="sessions"/>.</summary>
    /// <param name="sessions">The application's session manager.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> of the 503 answered when the session database fails (default 5 seconds, whole seconds rounded up).</param>
    public static Func<AppFunc, AppFunc> Create(SessionManager sessions, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } value && value < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "retryAfter must not be negative.");
        var options = new OwinSessionOptions();
        if (retryAfter is { } given)
            options.RetryAfter = given;
        return Create(sessions, options);
    }

    /// <summary>
    /// Builds the middleware for <paramref name="sessions"/> with <paramref name="options"/> (copied: later changes have no
    /// effect). Behind a TLS-terminating reverse proxy, list it in <see cref="OwinSessionOptions.KnownProxies"/> so that its
    /// <c>X-Forwarded-Proto</c> is believed and the cookie gets <c>Secure</c>; the header is never trusted otherwise.
    /// </summary>
    /// <param name="sessions">The application's session manager.</param>
    /// <param name="options">The <c>Retry-After</c> of a 503 and the known proxies.</param>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="OwinSessionOptions.RetryAfter"/> is negative.</exception>
    /// <exception cref="ArgumentException">A known proxy address is null.</exception>
    public static Func<AppFunc, AppFunc> Create(SessionManager sessions, OwinSessionOptions options)
    {
        if (sessions is null)
            throw new ArgumentNullException(nameof(sessions));
        if (options is null)
            throw new ArgumentNullException(nameof(options));
        var seconds = (long)Math.Ceiling(options.RetryAfter.TotalSeconds);
        if (seconds < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.RetryAfter, "OwinSessionOptions.RetryAfter must not be negative.");
        var unavailable = new Unavailable(seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var proxies = ForwardedScheme.Normalize(options.KnownProxies);
        return next =>
        {
            if (next is null)
                throw new ArgumentNullException(nameof(next));
            return proxies.Length == 0
                ? environment => InvokeAsync(next, environment, unavailable)
                : environment =>
                {
                    environment[OwinKeys.KnownProxies] = proxies;
                    return InvokeAsync(next, environment, unavailable);
                };
        };
    }

    private static Task InvokeAsync(AppFunc next, IDictionary<string, object> environment, Unavailable unavailable)
    {
        Task task;
        try
        {
            task = next(environment);
        }
        catch (Exception e) when (unavailable.Answer(environment, e))
        {
            return Task.CompletedTask;
        }
        // No session started (or the memory database): nothing to await, no state machine.
        if (task.Status == TaskStatus.RanToCompletion)
        {
            if (OwinCookieCarrier.Find(environment) is not { } carrier)
                return Task.CompletedTask;
            var commit = carrier.CommitAsync(CancellationToken.None); // kept even if the client went away
            return commit.IsCompletedSuccessfully ? Task.CompletedTask : AwaitCommitAsync(commit, environment, unavailable);
        }
        return AwaitThenCommitAsync(task, environment, unavailable);
    }

    private static async Task AwaitCommitAsync(ValueTask commit, IDictionary<string, object> environment, Unavailable unavailable)
    {
        try
        {
            await commit.ConfigureAwait(false);
        }
        catch (Exception e) when (unavailable.Answer(environment, e))
        {
        }
    }

    private static async Task AwaitThenCommitAsync(Task task, IDictionary<string, object> environment, Unavailable unavailable)
    {
        try
        {
            await task.ConfigureAwait(false);
            if (OwinCookieCarrier.Find(environment) is { } carrier)
                await carrier.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (unavailable.Answer(environment, e))
        {
        }
    }

    /// <summary>
    /// The session-failure policy, as on every host: while the headers have not gone out, a database failure (or a full
    /// database) answers <c>503 Service Unavailable</c> with <c>Retry-After</c>, a session another request ended
    /// <c>409 Conflict</c>, a session over a limit <c>413 Content Too Large</c>, each with no cookie. <see cref="Answer"/> returns
    /// <see langword="false"/> (the failure propagates to the host) once the headers were sent.
    /// </summary>
    private sealed class Unavailable(string retryAfterSeconds)
    {
        public bool Answer(IDictionary<string, object> environment, Exception exception)
        {
            if (SessionFailures.StatusCode(exception) is not { } status || OwinCookieCarrier.Find(environment) is { HasStarted: true })
                return false;
            environment[OwinKeys.ResponseStatusCode] = status;
            if (environment.TryGetValue(OwinKeys.ResponseHeaders, out var value) && value is IDictionary<string, string[]> headers)
            {
                headers.Remove("Set-Cookie");
                if (SessionFailures.HasRetryAfter(status))
                    headers["Retry-After"] = [retryAfterSeconds];
                headers["Cache-Control"] = ["no-store"];
            }
            return true;
        }
    }
}
