namespace Sessions;

/// <summary>
/// The session manager (go-sessions' <c>Sessions</c>): starts the request's session from its cookie, moves deadlines,
/// renews IDs and destroys sessions. Build one per application from a <see cref="SessionConfig"/>; it is thread-safe.
/// </summary>
/// <remarks>
/// Every operation has an asynchronous form. The synchronous forms are for databases that complete synchronously
/// (<see cref="ISessionDatabase.CompletesSynchronously"/>: the memory database); with any other every synchronous call
/// throws at once, on the first request, before anything is read or written, rather than block a thread on I/O.
/// </remarks>
public sealed partial class SessionManager : IDisposable
{
    /// <summary>
    /// The most database lookups the session cookie (or header, <see cref="SessionTransport.Header"/>) of one request can
    /// cause. The well-formed, distinct values of the cookie are tried in header order, at most this many; malformed values (and repeats) are skipped without a lookup.
    /// A browser sends one value, or a few when cookies of the same name were set on different paths or domains; a header
    /// stuffed with well-formed decoys (cookie bombing) cannot make the database do more than this per request. The whole
    /// header is read, so padding or malformed decoys cannot hide the real cookie. On a database that implements
    /// <see cref="ISessionBatchLoader"/>, two or more candidates are loaded in one call (one round trip on Redis).
    /// </summary>
    public const int MaxCookieLookups = 8;

    private readonly TimeProvider _time;
    private readonly MemorySessionDatabase? _ownDatabase;
    private ISessionDatabase _database = null!;
    private ISessionLookup? _lookup; // the database's allocation-free lookup, when it has one and no encoder is in the way

    /// <summary>Builds a manager; the configuration is validated and copied.</summary>
    /// <exception cref="ArgumentException">A configuration field is invalid; the message names it.</exception>
    public SessionManager(SessionConfig? config = null)
    {
        Config = (config ?? new SessionConfig()).Validated();
        _time = Config.TimeProvider;
        Telemetry = new SessionTelemetry(Config.LoggerFactory, Config.MeterFactory);
        Counters = new SessionCounters(Telemetry);
        if (Config.Database is null)
            _ownDatabase = new MemorySessionDatabase(_time, Config.MemoryMaxSessions);
        UseDatabase(Config.Database ?? _ownDatabase!);
    }

    /// <summary>
    /// Raised when a new session is first stored. With a database that reports events (<see cref="ISessionEventSource"/>)
    /// these events also carry what other processes sharing it caused (<see cref="SessionEventArgs.IsRemote"/>).
    /// </summary>
    public event EventHandler<SessionEventArgs>? Created;

    /// <summary>Raised when a session ends: destroyed, destroyed by ID, all destroyed, or expired. Handlers run outside locks.</summary>
    public event EventHandler<SessionEventArgs>? Destroyed;

    /// <summary>Raised when <see cref="RenewIdAsync"/> moved a session to a new ID.</summary>
    public event EventHandler<SessionEventArgs>? Renewed;

    /// <summary>The database in use.</summary>
    public ISessionDatabase Database => Volatile.Read(ref _database);

    internal SessionConfig Config { get; }

    /// <summary>The cookie values this manager rejected, by outcome (malformed, undecodable, unknown, expired): an abuse signal to publish as metrics.</summary>
    public SessionCounters Counters { get; }

    /// <summary>Metrics, traces, log events and fingerprints (docs/observability.md); every database call goes through it.</summary>
    internal SessionTelemetry Telemetry { get; }

    /// <summary>
    /// A short name for the session <paramref name="id"/> to put in logs and events instead of the ID: 11 base64url
    /// characters of a keyed hash (HMAC-SHA256 under a random key of this manager), the same for the same ID as long as
    /// this manager lives, and useless for finding or forging the session. Sessions' own log events name sessions so.
    /// </summary>
    public string Fingerprint(string id) => Telemetry.Fingerprint(id);

    /// <summary>Swaps the database. Call it before serving traffic: sessions stored in the previous database are not moved.</summary>
    public void UseDatabase(ISessionDatabase database)
    {
        if (database is null)
            throw new ArgumentNullException(nameof(database));
        if (database.SharesRecords && !database.CompletesSynchronously)
            throw new ArgumentException($"The session database {database.GetType().Name} shares live records but does not complete synchronously: a database of live records stores a new session on its first (synchronous) write, so it must.", nameof(database));
        Volatile.Write(ref _lookup, Config.Encoder is null ? database as ISessionLookup : null);
        var previous = Interlocked.Exchange(ref _database, database);
        if (previous is ISessionExpirationSource oldSource)
            oldSource.SessionExpired -= OnExpired;
        if (database is ISessionExpirationSource source)
            source.SessionExpired += OnExpired;
        if (previous is ISessionEventSource oldEvents)
            oldEvents.SessionEvent -= OnDatabaseEvent;
        if (database is ISessionEventSource events)
            events.SessionEvent += OnDatabaseEvent;
    }

    // ----- Start --------------------------------------------------------------------------------------------------

    /// <summary>Returns the request's session (see <see cref="StartAsync"/>); for databases that complete synchronously.</summary>
    /// <exception cref="InvalidOperationException">The database is asynchronous: use <see cref="StartAsync"/>.</exception>
    public Session Start(ICookieCarrier carrier) => RunSync(Synchronous(nameof(StartAsync)).StartAsync(carrier, CancellationToken.None));

    /// <summary>
    /// Returns the request's session. A cookie is adopted only when it names a live session of this database; an unknown,
    /// expired, destroyed, malformed or undecodable value gives a new session, which exists only once written.
    /// A second call in the same request returns the same object.
    /// </summary>
    /// <remarks>The returned <see cref="ValueTask{TResult}"/> may come from a pool: await it once, as any <see cref="ValueTask{TResult}"/>.</remarks>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))] // no state machine allocated per load that waits on its database
#endif
    public async ValueTask<Session> StartAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default)
    {
        if (carrier is null)
            throw new ArgumentNullException(nameof(carrier));
        var current = carrier.Session;
        if (current is not null && !(current.IsDestroyed && Config.AllowReclaim))
        {
            await current.LoadAsync(RequestToken(carrier, cancellationToken)).ConfigureAwait(false); // started deferred: load it now
            return current;
        }
        // After Destroy with AllowReclaim the request's old cookie is ignored: the new session replaces it.
        var database = Database;
        Session? session = null;
        var unsaved = false;
        if (current is null && (Volatile.Read(ref _lookup) is not { } lookup || !TryStartFromLookup(carrier, database, lookup, out session)))
        {
            (var live, unsaved) = await LoadOrFailOpenAsync(ReadCandidateIds(carrier), database, RequestToken(carrier, cancellationToken)).ConfigureAwait(false);
            if (live is { } found)
            {
                session = new Session(this, database, carrier, found.Record, found.Id, Session.SessionState.Loaded);
                session.Touch(_time.GetUtcNow() + Config.IdleTimeout);
            }
        }
        return Attach(carrier, current, session ?? NewSession(carrier, database, unsaved ? Session.SessionState.Unsaved : Session.SessionState.New));
    }

    /// <summary>
    /// Returns the request's session without loading it: on a database that stores copies (Redis, SQLite), a cookie naming
    /// a session costs nothing until the request reads what it did not write itself. Writes are collected as usual and
    /// reading back a key the request wrote is answered from its own changes; the commit then applies the changes in one
    /// database call, only if the cookie's session is still live, and otherwise stores them as a new session with its own
    /// cookie (an unknown, expired or destroyed session is never adopted or brought back). A request that only writes
    /// therefore costs one round trip instead of two. Anything else (another key, <see cref="Session.Id"/>,
    /// <see cref="Session.IsNew"/>, flashes, counters) needs <c>await session.LoadAsync()</c> first, and throws
    /// <see cref="InvalidOperationException"/> without it rather than block on the database. On the memory database this is
    /// <see cref="Start(ICookieCarrier)"/>. A second call in the same request returns the same object; a later
    /// <see cref="StartAsync"/> loads it.
    /// </summary>
    public Session StartDeferred(ICookieCarrier carrier)
    {
        if (carrier is null)
            throw new ArgumentNullException(nameof(carrier));
        var current = carrier.Session;
        if (current is not null && !(current.IsDestroyed && Config.AllowReclaim))
            return current;
        var database = Database;
        if (!RecordStrategy.For(database).TracksChanges)
            return RunSync(StartAsync(carrier, CancellationToken.None)); // live records complete synchronously (UseDatabase checks)
        Session? session = null;
        if (current is null)
        {
            var candidates = ReadCandidateIds(carrier);
            if (candidates.Count > 0)
                session = new Session(this, database, carrier, NewRecord(), candidates[0], Session.SessionState.Deferred, candidates.More);
        }
        return Attach(carrier, current, session ?? NewSession(carrier, database, Session.SessionState.New));
    }

    private Session NewSession(ICookieCarrier carrier, ISessionDatabase database, Session.SessionState state) =>
        new(this, database, carrier, NewRecord(), null, state);

    private SessionRecord NewRecord()
    {
        var (absolute, idle) = NewDeadlines();
        return new SessionRecord(absolute, idle);
    }

    /// <summary>Makes <paramref name="session"/> the request's session (<paramref name="current"/>: the one it replaces, if any).</summary>
    private Session Attach(ICookieCarrier carrier, Session? current, Session session)
    {
        carrier.Session = session;
        if (current is null)
            carrier.MarkPrivate(Config.Transport.VaryOn(Config)); // the response now depends on the cookie (even its absence): no shared cache may keep it
        RecordStrategy.For(session.Database).Started(session, carrier);
        return session;
    }

    /// <summary>The caller's token, or the request's own when the caller passed none: a client that goes away cancels the database work.</summary>
    internal static CancellationToken RequestToken(ICookieCarrier carrier, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? cancellationToken : (carrier ?? throw new ArgumentNullException(nameof(carrier))).RequestAborted;

    /// <summary>The manager's clock.</summary>
    internal TimeProvider Time => _time;

    /// <summary>The deadlines of a session that starts now.</summary>
    internal (DateTimeOffset? Absolute, DateTimeOffset Idle) NewDeadlines()
    {
        var now = _time.GetUtcNow();
        return (Config.Expires > TimeSpan.Zero ? now + Config.Expires : null, now + Config.IdleTimeout);
    }

    /// <summary>
    /// The allocation-free path for in-process databases: finds the cookie's session by its text. Returns
    /// <see langword="true"/> when it settled the outcome (<paramref name="session"/> is the live session, or
    /// <see langword="null"/> when none of the cookie's values names one); <see langword="false"/> defers to
    /// <see cref="LoadOrFailOpenAsync"/>, for a found session that has expired and must be destroyed.
    /// </summary>
    private bool TryStartFromLookup(ICookieCarrier carrier, ISessionDatabase database, ISessionLookup lookup, out Session? session)
    {
        session = null;
        var transport = Config.Transport;
        var name = transport.Name(Config);
        var text = (transport.Read(carrier, Config) ?? string.Empty).AsSpan();
        Span<int> tried = stackalloc int[2 * MaxCookieLookups]; // (offset, length) in the header of each value looked up
        var lookups = 0;
        // Rejections are counted once the outcome is settled here: deferring, StartAsync reads every value again.
        int malformed = 0, unknown = 0;
        var position = 0;
        while (transport.TryNext(text, name, ref position, out var value))
        {
            if (!SessionIds.IsWellFormed(value))
            {
                malformed += value.Length == 0 ? 0 : 1;
                continue;
            }
            if (AlreadyTried(text, tried, lookups, value))
                continue;
            text.Overlaps(value, out var offset);
            tried[2 * lookups] = offset;
            tried[(2 * lookups) + 1] = value.Length;
            lookups++;
            if (!lookup.TryFind(value, out var id, out var record))
            {
                unknown++;
                if (lookups == MaxCookieLookups)
                    break;
                continue;
            }
            var now = _time.GetUtcNow();
            if (record.IsExpired(now))
                return false;
            session = new Session(this, database, carrier, record, id, Session.SessionState.Loaded);
            session.Touch(now + Config.IdleTimeout);
            CountRejected(malformed, unknown);
            return true;
        }
        CountRejected(malformed, unknown);
        return true;
    }

    /// <summary>Whether <paramref name="value"/> equals one of the first <paramref name="count"/> values recorded in <paramref name="tried"/>.</summary>
    private static bool AlreadyTried(ReadOnlySpan<char> header, ReadOnlySpan<int> tried, int count, ReadOnlySpan<char> value)
    {
        for (var i = 0; i < count; i++)
        {
            if (header.Slice(tried[2 * i], tried[(2 * i) + 1]).SequenceEqual(value))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The first of <paramref name="candidates"/> that names a live session, with its record; none when none does. Unknown
    /// and expired IDs are counted, and an expired session found is destroyed (raising <see cref="Destroyed"/> as expired).
    /// A database failure fails open as configured: with <see cref="SessionDatabaseFailureMode.ContinueUnsaved"/> it gives
    /// no session and <c>Unsaved</c>, an empty session that is never stored. One method, not two, because every layer of
    /// async costs each load that waits on its database.
    /// </summary>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))] // no state machine allocated per load that waits on its database
#endif
    internal async ValueTask<((string Id, SessionRecord Record)? Live, bool Unsaved)> LoadOrFailOpenAsync(CandidateIds candidates, ISessionDatabase database, CancellationToken cancellationToken)
    {
        try
        {
            // Two or more candidates (decoys before the real cookie, say) cost one round trip when the database can batch;
            // a single one keeps the plain load.
            SessionRecord?[]? loaded = null;
            if (candidates.Count > 1 && database is ISessionBatchLoader batchLoader)
            {
                var ids = new string[candidates.Count];
                for (var i = 0; i < ids.Length; i++)
                    ids[i] = candidates[i];
                loaded = await Telemetry.LoadManyAsync(database, batchLoader, ids, cancellationToken).ConfigureAwait(false);
                if (loaded.Length != ids.Length)
                    throw new InvalidOperationException($"{database.GetType().Name}.LoadManyAsync returned {loaded.Length} records for {ids.Length} IDs.");
            }
            for (var i = 0; i < candidates.Count; i++)
            {
                var id = candidates[i];
                SessionRecord? record;
                if (loaded is not null)
                {
                    record = loaded[i];
                }
                else if (Telemetry.ObservesLoads)
                {
                    record = await Telemetry.LoadAsync(database, id, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    try
                    {
                        record = await database.LoadAsync(id, cancellationToken).ConfigureAwait(false); // one async layer less when nothing measures loads
                    }
                    catch (Exception e)
                    {
                        Telemetry.LoadFailed(database, id, e);
                        throw;
                    }
                }
                if (record is null)
                {
                    Counters.AddUnknown();
                    continue;
                }
                var now = _time.GetUtcNow();
                if (record.IsExpired(now))
                {
                    Counters.AddExpired();
                    // A database shared across processes tells the others it expired, not that it was destroyed.
                    var destroyed = database is ISessionExpiredDestroyer expiry
                        ? Telemetry.DestroyExpiredAsync(database, expiry, id, cancellationToken)
                        : Telemetry.DestroyAsync(database, id, cancellationToken);
                    if (await destroyed.ConfigureAwait(false))
                        Raise(SessionEventReason.Expired, id);
                    continue;
                }
                return ((id, record), false);
            }
            return (null, false);
        }
        catch (SessionDatabaseException) when (Config.DatabaseFailureMode == SessionDatabaseFailureMode.ContinueUnsaved)
        {
            return (null, true);
        }
    }

    /// <summary>
    /// The well-formed, distinct IDs the request's cookies (or session header) carry for our name, decoded, in header
    /// order; at most <see cref="MaxCookieLookups"/>, each to be looked up once. Rejected values are counted by outcome.
    /// </summary>
    private CandidateIds ReadCandidateIds(ICookieCarrier carrier)
    {
        var ids = new CandidateIds();
        var transport = Config.Transport;
        var name = transport.Name(Config);
        var source = (transport.Read(carrier, Config) ?? string.Empty).AsSpan();
        var position = 0;
        while (transport.TryNext(source, name, ref position, out var value))
        {
            if (value.Length == 0 || value.Length > Config.MaxCookieBytes)
            {
                Counters.AddMalformed(value.Length == 0 ? 0 : 1);
                continue;
            }
            if (Config.Encoder is { } encoder)
            {
                // Only values made as EncodedValue makes them are decoded: other text is skipped without the encoder's work.
                if (!IsUnreserved(value) || !encoder.TryDecode(name, value.ToString(), out var decoded) || decoded is null)
                    Counters.AddUndecodable();
                else if (!SessionIds.IsWellFormed(decoded.AsSpan()))
                    Counters.AddMalformed();
                else if (!ids.Contains(decoded.AsSpan()))
                    ids.Add(decoded);
            }
            else if (!SessionIds.IsWellFormed(value))
            {
                Counters.AddMalformed();
            }
            else if (!ids.Contains(value))
            {
                ids.Add(value.ToString());
            }
            if (ids.Count == MaxCookieLookups)
                break;
        }
        return ids;
    }

    /// <summary>Whether <paramref name="value"/> holds only the characters an encoded cookie value may hold (A-Z a-z 0-9 - _ . ~).</summary>
    private static bool IsUnreserved(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c is '-' or '_' or '.' or '~'))
                return false;
        }
        return true;
    }

    private void CountRejected(int malformed, int unknown)
    {
        if (malformed > 0)
            Counters.AddMalformed(malformed);
        if (unknown > 0)
            Counters.AddUnknown(unknown);
    }

    /// <summary>The distinct, well-formed IDs a request's cookies carry, in header order: no allocation beyond the first.</summary>
    internal struct CandidateIds
    {
        private string? _first;
        private List<string>? _more;

        public CandidateIds(string first, List<string>? more)
        {
            _first = first;
            _more = more;
            Count = 1 + (more?.Count ?? 0);
        }

        /// <summary>Every ID after the first, or <see langword="null"/>.</summary>
        public readonly List<string>? More => _more;

        public int Count { get; private set; }

        public readonly string this[int index] => index == 0 ? _first! : _more![index - 1];

        public readonly bool Contains(ReadOnlySpan<char> id)
        {
            for (var i = 0; i < Count; i++)
            {
                if (this[i].AsSpan().SequenceEqual(id))
                    return true;
            }
            return false;
        }

        public void Add(string id)
        {
            if (Count == 0)
                _first = id;
            else
                (_more ??= []).Add(id);
            Count++;
        }
    }

    // ----- expiration ---------------------------------------------------------------------------------------------

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/> (see <see cref="UpdateExpirationAsync"/>).</summary>
    public bool ShiftExpiration(ICookieCarrier carrier) => RunSync(Synchronous(nameof(ShiftExpirationAsync)).ShiftExpirationAsync(carrier, CancellationToken.None));

    /// <summary>Moves the request's session deadline to now + <see cref="SessionConfig.Expires"/> (see <see cref="UpdateExpirationAsync"/>).</summary>
    public ValueTask<bool> ShiftExpirationAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default) =>
        UpdateExpirationAsync(carrier, Config.Expires, cancellationToken);

    /// <summary>Sets the request's session deadline (see <see cref="UpdateExpirationAsync"/>).</summary>
    public bool UpdateExpiration(ICookieCarrier carrier, TimeSpan expires) =>
        RunSync(Synchronous(nameof(UpdateExpirationAsync)).UpdateExpirationAsync(carrier, expires, CancellationToken.None));

    /// <summary>
    /// Sets the request's session absolute deadline to now + <paramref name="expires"/> in memory, database and cookie
    /// together, and restarts its idle window. Zero: no absolute deadline and a persistent cookie; negative: no absolute
    /// deadline and a browser-session cookie. Returns <see langword="false"/>, writing no cookie, when the request has no stored session.
    /// </summary>
    public async ValueTask<bool> UpdateExpirationAsync(ICookieCarrier carrier, TimeSpan expires, CancellationToken cancellationToken = default)
    {
        cancellationToken = RequestToken(carrier, cancellationToken);
        var session = await StartAsync(carrier, cancellationToken).ConfigureAwait(false);
        if (!session.Exists)
            return false;
        if (session.IsPendingCreate)
            await session.CommitAsync(cancellationToken).ConfigureAwait(false); // the deadlines move on a stored session
        var now = _time.GetUtcNow();
        DateTimeOffset? absolute = expires > TimeSpan.Zero ? now + expires : null;
        var idle = now + Config.IdleTimeout;
        if (!await Telemetry.UpdateExpirationAsync(session.Database, session.Id, absolute, idle, cancellationToken).ConfigureAwait(false))
        {
            session.MarkDestroyed();
            return false;
        }
        session.SetDeadlines(absolute, idle);
        WriteId(carrier, session.Id, absolute, persistent: expires == TimeSpan.Zero);
        return true;
    }

    // ----- destroy ------------------------------------------------------------------------------------------------

    /// <summary>Destroys the request's session (see <see cref="DestroyAsync"/>).</summary>
    public bool Destroy(ICookieCarrier carrier) => RunSync(Synchronous(nameof(DestroyAsync)).DestroyAsync(carrier, CancellationToken.None));

    /// <summary>
    /// Destroys the request's session for good: deletes it from the database, expires the cookie (same name, path, domain
    /// and attributes, <c>Max-Age=0</c>; with <see cref="SessionTransport.Header"/>, answers an empty header) and raises <see cref="Destroyed"/>. Returns whether a stored session was destroyed.
    /// </summary>
    public ValueTask<bool> DestroyAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default) =>
        EndAsync(carrier, SessionEventReason.Destroyed, cancellationToken);

    /// <summary>Ends the request's session as <see cref="DestroyAsync"/> does, raising <see cref="Destroyed"/> with <paramref name="reason"/>.</summary>
    internal async ValueTask<bool> EndAsync(ICookieCarrier carrier, SessionEventReason reason, CancellationToken cancellationToken)
    {
        if (carrier.Session is { IsDestroyed: true })
            return false;
        cancellationToken = RequestToken(carrier, cancellationToken);
        var session = await StartAsync(carrier, cancellationToken).ConfigureAwait(false);
        var hadCookie = HasCookie(carrier);
        var established = session.Exists;
        var pending = session.IsPendingCreate;
        var id = established ? session.Id : null;
        session.MarkDestroyed();
        var existed = id is not null && !pending && await Telemetry.DestroyAsync(session.Database, id, cancellationToken).ConfigureAwait(false);
        if (hadCookie || (established && !pending)) // a session still pending creation never sent its cookie
            Config.Transport.Clear(this, carrier);
        if (existed)
            Raise(reason, id);
        return existed;
    }

    /// <summary>Destroys a session by ID (see <see cref="DestroyByIdAsync"/>).</summary>
    public bool DestroyById(string id) => RunSync(Synchronous(nameof(DestroyByIdAsync)).DestroyByIdAsync(id, CancellationToken.None));

    /// <summary>
    /// Destroys a session by its ID in the database, so it works across processes sharing it; no cookie is touched
    /// (the client's next request gets a new session). Returns whether it existed.
    /// </summary>
    public async ValueTask<bool> DestroyByIdAsync(string id, CancellationToken cancellationToken = default)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        if (!SessionIds.IsWellFormed(id.AsSpan()) || !await Telemetry.DestroyAsync(Database, id, cancellationToken).ConfigureAwait(false))
            return false;
        Raise(SessionEventReason.Destroyed, id);
        return true;
    }

    /// <summary>Destroys every session in the database (see <see cref="DestroyAllAsync"/>).</summary>
    public void DestroyAll() => RunSync(Synchronous(nameof(DestroyAllAsync)).DestroyAllAsync(CancellationToken.None));

    /// <summary>
    /// Destroys every session in the database, including those other processes created, then raises <see cref="Destroyed"/>
    /// with <see cref="SessionEventReason.DestroyedAll"/>: once per session when the database can name them
    /// (<see cref="ISessionDestroyAllListing"/>: the memory database), else once with no ID (a database that stores only
    /// hashes of the IDs, Redis or SQLite, cannot name them).
    /// </summary>
    public async ValueTask DestroyAllAsync(CancellationToken cancellationToken = default)
    {
        if (Database is ISessionDestroyAllListing listing)
        {
            foreach (var id in await Telemetry.DestroyAllListedAsync(Database, listing, cancellationToken).ConfigureAwait(false))
                Raise(SessionEventReason.DestroyedAll, id);
            return;
        }
        await Telemetry.DestroyAllAsync(Database, cancellationToken).ConfigureAwait(false);
        Raise(SessionEventReason.DestroyedAll, null);
    }

    // ----- renew --------------------------------------------------------------------------------------------------

    /// <summary>Moves the request's session to a new ID (see <see cref="RenewIdAsync"/>).</summary>
    public bool RenewId(ICookieCarrier carrier) => RunSync(Synchronous(nameof(RenewIdAsync)).RenewIdAsync(carrier, CancellationToken.None));

    /// <summary>
    /// Moves the request's session to a new ID with the same data, deletes the old ID and writes the new cookie: the
    /// defence against session fixation, to call at login and logout (OWASP Session Management Cheat Sheet, "Renew the
    /// Session ID After Any Privilege Level Change"). A request still holding the old ID afterwards sees no session.
    /// Returns <see langword="false"/> when the session was destroyed meanwhile; nothing is renewed then.
    /// </summary>
    public async ValueTask<bool> RenewIdAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default)
    {
        cancellationToken = RequestToken(carrier, cancellationToken);
        var session = await StartAsync(carrier, cancellationToken).ConfigureAwait(false);
        if (session.IsDestroyed)
            return false;
        var newId = NewId();
        if (!session.Exists || session.IsPendingCreate)
        {
            session.MoveTo(newId, null); // nothing stored and no cookie yet: a fresh ID is all it takes (the commit sends the cookie)
            return true;
        }
        var oldId = session.Id;
        var database = session.Database;
        // The database moves the session as it holds it now: a key another request deleted meanwhile stays deleted.
        switch (await Telemetry.RenewAsync(database, oldId, newId, cancellationToken).ConfigureAwait(false))
        {
            case SessionRenewResult.IdInUse:
                throw new InvalidOperationException("The session ID generator returned an ID that is already in use.");
            case SessionRenewResult.NotFound:
                session.MarkDestroyed(); // destroyed meanwhile (another request logged out): nothing to renew
                Config.Transport.Clear(this, carrier);
                return false;
        }
        // Live records: the database renewed into a new record, which the request goes on with. Copies: uncommitted changes follow the new ID.
        session.MoveTo(newId, database.SharesRecords ? await database.LoadAsync(newId, cancellationToken).ConfigureAwait(false) : null);
        WriteId(carrier, newId, session.Record.AbsoluteDeadline, persistent: Config.Expires == TimeSpan.Zero);
        Raise(SessionEventReason.Renewed, newId, oldId);
        return true;
    }

    // ----- cookies ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Commits the request's session, if one was started, before the response starts (see <see cref="Session.CommitAsync"/>).
    /// Host adapters call it; on a host without a pipeline (HttpListener) the application calls it before writing the body.
    /// </summary>
    public ValueTask CommitAsync(ICookieCarrier carrier, CancellationToken cancellationToken = default) =>
        (carrier ?? throw new ArgumentNullException(nameof(carrier))).Session is { } session ? session.CommitAsync(cancellationToken) : default;

    /// <summary>
    /// Stores a new session of live records on its first write, then writes its cookie. The cookie is built first (an
    /// encoder or size failure stores nothing) and written only once the record is stored: a refused session (ID in use,
    /// session bound reached) leaves no cookie naming another session or nothing. If the host refuses the cookie, the record is removed.
    /// </summary>
    internal void StoreNew(ICookieCarrier carrier, string id, SessionRecord record)
    {
        var issued = PrepareId(carrier, id, record.AbsoluteDeadline, persistent: Config.Expires == TimeSpan.Zero);
        var database = Database;
        if (!RunSync(Telemetry.CommitAsync(database, id, record, new SessionChanges { IsNew = true }, CancellationToken.None)))
            throw new InvalidOperationException("The session ID generator returned an ID that is already in use.");
        try
        {
            Config.Transport.Write(carrier, issued);
        }
        catch
        {
            RunSync(database.DestroyAsync(id, CancellationToken.None));
            throw;
        }
    }

    /// <summary>Writes the cookie of a session the commit has just created; if the host refuses it, the session is removed again.</summary>
    internal async ValueTask IssueCookieAsync(Session session, string id, CancellationToken cancellationToken)
    {
        try
        {
            WriteId(session.Carrier, id, session.Record.AbsoluteDeadline, persistent: Config.Expires == TimeSpan.Zero);
        }
        catch
        {
            await session.Database.DestroyAsync(id, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Writes <paramref name="id"/> to the response the way the transport carries it.</summary>
    private void WriteId(ICookieCarrier carrier, string id, DateTimeOffset? absoluteDeadline, bool persistent) =>
        Config.Transport.Write(carrier, PrepareId(carrier, id, absoluteDeadline, persistent));

    /// <summary>Encodes <paramref name="id"/> (when an encoder is configured) and builds what carries it, checked to fit.</summary>
    private IssuedId PrepareId(ICookieCarrier carrier, string id, DateTimeOffset? absoluteDeadline, bool persistent) =>
        Config.Transport.Prepare(this, carrier, Config.Encoder is { } encoder ? EncodedValue(encoder, id) : id, absoluteDeadline, persistent);

    /// <summary>The encoder's value, checked to be unreserved URL characters so every host writes it verbatim (ASP.NET Core escapes others).</summary>
    private string EncodedValue(ISessionIdEncoder encoder, string id)
    {
        var value = encoder.Encode(Config.Transport.Name(Config), id);
        foreach (var c in value ?? string.Empty)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c is '-' or '_' or '.' or '~'))
                throw new InvalidOperationException($"SessionConfig.Encoder ({encoder.GetType().Name}) returned a cookie value with the character '{c}': values must use only A-Z a-z 0-9 - _ . ~ (for example base64url).");
        }
        if (string.IsNullOrEmpty(value))
            throw new InvalidOperationException($"SessionConfig.Encoder ({encoder.GetType().Name}) returned an empty cookie value.");
        return value!;
    }

    /// <summary>Whether the request presented a session value at all (even one naming no session), which a Destroy then clears.</summary>
    private bool HasCookie(ICookieCarrier carrier)
    {
        var transport = Config.Transport;
        var name = transport.Name(Config);
        var source = (transport.Read(carrier, Config) ?? string.Empty).AsSpan();
        var position = 0;
        while (transport.TryNext(source, name, ref position, out var value))
        {
            if (value.Length > 0)
                return true;
        }
        return false;
    }

    /// <summary>The cookie's Domain for a request host: none unless subdomain persistence is on; then the explicit domain, or the registrable domain.</summary>
    internal string? ResolveDomain(string? host)
    {
        if (Config.DisableSubdomainPersistence)
            return null;
        if (Config.CookieDomain is not null)
            return Config.CookieDomain;
        var name = HostName(host);
        return name is null ? null : Config.PublicSuffixes!.GetRegistrableDomain(name);
    }

    /// <summary>The host without port; <see langword="null"/> for IPv6 literals and anything that is not a plain DNS name.</summary>
    private static string? HostName(string? host)
    {
        if (string.IsNullOrEmpty(host) || host![0] == '[')
            return null;
        var colon = host.IndexOf(':');
        var name = colon < 0 ? host : host.Substring(0, colon);
        return name.Length > 0 && name.Length <= 253 && CookieText.IsDomain(name.TrimEnd('.')) ? name : null;
    }

    // ----- plumbing -----------------------------------------------------------------------------------------------

    internal string NewId()
    {
        if (Config.SessionIdGenerator is not { } generator)
            return SessionIds.NewId();
        var id = generator();
        if (id is null || !SessionIds.IsWellFormed(id.AsSpan()))
            throw new InvalidOperationException($"SessionConfig.SessionIdGenerator returned an ID that is not {SessionIds.MinLength} to {SessionIds.MaxLength} base64url characters.");
        return id;
    }

    internal void Raise(SessionEventReason reason, string? id, string? previousId = null) => Raise(new SessionEventArgs(id, reason, previousId));

    private void Raise(SessionEventArgs e)
    {
        if (!e.IsRemote)
            Telemetry.Raised(e.Reason, Database); // another instance's events are its own to count
        var handler = e.Reason switch
        {
            SessionEventReason.Created => Created,
            SessionEventReason.Renewed => Renewed,
            _ => Destroyed,
        };
        handler?.Invoke(this, e);
    }

    private void OnExpired(string id) => Raise(SessionEventReason.Expired, id);

    /// <summary>An event the database reports (a purge, another process): raised like this manager's own.</summary>
    private void OnDatabaseEvent(SessionEventArgs e) => Raise(e);

    /// <summary>This manager, when its database completes synchronously; otherwise throws before anything is read or written.</summary>
    private SessionManager Synchronous(string asyncName) =>
        Database.CompletesSynchronously ? this : throw new InvalidOperationException(
            $"The session database ({Database.GetType().Name}) completes asynchronously: call {asyncName} instead of blocking a thread on its I/O.");

    /// <summary>The result of an operation on a database that completes synchronously (it has completed: this never blocks).</summary>
    internal static T RunSync<T>(ValueTask<T> operation) => operation.IsCompleted ? operation.GetAwaiter().GetResult() : operation.AsTask().GetAwaiter().GetResult();

    internal static void RunSync(ValueTask operation)
    {
        if (operation.IsCompleted)
            operation.GetAwaiter().GetResult();
        else
            operation.AsTask().GetAwaiter().GetResult(); // a database that broke its promise: wait rather than abandon the operation
    }

    /// <summary>Stops the memory database's sweeper when the manager created that database itself, and disposes its meter.</summary>
    public void Dispose()
    {
        _ownDatabase?.Dispose();
        Telemetry.Dispose();
    }
}
