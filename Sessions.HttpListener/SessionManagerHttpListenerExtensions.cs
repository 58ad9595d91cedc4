using System.Net;
using System.Runtime.CompilerServices;

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
/// <para>
/// Behind a TLS-terminating reverse proxy, name the proxy once so that its <c>X-Forwarded-Proto</c> is believed and the
/// cookie gets <c>Secure</c>: <c>sessions.UseHttpListenerOptions(new HttpListenerSessionOptions { KnownProxies = { proxyAddress } })</c>.
/// The header is never trusted otherwise.
/// </para>
/// </summary>
public static class SessionManagerHttpListenerExtensions
{
    /// <summary>Returns the request's session; see <see cref="SessionManager.Start(ICookieCarrier)"/>.</summary>
    public static Session Start(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).Start(Carrier(sessions, context));

    /// <summary>
    /// Returns the request's session, loading it asynchronously; see <see cref="SessionManager.StartAsync"/>.
    /// Dispose it (<c>await using</c>) or call <see cref="CommitAsync"/> to commit its changes.
    /// </summary>
    public static ValueTask<Session> StartAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).StartAsync(Carrier(sessions, context), cancellationToken);

    /// <summary>
    /// Returns the request's session without loading it (a request that only writes commits in one database call); see
    /// <see cref="SessionManager.StartDeferred"/>. Commit it before writing the body, as with <see cref="StartAsync"/>.
    /// </summary>
    public static Session StartDeferred(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).StartDeferred(Carrier(sessions, context));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static bool ShiftExpiration(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).ShiftExpiration(Carrier(sessions, context));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static ValueTask<bool> ShiftExpirationAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).ShiftExpirationAsync(Carrier(sessions, context), cancellationToken);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static bool UpdateExpiration(this SessionManager sessions, HttpListenerContext context, TimeSpan expires) =>
        Manager(sessions).UpdateExpiration(Carrier(sessions, context), expires);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static ValueTask<bool> UpdateExpirationAsync(this SessionManager sessions, HttpListenerContext context, TimeSpan expires, CancellationToken cancellationToken = default) =>
        Manager(sessions).UpdateExpirationAsync(Carrier(sessions, context), expires, cancellationToken);

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static bool Destroy(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).Destroy(Carrier(sessions, context));

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static ValueTask<bool> DestroyAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).DestroyAsync(Carrier(sessions, context), cancellationToken);

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static bool RenewId(this SessionManager sessions, HttpListenerContext context) =>
        Manager(sessions).RenewId(Carrier(sessions, context));

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static ValueTask<bool> RenewIdAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        Manager(sessions).RenewIdAsync(Carrier(sessions, context), cancellationToken);

    /// <summary>
    /// Commits the request's session if one was started (see <see cref="SessionManager.CommitAsync(ICookieCarrier, CancellationToken)"/>);
    /// call it before writing the response body. Does nothing when no session was started.
    /// </summary>
    /// <exception cref="SessionDatabaseException">The database failed; answer 503 (nothing was stored).</exception>
    /// <exception cref="InvalidOperationException">The response has already started; nothing was stored.</exception>
    public static ValueTask CommitAsync(this SessionManager sessions, HttpListenerContext context, CancellationToken cancellationToken = default) =>
        HttpListenerCookieCarrier.Find(context) is { } carrier ? Manager(sessions).CommitAsync(carrier, cancellationToken) : default;

    /// <summary>
    /// Sets how this manager's HttpListener requests are read (see <see cref="HttpListenerSessionOptions"/>), replacing
    /// any options set before; call it once, before serving. The options are copied: later changes to them have no effect.
    /// </summary>
    /// <returns><paramref name="sessions"/>, for chaining.</returns>
    /// <exception cref="ArgumentException">A known proxy address is null.</exception>
    public static SessionManager UseHttpListenerOptions(this SessionManager sessions, HttpListenerSessionOptions options)
    {
        Manager(sessions);
        if (options is null)
            throw new ArgumentNullException(nameof(options));
        var proxies = new Trust(ForwardedScheme.Normalize(options.KnownProxies));
        lock (Options)
        {
            Options.Remove(sessions);
            Options.Add(sessions, proxies);
        }
        return sessions;
    }

    private static readonly ConditionalWeakTable<SessionManager, Trust> Options = new();

    /// <summary>The known proxies of one manager, frozen.</summary>
    private sealed class Trust(IPAddress[] knownProxies)
    {
        public IPAddress[] KnownProxies { get; } = knownProxies;
    }

    private static HttpListenerCookieCarrier Carrier(SessionManager sessions, HttpListenerContext context) =>
        HttpListenerCookieCarrier.For(context, Options.TryGetValue(sessions, out var trust) ? trust.KnownProxies : null);

    private static SessionManager Manager(SessionManager sessions) => sessions ?? throw new ArgumentNullException(nameof(sessions));
}
