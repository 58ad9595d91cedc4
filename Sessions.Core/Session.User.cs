namespace Sessions;

/// <content>The user the session is signed in as.</content>
public sealed partial class Session
{
    /// <summary>The user this session is signed in as (see <see cref="SetUser"/>), or <see langword="null"/>; a destroyed session has none.</summary>
    public string? User
    {
        get
        {
            RequireLoaded(null, nameof(User));
            using (Lock())
                return _record.User;
        }
    }

    /// <summary>
    /// Signs the session in as <paramref name="user"/>: the database indexes it under that user, so the user's sessions can
    /// be listed and revoked (<see cref="SessionManager.ListUserSessionsAsync(ICookieCarrier, CancellationToken)"/>). Call it
    /// once per sign-in, after <see cref="SessionManager.RenewIdAsync"/>; <c>Destroy</c> ends the binding with the session.
    /// With <see cref="SessionConfig.MaxSessionsPerUser"/> set, the sign-in (the commit that stores it) then destroys the
    /// user's least recently seen other sessions beyond the limit.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="user"/> is empty, longer than <see cref="UserNames.MaxLength"/> or holds a control character.</exception>
    /// <exception cref="NotSupportedException">The database does not implement <see cref="IUserSessionIndex"/>.</exception>
    public void SetUser(string user)
    {
        UserNames.Validate(user);
        SessionManager.UserIndexOf(_database);
        RequireLoaded(null, "the signed-in user");
        var now = _manager.UtcNow;
        SessionChanges binding;
        string id;
        using (Lock())
        {
            BeginWrite();
            var previous = _record.User;
            _record.User = user;
            _record.SignedInAt = now;
            if (_state == SessionState.Unsaved)
                return;
            if (_strategy.TracksChanges)
            {
                var changes = Changes();
                changes.BindUser(user, now, previous);
                // The sign-in is a use: its commit stores the idle deadline of now, so "last seen" is never before "created".
                _record.IdleDeadline = now + _manager.Config.IdleTimeout;
                changes.MoveIdleDeadline(_record.IdleDeadline);
                return;
            }
            binding = new SessionChanges();
            binding.BindUser(user, now, previous);
            id = _id!;
        }
        // A live record is stored as it is written: the database indexes the binding now, and the user's limit applies now.
        _manager.BindLive(this, id, binding);
    }
}
