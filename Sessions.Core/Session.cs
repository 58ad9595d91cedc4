namespace Sessions;

/// <summary>
/// One user's session within one request (go-sessions' <c>Session</c>): typed values, immutable values and flash messages.
/// Every member is safe under concurrent requests of the same session. Get it from <see cref="SessionManager.Start(ICookieCarrier)"/>
/// or a host adapter's <c>Start</c>; a second <c>Start</c> in the same request returns the same object.
/// </summary>
/// <remarks>
/// No server state exists until the first write: a session that is only read costs nothing durable. With the memory
/// database a write is stored at once and the first one writes the cookie; with a database that stores copies the writes
/// reach it at <see cref="CommitAsync"/>, which runs before the response starts (the host adapter calls it), and the
/// cookie of a new session is written only once the database has stored it. Once the response has started, writes throw.
/// </remarks>
public sealed partial class Session : IAsyncDisposable
{
    private readonly SessionManager _manager;
    private readonly ISessionDatabase _database;
    private readonly RecordStrategy _strategy;
    private SessionRecord _record;
    private string? _id;
    private SessionState _state;
    private SessionChanges? _changes;
    private ConsumedFlashes? _consumed;
    private volatile bool _createdPending;
    private List<string>? _moreCandidates; // a deferred session's further cookie values, after the one in _id

    internal Session(SessionManager manager, ISessionDatabase database, ICookieCarrier carrier, SessionRecord record, string? id, SessionState state, List<string>? moreCandidates = null)
    {
        _manager = manager;
        _database = database;
        _strategy = RecordStrategy.For(database);
        Carrier = carrier;
        _record = record;
        _id = id;
        _state = state;
        _moreCandidates = moreCandidates;
    }

    /// <summary>Where the session stands in this request.</summary>
    internal enum SessionState
    {
        /// <summary>Issued in this request and not written yet: nothing exists on the server.</summary>
        New,
        /// <summary>Issued in this request and written: stored (live records) or to be created by the commit (copies).</summary>
        Created,
        /// <summary>Loaded from the database.</summary>
        Loaded,
        /// <summary>Destroyed in this request.</summary>
        Destroyed,
        /// <summary>The database failed to load it and the configuration fails open: never stored, no cookie.</summary>
        Unsaved,
        /// <summary>
        /// Started with <see cref="SessionManager.StartDeferred"/> from a cookie naming a session, and not loaded: <c>_id</c>
        /// holds the cookie's (first) ID, not yet checked, and the record only this request's writes.
        /// </summary>
        Deferred,
    }

    /// <summary>The session ID (never the encoded cookie value). For a new session it is drawn on first use.</summary>
    /// <exception cref="InvalidOperationException">The session was started with <see cref="SessionManager.StartDeferred"/> and is not loaded (see <see cref="LoadAsync"/>).</exception>
    public string Id
    {
        get
        {
            RequireLoaded(null, nameof(Id));
            using (Lock())
                return _id ??= _manager.NewId();
        }
    }

    /// <summary>Whether this request issued the session and has not written to it yet (go-sessions' <c>IsNew</c>).</summary>
    /// <exception cref="InvalidOperationException">The session was started with <see cref="SessionManager.StartDeferred"/> and is not loaded (see <see cref="LoadAsync"/>).</exception>
    public bool IsNew
    {
        get
        {
            RequireLoaded(null, nameof(IsNew));
            using (Lock())
                return _state is SessionState.New or SessionState.Unsaved;
        }
    }

    /// <summary>
    /// Whether the database failed to load this request's session and the configuration fails open
    /// (<see cref="SessionDatabaseFailureMode.ContinueUnsaved"/>): the session is empty, and nothing written to it is stored.
    /// </summary>
    public bool IsUnsaved
    {
        get
        {
            RequireLoaded(null, nameof(IsUnsaved));
            using (Lock())
                return _state == SessionState.Unsaved;
        }
    }

    /// <summary>Whether <c>Destroy</c> ended this session in this request.</summary>
    public bool IsDestroyed
    {
        get
        {
            using (Lock())
                return _state == SessionState.Destroyed;
        }
    }

    /// <summary>The absolute deadline, or <see langword="null"/> when the session has none (it still ends after the idle timeout).</summary>
    public DateTimeOffset? ExpiresAt
    {
        get
        {
            RequireLoaded(null, nameof(ExpiresAt));
            using (Lock())
                return _record.AbsoluteDeadline;
        }
    }

    /// <summary>The number of values (flashes not included).</summary>
    public int Count
    {
        get
        {
            RequireLoaded(null, nameof(Count));
            using (Lock())
                return _record.Count;
        }
    }

    /// <summary>
    /// Whether this request knows the stored session: <see langword="false"/> only for a session started with
    /// <see cref="SessionManager.StartDeferred"/> from a cookie and not loaded (<see cref="LoadAsync"/>). A commit that finds
    /// the cookie's session gone stores the writes as a new session, which is then loaded.
    /// </summary>
    public bool IsLoaded
    {
        get
        {
            using (Lock())
                return _state != SessionState.Deferred;
        }
    }

    internal ICookieCarrier Carrier { get; }

    internal SessionRecord Record => _record;

    internal ISessionDatabase Database => _database;

    /// <summary>Whether the session exists, or will once this request commits.</summary>
    internal bool Exists => _state is SessionState.Created or SessionState.Loaded;

    /// <summary>Whether the session was issued in this request and the database has not stored it yet.</summary>
    internal bool IsPendingCreate => _changes?.IsNew == true;

    /// <summary>
    /// Locks the record this session works on (shared with other requests on the memory database). The record can be
    /// swapped by RenewId or Destroy, so the lock is re-taken until it holds the current one. Leaving the outermost lock
    /// raises a pending Created event, so handlers never run under the lock.
    /// </summary>
    private RecordLock Lock()
    {
        while (true)
        {
            var record = Volatile.Read(ref _record);
            Monitor.Enter(record);
            if (ReferenceEquals(record, _record))
                return new RecordLock(this, record);
            Monitor.Exit(record);
        }
    }

    private readonly ref struct RecordLock(Session session, SessionRecord record)
    {
        public void Dispose()
        {
            Monitor.Exit(record);
            if (session._createdPending && !Monitor.IsEntered(record))
                session.RaiseCreated();
        }
    }

    private void RaiseCreated()
    {
        string? id;
        using (Lock())
        {
            if (!_createdPending)
                return;
            _createdPending = false;
            id = _id;
        }
        _manager.Raise(SessionEventReason.Created, id);
    }

    // ----- commit -------------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes this request's changes to the database in one call and, for a session this request created, then writes its
    /// cookie. The host adapter calls it before the response starts; on HttpListener call it yourself before writing the
    /// body (or through <c>sessions.CommitAsync(context)</c>). Nothing is written when nothing changed. With the memory
    /// database changes are already live and this returns at once.
    /// </summary>
    /// <exception cref="SessionDatabaseException">The database failed; the changes were not acknowledged and stay pending.</exception>
    /// <exception cref="SessionEndedException">Another request destroyed or renewed the session meanwhile; the changes were not stored.</exception>
    /// <exception cref="InvalidOperationException">The response has already started, so the commit could no longer precede it; nothing was written.</exception>
    /// <remarks>The returned <see cref="ValueTask"/> may come from a pool: await it once, as any <see cref="ValueTask"/>.</remarks>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))] // no state machine allocated per commit that waits on its database
#endif
    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (!_strategy.TracksChanges)
            return;
        if (Volatile.Read(ref _moreCandidates) is not null && Volatile.Read(ref _changes) is not null)
            await LoadAsync(cancellationToken).ConfigureAwait(false); // several cookie values: the load picks the live one
        SessionChanges? changes;
        string id;
        bool unloaded;
        using (Lock())
        {
            changes = _changes;
            if (changes is null || _state is SessionState.New or SessionState.Destroyed)
                return;
            if (Carrier.HasStarted)
                throw ResponseStarted("committed");
            if (changes.IsNew)
            {
                // A session's lifetime starts when it is stored, so its cookie's Max-Age is the configured lifetime.
                var (absolute, idle) = _manager.NewDeadlines();
                _record.AbsoluteDeadline = absolute;
                _record.IdleDeadline = idle;
                changes.MoveAbsoluteDeadline(absolute);
                changes.MoveIdleDeadline(idle);
            }
            unloaded = _state == SessionState.Deferred;
            if (unloaded)
                PrepareUnloadedCommit(changes);
            _changes = null;
            id = _id!;
        }
        bool stored;
        var telemetry = _manager.Telemetry;
        var observed = telemetry.ObservesCommits;
        try
        {
            stored = await (observed
                ? telemetry.CommitAsync(_database, id, _record, changes, cancellationToken)
                : _database.CommitAsync(id, _record, changes, cancellationToken)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (!observed)
                telemetry.CommitFailed(_database, id, e);
            using (Lock())
                _changes ??= changes; // not acknowledged: keep it for a retry
            throw;
        }
        if (!changes.IsNew)
        {
            if (!stored && unloaded)
            {
                await CreateInsteadAsync(changes, cancellationToken).ConfigureAwait(false);
                return;
            }
            if (!stored)
                throw _manager.Telemetry.Ended(id);
            await _manager.EnforceUserLimitAsync(_database, id, changes, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (!stored)
            throw new InvalidOperationException("The new session was not stored: its ID is already in use (check SessionConfig.SessionIdGenerator), or it was destroyed while this request retried its creation.");
        await _manager.IssueCookieAsync(this, id, cancellationToken).ConfigureAwait(false);
        _manager.Raise(SessionEventReason.Created, id);
        await _manager.EnforceUserLimitAsync(_database, id, changes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Commits (see <see cref="CommitAsync"/>).</summary>
    public ValueTask DisposeAsync() => CommitAsync();

    // ----- manager hooks ------------------------------------------------------------------------------------------

    /// <summary>Records an idle-deadline refresh, once it has moved by at least the strategy's granularity.</summary>
    internal void Touch(DateTimeOffset idleDeadline)
    {
        if (!_strategy.TracksChanges)
        {
            _record.IdleDeadline = idleDeadline; // a shared record's deadline is one atomic field: no lock, no change set
            return;
        }
        using (Lock())
        {
            if (idleDeadline - _record.IdleDeadline < _strategy.RefreshGranularity(_manager.Config.IdleTimeout))
                return;
            _record.IdleDeadline = idleDeadline;
            Changes().MoveIdleDeadline(idleDeadline);
        }
    }

    /// <summary>Sets the deadlines the database now holds for this session (after <c>UpdateExpiration</c>).</summary>
    internal void SetDeadlines(DateTimeOffset? absolute, DateTimeOffset idle)
    {
        using (Lock())
        {
            _record.AbsoluteDeadline = absolute;
            _record.IdleDeadline = idle;
        }
    }

    internal void MarkDestroyed()
    {
        using (Lock())
        {
            _state = SessionState.Destroyed;
            _changes = null;
            _consumed = null;
            _record = new SessionRecord(null, default); // reads see an empty session
        }
    }

    /// <summary>The session now lives under <paramref name="id"/> (and, for live records, in <paramref name="record"/>); changes not yet committed go there.</summary>
    internal void MoveTo(string id, SessionRecord? record)
    {
        using (Lock())
        {
            _id = id;
            if (record is not null)
                _record = record;
        }
    }

    // ----- internals ----------------------------------------------------------------------------------------------

    /// <summary>Every write passes here first: it refuses writes the request can no longer make, and establishes a new session.</summary>
    private void BeginWrite()
    {
        if (_state == SessionState.Destroyed)
            throw new InvalidOperationException("The session was destroyed in this request; it cannot be written. Start a new one with SessionConfig.AllowReclaim, or in the next request.");
        if (_record.IsEnded)
            throw _manager.Telemetry.Ended(_id);
        if (Carrier.HasStarted)
            throw ResponseStarted("written");
        if (_state == SessionState.Unsaved)
            return; // fail open: the write lives in this request only
        var changes = _strategy.TracksChanges ? Changes() : null;
        if (_state != SessionState.New)
            return;
        _id ??= _manager.NewId();
        _strategy.Establish(_manager, Carrier, _id, _record, changes); // throws, leaving the state unchanged, when the database refuses
        _state = SessionState.Created;
        if (!_strategy.TracksChanges)
            _createdPending = true; // raised when the outermost lock is left
    }

    private static InvalidOperationException ResponseStarted(string what) =>
        new($"The session cannot be {what}: the response has already started. Write to the session, and commit it, before writing the response body.");

    private SessionChanges Changes() => _changes ??= new SessionChanges { MaxPayloadBytes = _manager.Config.MaxPayloadBytes, MaxKeys = _manager.Config.MaxKeys, SerializerOptions = _manager.Config.SerializerOptions };

    private void ValidateKey(string key)
    {
        if (key is null)
            throw new ArgumentNullException(nameof(key));
        if (key.Length == 0 || key.Length > _manager.Config.MaxKeyLength)
            throw new ArgumentException($"A session key must be 1 to {_manager.Config.MaxKeyLength} characters long (SessionConfig.MaxKeyLength); this one has {key.Length}.", nameof(key));
        foreach (var c in key)
        {
            if (char.IsControl(c))
                throw new ArgumentException($"The session key '{key.Replace("\0", "\\0")}' contains a control character.", nameof(key));
        }
    }
}
