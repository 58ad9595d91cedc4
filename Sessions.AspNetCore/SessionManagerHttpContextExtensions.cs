using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// The <see cref="SessionManager"/> operations on an ASP.NET Core <see cref="HttpContext"/>, the way go-sessions has
/// <c>Start(w, r)</c>: <c>var session = sessions.Start(context);</c>. Use the asynchronous forms with a database other than memory.
/// </summary>
public static class SessionManagerHttpContextExtensions
{
    /// <summary>Returns the request's session; see <see cref="SessionManager.Start(ICookieCarrier)"/>.</summary>
    public static Session Start(this SessionManager sessions, HttpContext context) =>
        sessions.Start(HttpContextCookieCarrier.For(context, sessions));

    /// <summary>Returns the request's session, loading it asynchronously; see <see cref="SessionManager.StartAsync"/>.</summary>
    public static ValueTask<Session> StartAsync(this SessionManager sessions, HttpContext context, CancellationToken cancellationToken = default) =>
        sessions.StartAsync(HttpContextCookieCarrier.For(context, sessions), cancellationToken);

    /// <summary>Returns the request's session without loading it (a request that only writes commits in one database call); see <see cref="SessionManager.StartDeferred"/>.</summary>
    public static Session StartDeferred(this SessionManager sessions, HttpContext context) =>
        sessions.StartDeferred(HttpContextCookieCarrier.For(context, sessions));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static bool ShiftExpiration(this SessionManager sessions, HttpContext context) =>
        sessions.ShiftExpiration(HttpContextCookieCarrier.For(context, sessions));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static ValueTask<bool> ShiftExpirationAsync(this SessionManager sessions, HttpContext context, CancellationToken cancellationToken = default) =>
        sessions.ShiftExpirationAsync(HttpContextCookieCarrier.For(context, sessions), cancellationToken);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static bool UpdateExpiration(this SessionManager sessions, HttpContext context, TimeSpan expires) =>
        sessions.UpdateExpiration(HttpContextCookieCarrier.For(context, sessions), expires);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static ValueTask<bool> UpdateExpirationAsync(this SessionManager sessions, HttpContext context, TimeSpan expires, CancellationToken cancellationToken = default) =>
        sessions.UpdateExpirationAsync(HttpContextCookieCarrier.For(context, sessions), expires, cancellationToken);

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static bool Destroy(this SessionManager sessions, HttpContext context) =>
        sessions.Destroy(HttpContextCookieCarrier.For(context, sessions));

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static ValueTask<bool> DestroyAsync(this SessionManager sessions, HttpContext context, CancellationToken cancellationToken = default) =>
        sessions.DestroyAsync(HttpContextCookieCarrier.For(context, sessions), cancellationToken);

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static bool RenewId(this SessionManager sessions, HttpContext context) =>
        sessions.RenewId(HttpContextCookieCarrier.For(context, sessions));

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static ValueTask<bool> RenewIdAsync(this SessionManager sessions, HttpContext context, CancellationToken cancellationToken = default) =>
        sessions.RenewIdAsync(HttpContextCookieCarrier.For(context, sessions), cancellationToken);
}
