namespace Sessions;

/// <summary>
/// When a session ends (go-sessions' <c>LifeTime</c>): its absolute and idle deadlines, the time left on the manager's
/// clock, and <see cref="ExpireNowAsync"/>. Get it from <see cref="Session.Lifetime"/>; it is a view, so every read is
/// current (and getting it allocates nothing).
/// </summary>
/// <remarks>
/// A session ends at the earlier of its two deadlines. The absolute one is set when the session is stored and moved only
/// by <c>ShiftExpiration</c>/<c>UpdateExpiration</c>; the idle one moves forward with every request (databases that store
/// copies write that move at most once per tenth of the idle window). A session not yet stored shows the deadlines it
/// would get if stored now.
/// </remarks>
public readonly struct SessionLifetime
{
    private readonly Session _session;

    internal SessionLifetime(Session session) => _session = session ?? throw new ArgumentNullException(nameof(session));

    private Session Owner => _session ?? throw new InvalidOperationException("This SessionLifetime is a default value: get one from Session.Lifetime.");

    /// <summary>When the session ends regardless of activity, or <see langword="null"/> when it has no absolute deadline.</summary>
    public DateTimeOffset? AbsoluteDeadline => Owner.Deadlines().Absolute;

    /// <summary>When the session ends unless it is used again.</summary>
    public DateTimeOffset IdleDeadline => Owner.Deadlines().Idle;

    /// <summary>When the session ends if not used again: the earlier of the two deadlines.</summary>
    public DateTimeOffset EndsAt
    {
        get
        {
            var (absolute, idle) = Owner.Deadlines();
            return absolute is { } at && at < idle ? at : idle;
        }
    }

    /// <summary>The time until <see cref="EndsAt"/> on the manager's clock (<see cref="SessionConfig.TimeProvider"/>); zero once passed or destroyed.</summary>
    public TimeSpan TimeLeft
    {
        get
        {
            if (Owner.IsDestroyed)
                return TimeSpan.Zero;
            var left = EndsAt - Owner.Now();
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>Whether the session has passed a deadline or was destroyed.</summary>
    public bool HasExpired => TimeLeft == TimeSpan.Zero;

    /// <summary>Ends the session now (see <see cref="ExpireNowAsync"/>); for databases that complete synchronously.</summary>
    /// <exception cref="InvalidOperationException">The database is asynchronous: use <see cref="ExpireNowAsync"/>.</exception>
    public bool ExpireNow() => Owner.EndSync(SessionEventReason.Expired, nameof(ExpireNowAsync));

    /// <summary>
    /// Ends the session now, as if its deadline had just passed (go-sessions' <c>ExpireNow</c>): it is deleted from the
    /// database, the client's cookie (or header) is cleared as by <c>Destroy</c>, and <see cref="SessionManager.Destroyed"/>
    /// is raised with <see cref="SessionEventReason.Expired"/>. Returns whether a stored session ended.
    /// </summary>
    public ValueTask<bool> ExpireNowAsync(CancellationToken cancellationToken = default) =>
        Owner.EndAsync(SessionEventReason.Expired, cancellationToken);
}
