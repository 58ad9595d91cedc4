namespace Sessions;

/// <content>
/// A session started without loading it (<see cref="SessionManager.StartDeferred"/>): writes are collected as usual,
/// reads of what the request wrote are answered from its own changes, and the commit applies the changes only if the
/// cookie's session is still live, in one database call; anything else needs the stored session (<see cref="LoadAsync"/>).
/// </content>
public sealed partial class Session
{
    /// <summary>
    /// Loads the stored session of a session started with <see cref="SessionManager.StartDeferred"/>, so everything can be
    /// read; what this request already wrote is kept on top of it. When the cookie names no live session, the session
    /// becomes a new one (holding this request's writes, if any). Does nothing for a session already loaded.
    /// </summary>
    /// <exception cref="SessionDatabaseException">The database failed (unless the configuration fails open, see <see cref="SessionConfig.DatabaseFailureMode"/>).</exception>
    /// <exception cref="SessionImmutableValueException">This request set a plain value over a stored immutable one; the session stays unloaded.</exception>
    /// <exception cref="SessionLimitExceededException">This request's writes would take the stored session past <see cref="SessionConfig.MaxKeys"/>; the session stays unloaded.</exception>
    public ValueTask LoadAsync(CancellationToken cancellationToken = default) =>
        _state != SessionState.Deferred ? default : LoadDeferredAsync(cancellationToken); // never deferred again once loaded: the lock is taken inside

    private async ValueTask LoadDeferredAsync(CancellationToken cancellationToken)
    {
        string first;
        List<string>? more;
        using (Lock())
        {
            if (_state != SessionState.Deferred)
                return;
            first = _id!;
            more = _moreCandidates;
        }
        var (found, unsaved) = await _manager.LoadOrFailOpenAsync(new SessionManager.CandidateIds(first, more), _database,
            SessionManager.RequestToken(Carrier, cancellationToken)).ConfigureAwait(false);
        using (Lock())
        {
            if (_state != SessionState.Deferred)
                return; // another caller loaded it meanwhile
            _moreCandidates = null;
            var changes = _changes;
            if (found is { } live)
            {
                if (changes is not null)
                {
                    changes.CheckUnloaded(live.Record); // throws, leaving the session unloaded, when a write breaks a rule of the stored session
                    changes.RequiresLiveAt = null; // a failed commit's: the session is loaded now
                    changes.ApplyTo(live.Record);
                }
                _record = live.Record;
                _id = live.Id;
                _state = SessionState.Loaded;
            }
            else if (unsaved)
            {
                _id = null;
                _changes = null;
                _state = SessionState.Unsaved;
            }
            else
            {
                BecomeNew(changes);
                return;
            }
        }
        if (found is not null)
            Touch(_manager.Time.GetUtcNow() + _manager.Config.IdleTimeout);
    }

    /// <summary>
    /// Reads of what the request did not write itself need the stored session: loaded here on a database that completes
    /// synchronously; on any other, the read throws rather than block a thread on I/O. <paramref name="key"/> names a value
    /// the request may have written (answered from its own changes), <see langword="null"/> anything else.
    /// </summary>
    private void RequireLoaded(string? key, string what)
    {
        if (_state != SessionState.Deferred)
            return; // a session never becomes deferred again, so only this state needs the lock
        using (Lock())
        {
            if (_state != SessionState.Deferred || (key is not null && (_record.TryGetValue(key, out _) || _changes?.Cleared == true)))
                return;
        }
        if (_database.CompletesSynchronously)
        {
            SessionManager.RunSync(LoadAsync());
            return;
        }
        throw new InvalidOperationException(
            $"The session was started with StartDeferred and is not loaded, so reading {(key is null ? what : $"the key '{key}'")} needs the stored session: call 'await session.LoadAsync()' first, or start the session with StartAsync.");
    }

    /// <summary>A read of <paramref name="key"/> (see <see cref="RequireLoaded"/>); a null key is refused first, loaded or not.</summary>
    private void RequireLoadedFor(string key)
    {
        if (key is null)
            throw new ArgumentNullException(nameof(key));
        RequireLoaded(key, key);
    }

    /// <summary>A deferred session's commit, under the lock: what a load would have checked, the database checks (see <see cref="SessionChanges.RequiresLiveAt"/>).</summary>
    private void PrepareUnloadedCommit(SessionChanges changes)
    {
        var now = _manager.Time.GetUtcNow();
        changes.RequiresLiveAt = now;
        changes.MoveIdleDeadline(now + _manager.Config.IdleTimeout); // a use of the session: stored when it moves the deadline far enough
    }

    /// <summary>The cookie of a deferred session named no live session: the request's writes go to a new session, with its own cookie.</summary>
    private ValueTask CreateInsteadAsync(SessionChanges changes, CancellationToken cancellationToken)
    {
        _manager.Counters.AddUnknown();
        using (Lock())
        {
            BecomeNew(changes);
            _changes ??= changes; // the commit took them out
        }
        return CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Under the lock: the cookie of a deferred session named no live session, so it is a new one, which exists only once
    /// written; with <paramref name="changes"/> (the request wrote) the commit creates it under a new ID.
    /// </summary>
    private void BecomeNew(SessionChanges? changes)
    {
        _moreCandidates = null;
        _id = changes is null ? null : _manager.NewId();
        _state = changes is null ? SessionState.New : SessionState.Created;
        if (changes is null)
            return;
        changes.RequiresLiveAt = null;
        changes.IsNew = true;
    }
}
