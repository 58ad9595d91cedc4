using System.Net;
using System.Text;
using Sessions.HttpListener;

namespace Sessions.Samples.HttpListener;

/// <summary>The sample application: the route contract (docs/samples.md) on a raw HttpListener, startable in-process by tests on any port.</summary>
public static class SampleApp
{
    /// <summary>Starts listening on the <c>--urls</c> of <paramref name="args"/> (with or without trailing slash); dispose the result to stop.</summary>
    /// <exception cref="ArgumentException">An argument names an unknown store or an unsupported URL.</exception>
    public static ListenerServer Start(string[] args)
    {
        var options = SampleOptions.Parse(args);
        var store = SampleStore.Open(options);
        var sessions = store.Sessions;
        return new ListenerServer(options.Urls, context => ServeAsync(sessions, context), store);
    }

    private static async Task ServeAsync(SessionManager sessions, HttpListenerContext context)
    {
        var request = context.Request;
        var target = request.RawUrl ?? "/";
        var mark = target.IndexOf('?');
        var path = Uri.UnescapeDataString(mark < 0 ? target : target.Substring(0, mark));
        var query = mark < 0 ? null : target.Substring(mark + 1);

        var response = context.Response;
        response.Headers.Set("X-Content-Type-Options", "nosniff"); // no browser sniffs stored text as HTML
        RouteResult result;
        try
        {
            result = await RouteContract.HandleAsync(new ListenerSessions(sessions, context), request.HttpMethod, path, query);
            // No pipeline commits for a raw HttpListener: commit before the response goes out, so the next request sees it.
            await sessions.CommitAsync(context);
        }
        catch (Exception e) when (response.TryAnswerSessionFailure(e))
        {
            return; // 503 (database down) or 409 (session ended meanwhile), as the other hosts answer
        }

        response.StatusCode = result.StatusCode;
        if (result.ContentType is { } contentType)
            response.ContentType = contentType;
        if (result.Allow is { } allow)
            response.Headers.Set("Allow", allow);
        var body = Encoding.UTF8.GetBytes(result.Body);
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body);
    }

    /// <summary>The route contract's session operations on this request, through the HttpListener adapter.</summary>
    private readonly struct ListenerSessions(SessionManager sessions, HttpListenerContext context) : IRequestSessions
    {
        public ValueTask<Session> StartAsync() => sessions.StartAsync(context);

        public Session StartDeferred() => sessions.StartDeferred(context);
        public ValueTask<bool> ShiftExpirationAsync() => sessions.ShiftExpirationAsync(context);
        public ValueTask<bool> DestroyAsync() => sessions.DestroyAsync(context);
        public ValueTask<bool> RenewIdAsync() => sessions.RenewIdAsync(context);
        public SessionManager Manager => sessions;
    }
}
