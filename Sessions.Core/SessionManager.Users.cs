namespace Sessions;

/// <content>Users and devices: list a user's sessions, revoke one, sign out everywhere, and the per-user session limit.</content>
public sealed partial class SessionManager
{
    internal DateTimeOffset UtcNow => _time.GetUtcNow();

    /// <summary>
    /// The user's live sessions (devices), newest sign-in first. No session is marked current; use
    /// <see cref="ListUserSessionsAsync(ICookieCarrier, CancellationToken)"/> from a request for that.
    /// </summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public ValueTask<IReadOnlyList<UserSession>> ListUserSessionsAsync(string user, CancellationToken cancellationToken = default)
    {
        UserNames.Validate(user);
        return ListAsync(UserIndexOf(Database), user, null, cancellationToken);
    }

    /// <summary>
    /// The live sessions of the user the request's session is signed in as, newest sign-in first, the request's own marked
    /// <see cref="UserSession.IsCurrent"/>; empty when the request is not signed in.
    /// </summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<IReadOnlyList<UserSession>> ListUserSessionsAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default)
    {
        cancellationToken = RequestToken(carrier, cancellationToken);
        return await ListUserSessionsAsync(await StartAsync(carrier, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The live sessions of the user <paramref name="session"/> (the request's session, from any host's <c>Start</c>) is signed in as; see <see cref="ListUserSessionsAsync(ICookieCarrier, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public ValueTask<IReadOnlyList<UserSession>> ListUserSessionsAsync(Session session, CancellationToken cancellationToken = default)
    {
        var index = UserIndexOf((session ?? throw new ArgumentNullException(nameof(session))).Database);
        if (SignedInHandle(session) is not { } current)
            return new([]);
        return ListAsync(index, session.User!, current, RequestToken(session.Carrier, cancellationToken));
    }

    /// <summary>
    /// Destroys the session <paramref name="handle"/> names if it is signed in as <paramref name="user"/> (no cookie is
    /// touched: that client's next request is signed out). Returns whether it was; a handle of another user's session, or
    /// anything that is not a handle, destroys nothing.
    /// </summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken = default)
    {
        UserNames.Validate(user);
        var index = UserIndexOf(Database);
        if (!UserNames.IsHandle(handle) || !await index.DestroyUserSessionAsync(user, handle, cancellationToken).ConfigureAwait(false))
            return false;
        RaiseDestroyedByHandle(handle);
        return true;
    }

    /// <summary>
    /// Destroys the session <paramref name="handle"/> names if it belongs to the user the request is signed in as; the
    /// request's own session is destroyed as <see cref="DestroyAsync"/> does (its cookie expired). Returns whether it was.
    /// </summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<bool> DestroyUserSessionAsync(ICookieCarrier carrier, string handle, CancellationToken cancellationToken = default)
    {
        cancellationToken = RequestToken(carrier, cancellationToken);
        return await DestroyUserSessionAsync(await StartAsync(carrier, cancellationToken).ConfigureAwait(false), handle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Destroys the session <paramref name="handle"/> names if it belongs to the user <paramref name="session"/> (the request's session) is signed in as; see <see cref="DestroyUserSessionAsync(ICookieCarrier, string, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<bool> DestroyUserSessionAsync(Session session, string handle, CancellationToken cancellationToken = default)
    {
        var carrier = (session ?? throw new ArgumentNullException(nameof(session))).Carrier;
        cancellationToken = RequestToken(carrier, cancellationToken);
        var index = UserIndexOf(session.Database);
        if (SignedInHandle(session) is not { } current || !UserNames.IsHandle(handle))
            return false;
        if (string.Equals(handle, current, StringComparison.Ordinal))
            return await DestroyAsync(carrier, cancellationToken).ConfigureAwait(false);
        if (!await index.DestroyUserSessionAsync(session.User!, handle, cancellationToken).ConfigureAwait(false))
            return false;
        RaiseDestroyedByHandle(handle);
        return true;
    }

    /// <summary>Destroys every session of <paramref name="user"/> ("sign out everywhere", from outside a request); returns how many.</summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<int> DestroyUserSessionsAsync(string user, CancellationToken cancellationToken = default)
    {
        UserNames.Validate(user);
        var destroyed = await UserIndexOf(Database).DestroyUserSessionsAsync(user, null, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < destroyed; i++)
            RaiseDestroyedByHandle();
        return destroyed;
    }

    /// <summary>
    /// Destroys every session of the user the request is signed in as: "sign out everywhere", the request's own included
    /// (destroyed as <see cref="DestroyAsync"/> does), or, with <paramref name="keepCurrent"/>, "sign out other devices".
    /// Returns how many were destroyed; 0 when the request is not signed in.
    /// </summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<int> DestroyUserSessionsAsync(ICookieCarrier carrier, bool keepCurrent, CancellationToken cancellationToken = default)
    {
        cancellationToken = RequestToken(carrier, cancellationToken);
        return await DestroyUserSessionsAsync(await StartAsync(carrier, cancellationToken).ConfigureAwait(false), keepCurrent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Signs the user <paramref name="session"/> (the request's session) is signed in as out everywhere, or everywhere else; see <see cref="DestroyUserSessionsAsync(ICookieCarrier, bool, CancellationToken)"/>.</summary>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public async ValueTask<int> DestroyUserSessionsAsync(Session session, bool keepCurrent, CancellationToken cancellationToken = default)
    {
        var carrier = (session ?? throw new ArgumentNullException(nameof(session))).Carrier;
        cancellationToken = RequestToken(carrier, cancellationToken);
        var index = UserIndexOf(session.Database);
        if (SignedInHandle(session) is not { } current)
            return 0;
        var destroyed = await index.DestroyUserSessionsAsync(session.User!, current, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < destroyed; i++)
            RaiseDestroyedByHandle();
        if (!keepCurrent && await DestroyAsync(carrier, cancellationToken).ConfigureAwait(false))
            destroyed++;
        return destroyed;
    }

    /// <summary>The database's user index, or a <see cref="NotSupportedException"/> naming the database.</summary>
    internal static IUserSessionIndex UserIndexOf(ISessionDatabase database) =>
        database as IUserSessionIndex ?? throw new NotSupportedException(
            $"The session database {database.GetType().Name} does not index sessions by user (it does not implement IUserSessionIndex).");

    /// <summary>Stores the sign-in of a live record (the memory database indexes it), then applies the per-user limit.</summary>
    internal void BindLive(Session session, string id, SessionChanges binding)
    {
        if (!RunSync(session.Database.CommitAsync(id, session.Record, binding, CancellationToken.None)))
            throw new SessionEndedException();
        RunSync(EnforceUserLimitAsync(session.Database, id, binding, CancellationToken.None));
    }

    /// <summary>
    /// After a commit that signed a session in: when <see cref="SessionConfig.MaxSessionsPerUser"/> is exceeded, destroys
    /// the user's least recently seen other sessions (the smallest idle deadline) until the limit holds. The least recently
    /// seen, not the oldest sign-in, goes: a device in daily use is kept over one forgotten in a drawer.
    /// </summary>
    internal async ValueTask EnforceUserLimitAsync(ISessionDatabase database, string id, SessionChanges changes, CancellationToken cancellationToken)
    {
        var limit = Config.MaxSessionsPerUser;
        if (!changes.BindsUser || limit == 0 || changes.User is not { } user)
            return;
        var index = UserIndexOf(database);
        var current = SessionIds.HashText(id);
        var now = UtcNow;
        var others = new List<UserSessionEntry>();
        foreach (var entry in await index.ListUserSessionsAsync(user, cancellationToken).ConfigureAwait(false))
        {
            if (entry.EndsAt > now && !string.Equals(entry.Handle, current, StringComparison.Ordinal))
                others.Add(entry);
        }
        others.Sort(static (a, b) => a.IdleDeadline != b.IdleDeadline ? a.IdleDeadline.CompareTo(b.IdleDeadline) : a.SignedInAt.CompareTo(b.SignedInAt));
        for (var i = 0; i < others.Count - (limit - 1); i++)
        {
            if (await index.DestroyUserSessionAsync(user, others[i].Handle, cancellationToken).ConfigureAwait(false))
                RaiseDestroyedByHandle(others[i].Handle);
        }
    }

    private async ValueTask<IReadOnlyList<UserSession>> ListAsync(IUserSessionIndex index, string user, string? current, CancellationToken cancellationToken)
    {
        var entries = await index.ListUserSessionsAsync(user, cancellationToken).ConfigureAwait(false);
        var now = UtcNow;
        var sessions = new List<UserSession>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.EndsAt <= now)
                continue;
            var lastSeen = entry.IdleDeadline - Config.IdleTimeout;
            sessions.Add(new UserSession(entry.Handle, entry.SignedInAt, lastSeen < entry.SignedInAt ? entry.SignedInAt : lastSeen,
                string.Equals(entry.Handle, current, StringComparison.Ordinal)));
        }
        sessions.Sort(static (a, b) => a.Created != b.Created ? b.Created.CompareTo(a.Created) : b.LastSeen.CompareTo(a.LastSeen));
        return sessions;
    }

    /// <summary>The handle of the request's session when it is stored and signed in; otherwise <see langword="null"/>.</summary>
    private static string? SignedInHandle(Session session) =>
        session.User is not null && session.Exists && !session.IsPendingCreate ? SessionIds.HashText(session.Id) : null;

    // The databases hold only hashes of IDs, so a session destroyed by handle is reported by its hash (the handle is
    // SessionIds.HashText of the ID: SessionEventArgs.IdHash), and one of a bulk sign-out, counted only, without either.
    private void RaiseDestroyedByHandle(string? handle = null) =>
        Raise(handle is null ? new SessionEventArgs(null, SessionEventReason.Destroyed) : SessionEventArgs.ForHash(SessionEventReason.Destroyed, handle));
}
