using System.Globalization;
using System.Text;
using Sessions.Owin;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Samples.Owin;

/// <summary>
/// The sample application: the route contract (docs/samples.md) as an OWIN 1.0 <c>AppFunc</c> behind the Sessions OWIN
/// middleware, served by <see cref="OwinHttpListenerHost"/>. In Katana the same app is <c>app.Use(SessionsOwinMiddleware.Create(sessions))</c>
/// and <c>sessions.Start(context.Environment)</c>.
/// </summary>
public static class SampleApp
{
    /// <summary>Starts listening on the <c>--urls</c> of <paramref name="args"/> (with or without trailing slash); dispose the result to stop.</summary>
    /// <exception cref="ArgumentException">An argument names an unknown store or an unsupported URL.</exception>
    public static ListenerServer Start(string[] args)
    {
        var options = SampleOptions.Parse(args);
        var store = SampleStore.Open(options);
        var sessions = store.Sessions;
        var app = SessionsOwinMiddleware.Create(sessions)(environment => ServeAsync(sessions, environment));
        return OwinHttpListenerHost.Start(options.Urls, app, store);
    }

    private static async Task ServeAsync(SessionManager sessions, IDictionary<string, object> environment)
    {
        ((IDictionary<string, string[]>)environment["owin.ResponseHeaders"])["X-Content-Type-Options"] = ["nosniff"]; // no browser sniffs stored text as HTML
        var result = await RouteContract.HandleAsync(new OwinSessions(sessions, environment),
            (string)environment["owin.RequestMethod"], (string)environment["owin.RequestPath"], (string)environment["owin.RequestQueryString"]);

        environment["owin.ResponseStatusCode"] = result.StatusCode;
        var headers = (IDictionary<string, string[]>)environment["owin.ResponseHeaders"];
        if (result.ContentType is { } contentType)
            headers["Content-Type"] = [contentType];
        if (result.Allow is { } allow)
            headers["Allow"] = [allow];
        var body = Encoding.UTF8.GetBytes(result.Body);
        headers["Content-Length"] = [body.Length.ToString(CultureInfo.InvariantCulture)];
        await ((Stream)environment["owin.ResponseBody"]).WriteAsync(body);
    }

    /// <summary>The route contract's session operations on this request, through the OWIN adapter.</summary>
    private readonly struct OwinSessions(SessionManager sessions, IDictionary<string, object> environment) : IRequestSessions
    {
        public ValueTask<Session> StartAsync() => sessions.StartAsync(environment);

        public Session StartDeferred() => sessions.StartDeferred(environment);
        public ValueTask<bool> ShiftExpirationAsync() => sessions.ShiftExpirationAsync(environment);
        public ValueTask<bool> DestroyAsync() => sessions.DestroyAsync(environment);
        public ValueTask<bool> RenewIdAsync() => sessions.RenewIdAsync(environment);
        public SessionManager Manager => sessions;
    }
}
