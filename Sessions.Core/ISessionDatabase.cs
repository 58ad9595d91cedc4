namespace Sessions;

/// <summary>
/// Where sessions live. Designed for remote databases: one call loads a whole session, one call commits a request's
/// changes. Every method is asynchronous; a database that completes synchronously (the memory database) also serves
/// the synchronous <see cref="SessionManager.Start(ICookieCarrier)"/>. IDs reaching a database are always well-formed
/// (see <see cref="SessionIds.IsWellFormed"/>); a database should not use them as key names as they are (hash them).
/// </summary>
/// <remarks>Every database passes the shared store contract test suite.</remarks>
public interface ISessionDatabase
{
    /// <summary>
    /// Whether <see cref="LoadAsync"/> returns the one live record shared by every request of the session, so changes are
    /// visible at once and <see cref="CommitAsync"/> only has to create new sessions (the memory database). When
    /// <see langword="false"/>, each load returns a private copy and the request's changes reach the database at commit.
    /// </summary>
    bool SharesRecords { get; }

    /// <summary>Loads a session in one round trip: values, flashes, deadlines and version; <see langword="null"/> when unknown.</summary>
    /// <remarks>The manager checks the deadlines itself; a database may return an expired record.</remarks>
    ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken);

    /// <summary>
    /// Applies one request's changes in one round trip. With <see cref="SessionChanges.IsNew"/> the session is created,
    /// and the call returns <see langword="false"/> if the ID already exists; otherwise it returns <see langword="false"/>
    /// when the session no longer exists (destroyed, renewed or expired), and then writes nothing: a destroyed session is never recreated.
    /// </summary>
    /// <param name="id">The session ID.</param>
    /// <param name="record">The request's record, with every change already applied (a database may store it whole).</param>
    /// <param name="changes">What changed.</param>
    /// <param name="cancellationToken">Cancels the commit.</param>
    ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken);

    /// <summary>Moves a session's deadlines; <see langword="false"/> when the session does not exist.</summary>
    ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken);

    /// <summary>Deletes a session for good; <see langword="true"/> when it existed.</summary>
    ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes every session in the database, including those other processes created.</summary>
    ValueTask DestroyAllAsync(CancellationToken cancellationToken);
}

/// <summary>An optional capability: a database that ends expired sessions by itself reports each one.</summary>
public interface ISessionExpirationSource
{
    /// <summary>Raised with the session ID after the database removed an expired session.</summary>
    event Action<string>? SessionExpired;
}

/// <summary>An optional capability: a database that can count its sessions.</summary>
public interface ISessionCounter
{
    /// <summary>The number of sessions stored, expired ones not yet removed included.</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);
}

/// <summary>
/// An optional capability of in-process databases: find a session by the ID exactly as the cookie carries it,
/// synchronously and without allocating, so starting an existing session costs one allocation (the <see cref="Session"/>).
/// </summary>
public interface ISessionLookup
{
    /// <summary>Finds a stored session by <paramref name="idText"/>; <paramref name="id"/> receives the stored ID string.</summary>
    bool TryFind(ReadOnlySpan<char> idText, out string id, out SessionRecord record);
}
