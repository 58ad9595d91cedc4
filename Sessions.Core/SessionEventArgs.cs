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
public sealed class SessionEventArgs : EventArgs
{
    /// <summary>Creates event data.</summary>
    public SessionEventArgs(string? sessionId, SessionEventReason reason, string? previousSessionId = null)
    {
        SessionId = sessionId;
        Reason = reason;
        PreviousSessionId = previousSessionId;
    }

    /// <summary>The session ID (the new one for <see cref="SessionEventReason.Renewed"/>); <see langword="null"/> for a <see cref="SessionEventReason.DestroyedAll"/> that cannot name the sessions.</summary>
    public string? SessionId { get; }

    /// <summary>The ID before <c>RenewId</c>; otherwise <see langword="null"/>.</summary>
    public string? PreviousSessionId { get; }

    /// <summary>Why the event was raised.</summary>
    public SessionEventReason Reason { get; }
}
