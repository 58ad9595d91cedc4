using Microsoft.AspNetCore.Builder;

namespace Sessions.AspNetCore;

/// <summary>Serves ASP.NET Core's <c>HttpContext.Session</c> from this library: <c>app.UseSessionsAsSessionFeature()</c>.</summary>
public static class SessionFeatureApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the middleware of <see cref="SessionsServiceCollectionExtensions.UseSessions"/> (commit before the response,
    /// 503/409/413 answers) and, inside it, installs <c>HttpContext.Session</c> (<see cref="Microsoft.AspNetCore.Http.ISession"/>)
    /// backed by the request's <see cref="Session"/>: code written for ASP.NET Core's session (<c>GetString</c>,
    /// <c>SetInt32</c>, <c>TryGetValue</c>, MVC's <c>AddSessionStateTempDataProvider()</c>...) runs unchanged on this
    /// library's databases. Call it instead of <c>UseSessions()</c> and instead of ASP.NET Core's <c>UseSession()</c>,
    /// after <c>UseStaticFiles()</c>: the session is loaded, asynchronously, for every request that reaches it, and its
    /// response is marked private (<c>Vary: Cookie</c>, <c>Cache-Control: no-store</c> unless set).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <param name="serviceKey">The key of a manager registered with <see cref="KeyedSessionsServiceCollectionExtensions.AddKeyedSessions"/>, or <see langword="null"/> for the one of <c>AddSessions</c>.</param>
    /// <returns><paramref name="app"/>.</returns>
    public static IApplicationBuilder UseSessionsAsSessionFeature(this IApplicationBuilder app, string? serviceKey = null)
    {
        if (app is null)
            throw new ArgumentNullException(nameof(app));
        app.UseSessions();
        return app.Use(next => new SessionFeatureMiddleware(next, serviceKey).InvokeAsync);
    }
}
