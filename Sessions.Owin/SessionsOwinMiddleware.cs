using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Owin;

/// <summary>
/// The OWIN middleware that commits each request's session. In Katana: <c>app.Use(SessionsOwinMiddleware.Create(sessions));</c>
/// then <c>sessions.Start(context.Environment)</c> in the application.
/// </summary>
/// <remarks>
/// The session is committed in <c>server.OnSendingHeaders</c>, before the headers go out. Those callbacks are
/// synchronous, so with a database that stores copies the callback waits for the commit (as Katana's authentication
/// handlers wait for their session store there): when the client sees the response, its changes are stored. When the
/// application's task completes the middleware commits anything changed after the headers were sent. A commit failure
/// propagates (from the write that sends the headers, or from the middleware; the host turns it into a failed response
/// if it can); a write is never reported as saved when it was not. The cookie itself is a header, written when the session is first written, so write to the
/// session before the response body.
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
