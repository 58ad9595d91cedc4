using System.Net;

namespace Sessions.HttpListener;

/// <summary>
/// The <see cref="SessionManager"/> operations on a <see cref="HttpListenerContext"/>, the way go-sessions has
/// <c>Start(w, r)</c>. A raw HttpListener server has no pipeline that commits for it, so start the session with
/// <c>await using</c>, which commits when the scope ends:
/// <code>
/// var context = await listener.GetContextAsync();
/// await using (var session = await sessions.StartAsync(context))
/// {
///     session.Set("name", "iris");   // write to the session before the response body: the cookie is a header
///     await WriteBodyAsync(context.Response);
/// }
/// context.Response.Close();          // close after the commit, so the next request sees the changes
/// </code>
/// With the memory database writes are live and the commit is a no-op; with a database that stores copies, an
/// uncommitted session loses its changes. <see cref="CommitAsync"/> commits the request's session without holding it.
/// </summary>
public static class SessionManagerHttpListenerExtensions
{
    /// <summary>Returns the request's session; see <see cref="SessionManager.Start(ICookieCarrier)"/>.</summary>
    public static Session Start(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).Start(HttpListenerCookieCarrier.For(context));

    /// <summary>
    /// Returns the request's session, loading it asynchronously; see <see cref="SessionManager.StartAsync"/>.
    /// Dispose it (<c>await using</c>) or call <see cref="CommitAsync"/> to commit its changes.
    /// </summary>
    public static ValueTask<Session> StartAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).StartAsync(HttpListenerCookieCarrier.For(context), cancellationToken);

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static bool ShiftExpiration(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).ShiftExpiration(HttpListenerCookieCarrier.For(context));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static ValueTask<bool> ShiftExpirationAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).ShiftExpirationAsync(HttpListenerCookieCarrier.For(context), cancellationToken);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static bool UpdateExpiration(this SessionManager sessions, HttpListenerContext context, TimeSpan expires) =>
        Manager(sessions).UpdateExpiration(HttpListenerCookieCarrier.For(context), expires);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static ValueTask<bool> UpdateExpirationAsync(this SessionManager sessions, HttpListenerContext context, TimeSpan expires, CancellationToken cancellationToken = default) =>
        Manager(sessions).UpdateExpirationAsync(HttpListenerCookieCarrier.For(context), expires, cancellationToken);

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static bool Destroy(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).Destroy(HttpListenerCookieCarrier.For(context));

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static ValueTask<bool> DestroyAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).DestroyAsync(HttpListenerCookieCarrier.For(context), cancellationToken);

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static bool RenewId(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).RenewId(HttpListenerCookieCarrier.For(context));

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static ValueTask<bool> RenewIdAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).RenewIdAsync(HttpListenerCookieCarrier.For(context), cancellationToken);

    /// <summary>
    /// Commits the request's session if one was started (see <see cref="Session.CommitAsync"/>); does nothing otherwise.
    /// Call it before closing the response when the session is not held in an <c>await using</c>.
    /// </summary>
    public static ValueTask CommitAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default)
    {
        Manager(sessions);
        return HttpListenerCookieCarrier.Find(context)?.Session is { } session ? session.CommitAsync(cancellationToken) : default;
    }

    private static SessionManager Manager(SessionManager sessions) => sessions ?? throw new ArgumentNullException(nameof(sessions));
}
