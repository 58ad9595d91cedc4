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
/// A commit failure propagates from that write (no byte of the response goes out) or from the middleware (the host turns
/// it into a failed response). The cookie itself is a header, written when the session is first written, so write to the
/// session before the response body; a cookie write after the headers were sent throws.
/// </para>
/// </remarks>
public static class SessionsOwinMiddleware
{
    /// <summary>Builds the middleware for <paramref name="sessions"/>.</summary>
    public static Func<AppFunc, AppFunc> Create(SessionManager sessions)
    {
        if (sessions is null)
            throw new ArgumentNullException(nameof(sessions));
        return next =>
        {
            if (next is null)
                throw new ArgumentNullException(nameof(next));
            return environment => InvokeAsync(next, environment);
        };
    }

    private static Task InvokeAsync(AppFunc next, IDictionary<string, object> environment)
    {
        var task = next(environment);
        // No session started (or the memory database): nothing to await, no state machine.
        if (task.Status == TaskStatus.RanToCompletion)
        {
            if (OwinCookieCarrier.Find(environment) is not { } carrier)
                return Task.CompletedTask;
            var commit = carrier.CommitAsync(CancellationToken.None);
            return commit.IsCompletedSuccessfully ? Task.CompletedTask : commit.AsTask();
        }
        return AwaitThenCommitAsync(task, environment);
    }

    private static async Task AwaitThenCommitAsync(Task task, IDictionary<string, object> environment)
    {
        await task.ConfigureAwait(false);
        if (OwinCookieCarrier.Find(environment) is { } carrier)
            await carrier.CommitAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
