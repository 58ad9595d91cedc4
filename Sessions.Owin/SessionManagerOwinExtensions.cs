namespace Sessions.Owin;

/// <summary>
/// The <see cref="SessionManager"/> operations on an OWIN 1.0 environment dictionary. In Katana that is
/// <c>var session = sessions.Start(context.Environment);</c>; with a raw <c>AppFunc</c>, pass its dictionary.
/// Add <see cref="SessionsOwinMiddleware.Create(SessionManager, TimeSpan?)"/> to the pipeline so sessions are committed; with the memory database
/// writes are live and the commit is a no-op.
/// </summary>
public static class SessionManagerOwinExtensions
{
    /// <summary>Returns the request's session; see <see cref="SessionManager.Start(ICookieCarrier)"/>.</summary>
    public static Session Start(this SessionManager sessions, IDictionary<string, object> environment) =>
        Manager(sessions).Start(OwinCookieCarrier.For(environment));

    /// <summary>Returns the request's session, loading it asynchronously; see <see cref="SessionManager.StartAsync"/>.</summary>
    public static ValueTask<Session> StartAsync(this SessionManager sessions, IDictionary<string, object> environment, CancellationToken cancellationToken = default) =>
        Manager(sessions).StartAsync(OwinCookieCarrier.For(environment), cancellationToken);

    /// <summary>Returns the request's session without loading it (a request that only writes commits in one database call); see <see cref="SessionManager.StartDeferred"/>.</summary>
    public static Session StartDeferred(this SessionManager sessions, IDictionary<string, object> environment) =>
        Manager(sessions).StartDeferred(OwinCookieCarrier.For(environment));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static bool ShiftExpiration(this SessionManager sessions, IDictionary<string, object> environment) =>
        Manager(sessions).ShiftExpiration(OwinCookieCarrier.For(environment));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/>; see <see cref="SessionManager.ShiftExpirationAsync"/>.</summary>
    public static ValueTask<bool> ShiftExpirationAsync(this SessionManager sessions, IDictionary<string, object> environment, CancellationToken cancellationToken = default) =>
        Manager(sessions).ShiftExpirationAsync(OwinCookieCarrier.For(environment), cancellationToken);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static bool UpdateExpiration(this SessionManager sessions, IDictionary<string, object> environment, TimeSpan expires) =>
        Manager(sessions).UpdateExpiration(OwinCookieCarrier.For(environment), expires);

    /// <summary>Sets the request's session deadline; see <see cref="SessionManager.UpdateExpirationAsync"/>.</summary>
    public static ValueTask<bool> UpdateExpirationAsync(this SessionManager sessions, IDictionary<string, object> environment, TimeSpan expires, CancellationToken cancellationToken = default) =>
        Manager(sessions).UpdateExpirationAsync(OwinCookieCarrier.For(environment), expires, cancellationToken);

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static bool Destroy(this SessionManager sessions, IDictionary<string, object> environment) =>
        Manager(sessions).Destroy(OwinCookieCarrier.For(environment));

    /// <summary>Destroys the request's session and expires its cookie; see <see cref="SessionManager.DestroyAsync"/>.</summary>
    public static ValueTask<bool> DestroyAsync(this SessionManager sessions, IDictionary<string, object> environment, CancellationToken cancellationToken = default) =>
        Manager(sessions).DestroyAsync(OwinCookieCarrier.For(environment), cancellationToken);

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static bool RenewId(this SessionManager sessions, IDictionary<string, object> environment) =>
        Manager(sessions).RenewId(OwinCookieCarrier.For(environment));

    /// <summary>Moves the request's session to a new ID (call it at login and logout); see <see cref="SessionManager.RenewIdAsync"/>.</summary>
    public static ValueTask<bool> RenewIdAsync(this SessionManager sessions, IDictionary<string, object> environment, CancellationToken cancellationToken = default) =>
        Manager(sessions).RenewIdAsync(OwinCookieCarrier.For(environment), cancellationToken);

    /// <summary>
    /// Commits the request's session if one was started (the middleware does this for you); does nothing otherwise.
    /// </summary>
    public static ValueTask CommitAsync(this SessionManager sessions, IDictionary<string, object> environment, CancellationToken cancellationToken = default)
    {
        Manager(sessions);
        if (environment is null)
            throw new ArgumentNullException(nameof(environment));
        return OwinCookieCarrier.Find(environment) is { } carrier ? carrier.CommitAsync(cancellationToken) : default;
    }

    private static SessionManager Manager(SessionManager sessions) => sessions ?? throw new ArgumentNullException(nameof(sessions));
}
