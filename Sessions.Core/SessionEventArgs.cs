namespace Sessions;

/// <summary>Why a session event was raised.</summary>
public enum SessionEventReason
{
    /// <summary>A request wrote to a new session, which now exists.</summary>
    Created,
    /// <summary><c>Destroy</c> or <c>DestroyById</c> ended the session.</summary>
    Destroyed,
    /// <summary>
    /// <c>DestroyAll</c> ended every session: one event per session, with its ID, on a database that can name them
    /// (<see cref="ISessionDestroyAllListing"/>); otherwise one event whose <see cref="SessionEventArgs.SessionId"/> is <see langword="null"/>.
    /// </summary>
    DestroyedAll,
    /// <summary>The session passed its absolute or idle deadline.</summary>
    Expired,
    /// <summary><c>RenewId</c> moved the session to a new ID.</summary>
    Renewed,
}

/// <summary>Data of the <see cref="SessionManager"/> events. Handlers run outside every lock and may call back into the manager.</summary>
/// <remarks>
/// An event this process caused carries the session ID. An event a database reports by itself (a purge of expired
/// sessions) or receives from another process sharing it (<see cref="IsRemote"/>) carries only <see cref="IdHash"/>:
/// databases store sessions under that hash, never under the ID, so no ID ever leaves the process that holds it.
/// </remarks>
public sealed class SessionEventArgs : EventArgs
{
    private string? _idHash;
    private string? _previousIdHash;

    /// <summary>Creates event data.</summary>
    public SessionEventArgs(string? sessionId, SessionEventReason reason, string? previousSessionId = null)
    {
        SessionId = sessionId;
        Reason = reason;
        PreviousSessionId = previousSessionId;
    }

    private SessionEventArgs(SessionEventReason reason, string? idHash, string? previousIdHash, bool isRemote)
    {
        Reason = reason;
        _idHash = idHash;
        _previousIdHash = previousIdHash;
        IsRemote = isRemote;
    }

    /// <summary>
    /// Event data that names the session only by its hash (<see cref="SessionIds.HashText(string)"/>): what a database
    /// that stores hashes reports, or what arrives from another process.
    /// </summary>
    /// <param name="reason">Why the event was raised.</param>
    /// <param name="idHash">The hash of the session ID (the new one for <see cref="SessionEventReason.Renewed"/>); <see langword="null"/> only for <see cref="SessionEventReason.DestroyedAll"/>.</param>
    /// <param name="previousIdHash">The hash of the ID before <c>RenewId</c>, when known.</param>
    /// <param name="isRemote">Whether the event reached this process from the database's event channel (see <see cref="IsRemote"/>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="idHash"/> is <see langword="null"/> for a reason other than <see cref="SessionEventReason.DestroyedAll"/>.</exception>
    public static SessionEventArgs ForHash(SessionEventReason reason, string? idHash, string? previousIdHash = null, bool isRemote = false)
    {
        if (idHash is null && reason != SessionEventReason.DestroyedAll)
            throw new ArgumentNullException(nameof(idHash), $"A {reason} event names its session: the hash of its ID is required.");
        return new SessionEventArgs(reason, idHash, previousIdHash, isRemote);
    }

    /// <summary>
    /// The session ID (the new one for <see cref="SessionEventReason.Renewed"/>) when this process caused the event;
    /// <see langword="null"/> for a <see cref="SessionEventReason.DestroyedAll"/> that cannot name the sessions and for events known only by <see cref="IdHash"/>.
    /// </summary>
    public string? SessionId { get; }

    /// <summary>The ID before <c>RenewId</c> when this process renewed the session; otherwise <see langword="null"/>.</summary>
    public string? PreviousSessionId { get; }

    /// <summary>
    /// The hash of the session ID (<see cref="SessionIds.HashText(string)"/>, 43 base64url characters): the name the
    /// database stores the session under, and the one name every event carries, whichever process raised it, so handlers
    /// can key on it. It cannot be turned back into the ID. <see langword="null"/> only for <see cref="SessionEventReason.DestroyedAll"/>.
    /// </summary>
    public string? IdHash => _idHash ??= SessionId is null ? null : SessionIds.HashText(SessionId);

    /// <summary>The hash of the ID before <c>RenewId</c>, for <see cref="SessionEventReason.Renewed"/>; otherwise <see langword="null"/>.</summary>
    public string? PreviousIdHash => _previousIdHash ??= PreviousSessionId is null ? null : SessionIds.HashText(PreviousSessionId);

    /// <summary>
    /// Whether this process did not cause the event but learned it from the database's event channel: another process
    /// sharing the database caused it, or the database ended the session by itself (a Redis key expiring). Such events
    /// carry <see cref="IdHash"/> only. Delivery across processes is at most once: see the database's documentation.
    /// </summary>
    public bool IsRemote { get; }

    /// <summary>Why the event was raised.</summary>
    public SessionEventReason Reason { get; }
}
