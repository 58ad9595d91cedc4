namespace Sessions;

/// <content>The session's own end: <see cref="Destroy"/> and its <see cref="Lifetime"/>.</content>
public sealed partial class Session
{
    /// <summary>When this session ends, and a way to end it now (go-sessions' <c>Lifetime</c>).</summary>
    public SessionLifetime Lifetime => new(this);

    /// <summary>Now, on the manager's clock.</summary>
    internal DateTimeOffset Now() => _manager.Time.GetUtcNow();

    /// <summary>Destroys this session (see <see cref="DestroyAsync"/>); for databases that complete synchronously.</summary>
    /// <exception cref="InvalidOperationException">The database is asynchronous: use <see cref="DestroyAsync"/>.</exception>
    public bool Destroy() => EndSync(SessionEventReason.Destroyed, nameof(DestroyAsync));

    /// <summary>
    /// Destroys this session for good, as <see cref="SessionManager.DestroyAsync"/> does for the request: deleted from the
    /// database, the client's cookie (or header) cleared, <see cref="SessionManager.Destroyed"/> raised. Returns whether a
    /// stored session was destroyed; <see langword="false"/> when it was already destroyed or is no longer the request's session.
    /// </summary>
    public ValueTask<bool> DestroyAsync(CancellationToken cancellationToken = default) =>
        EndAsync(SessionEventReason.Destroyed, cancellationToken);

    internal ValueTask<bool> EndAsync(SessionEventReason reason, CancellationToken cancellationToken) =>
        IsDestroyed || !ReferenceEquals(Carrier.Session, this) ? new(false) : _manager.EndAsync(Carrier, reason, cancellationToken);

    /// <summary>The deadlines, read under the lock.</summary>
    internal (DateTimeOffset? Absolute, DateTimeOffset Idle) Deadlines()
    {
        RequireLoaded(null, nameof(Lifetime));
        using (Lock())
            return (_record.AbsoluteDeadline, _record.IdleDeadline);
    }

    /// <summary><see cref="EndAsync"/>, run synchronously only on a database that completes synchronously: otherwise it throws before anything is read or written.</summary>
    internal bool EndSync(SessionEventReason reason, string asyncName)
    {
        if (!_database.CompletesSynchronously)
            throw new InvalidOperationException($"The session database ({_database.GetType().Name}) completes asynchronously: call {asyncName} instead of blocking a thread on its I/O.");
        return SessionManager.RunSync(EndAsync(reason, CancellationToken.None));
    }
}
