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

    /// <summary>
    /// Whether every operation of this database completes before it returns (its <see cref="ValueTask"/>s are always
    /// completed). Only then does the manager serve its synchronous API (<see cref="SessionManager.Start(ICookieCarrier)"/>
    /// and the others); on any other database every synchronous call throws at once, before anything is read or written.
    /// </summary>
    bool CompletesSynchronously { get; }

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

    /// <summary>
    /// Moves a session to <paramref name="newId"/> in one atomic step, as the database holds it at that moment (not as a
    /// request loaded it), so a change another request committed meanwhile, a deleted key included, is kept as it is.
    /// The old ID is gone afterwards: a commit still naming it finds no session.
    /// </summary>
    /// <returns>
    /// <see cref="SessionRenewResult.Renewed"/>; <see cref="SessionRenewResult.NotFound"/> when <paramref name="id"/> names no
    /// session (destroyed, renewed or expired meanwhile); <see cref="SessionRenewResult.IdInUse"/> when <paramref name="newId"/>
    /// already names one. Nothing changes in the last two cases.
    /// </returns>
    ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken);

    /// <summary>Deletes a session for good; <see langword="true"/> when it existed.</summary>
    ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes every session in the database, including those other processes created.</summary>
    ValueTask DestroyAllAsync(CancellationToken cancellationToken);
}

/// <summary>The outcome of <see cref="ISessionDatabase.RenewAsync"/>.</summary>
public enum SessionRenewResult
{
    /// <summary>The session now lives under the new ID only.</summary>
    Renewed,

    /// <summary>The old ID names no session (destroyed, renewed or expired); nothing changed.</summary>
    NotFound,

    /// <summary>The new ID already names a session; nothing changed.</summary>
    IdInUse,
}

/// <summary>An optional capability: a database that ends expired sessions by itself reports each one.</summary>
public interface ISessionExpirationSource
{
    /// <summary>Raised with the session ID after the database removed an expired session.</summary>
    event Action<string>? SessionExpired;
}

/// <summary>
/// An optional capability: a database that reports session events this manager did not raise itself: sessions it
/// ended by itself (expired sessions it purged, known only by their hash) and, for a database shared by several
/// processes, the events those processes caused. The manager raises each through its own events.
/// </summary>
public interface ISessionEventSource
{
    /// <summary>
    /// Raised with event data naming the session by <see cref="SessionEventArgs.IdHash"/>; never for an event this
    /// database's own manager raises (so no event is raised twice in one process). Raised outside every lock.
    /// </summary>
    event Action<SessionEventArgs>? SessionEvent;
}

/// <summary>
/// An optional capability of a database that shares events across processes: destroy a session the manager found
/// expired, so other processes learn that it expired rather than that it was destroyed.
/// </summary>
public interface ISessionExpiredDestroyer
{
    /// <summary>Destroys a session the manager found past its deadline, as <see cref="ISessionDatabase.DestroyAsync"/> does; <see langword="true"/> when it existed.</summary>
    ValueTask<bool> DestroyExpiredAsync(string id, CancellationToken cancellationToken);
}

/// <summary>An optional capability: a database that can count its sessions.</summary>
public interface ISessionCounter
{
    /// <summary>The number of sessions stored, expired ones not yet removed included.</summary>
    ValueTask<long> CountAsync(CancellationToken cancellationToken);
}

/// <summary>
/// An optional capability of remote databases: load several sessions in one round trip. The manager uses it when a
/// request carries two or more candidate IDs for the session cookie, so decoy values placed before the real cookie
/// cost one round trip, not one each; with a single candidate it calls <see cref="ISessionDatabase.LoadAsync"/>.
/// </summary>
public interface ISessionBatchLoader
{
    /// <summary>
    /// Loads several sessions in one round trip, each as <see cref="ISessionDatabase.LoadAsync"/> would.
    /// </summary>
    /// <param name="ids">The well-formed session IDs to load.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>One entry per ID, in the order of <paramref name="ids"/>; <see langword="null"/> when that ID is unknown.</returns>
    /// <remarks>The manager checks the deadlines itself; a database may return expired records.</remarks>
    ValueTask<SessionRecord?[]> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken);
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
