using System.Net;

namespace Sessions.HttpListener;

/// <summary>
/// The <see cref="SessionManager"/> operations on a <see cref="HttpListenerContext"/>, the way go-sessions has
/// <c>Start(w, r)</c>. A raw HttpListener server has no pipeline and no hook before the response starts, so commit the
/// session yourself before writing the body, as the other hosts' middleware does for you:
/// <code>
/// var context = await listener.GetContextAsync();
/// var session = await sessions.StartAsync(context);
/// session.Set("name", "iris");
/// await sessions.CommitAsync(context);   // stores the change and writes Set-Cookie: before the first byte of the body
/// await WriteBodyAsync(context.Response);
/// context.Response.Close();
/// </code>
/// A write to the session, or a commit, after the response started throws. With the memory database writes are live and
/// the commit has nothing to do; with a database that stores copies an uncommitted session loses its changes (and a new
/// one never sends its cookie). <c>await using</c> on the session commits when the scope ends, which is only correct when
/// no body was written inside it.
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
    /// Commits the request's session if one was started (see <see cref="SessionManager.CommitAsync(ICookieCarrier, CancellationToken)"/>);
    /// call it before writing the response body. Does nothing when no session was started.
    /// </summary>
    /// <exception cref="SessionDatabaseException">The database failed; answer 503 (nothing was stored).</exception>
    /// <exception cref="InvalidOperationException">The response has already started; nothing was stored.</exception>
    public static ValueTask CommitAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        HttpListenerCookieCarrier.Find(context) is { } carrier ? Manager(sessions).CommitAsync(carrier, cancellationToken) : default;

    private static SessionManager Manager(SessionManager sessions) => sessions ?? throw new ArgumentNullException(nameof(sessions));
}
