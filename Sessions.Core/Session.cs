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
public sealed class Session : IAsyncDisposable
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

    internal Session(SessionManager manager, ISessionDatabase database, ICookieCarrier carrier, SessionRecord record, string? id, SessionState state)
    {
        _manager = manager;
        _database = database;
        _strategy = RecordStrategy.For(database);
        Carrier = carrier;
        _record = record;
        _id = id;
        _state = state;
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
    }

    /// <summary>The session ID (never the encoded cookie value). For a new session it is drawn on first use.</summary>
    public string Id
    {
        get
        {
            using (Lock())
                return _id ??= _manager.NewId();
        }
    }

    /// <summary>Whether this request issued the session and has not written to it yet (go-sessions' <c>IsNew</c>).</summary>
    public bool IsNew
    {
        get
        {
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
            using (Lock())
                return _record.AbsoluteDeadline;
        }
    }

    /// <summary>The number of values (flashes not included).</summary>
    public int Count
    {
        get
        {
            using (Lock())
                return _record.Count;
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

    // ----- values -------------------------------------------------------------------------------------------------

    /// <summary>The value stored under <paramref name="key"/>, or <see langword="null"/>. An immutable value comes back as a new deep copy.</summary>
    public object? Get(string key)
    {
        using (Lock())
            return _record.TryGetValue(key, out var value) ? Read(value) : null;
    }

    /// <summary>The value under <paramref name="key"/> as <typeparamref name="T"/>, converted tolerantly (see <see cref="GetInt32(string)"/>).</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value cannot be read as <typeparamref name="T"/>.</exception>
    public T Get<T>(string key)
    {
        var value = Raw(key, out var found);
        if (!found)
            throw new SessionKeyNotFoundException(key);
        return ValueConverter.TryConvert(Copy<T>(value), out T result) ? result : throw new SessionValueConversionException(key, value, typeof(T));
    }

    /// <summary>The value under <paramref name="key"/> as <typeparamref name="T"/>, or <paramref name="defaultValue"/> when missing or not convertible.</summary>
    public T Get<T>(string key, T defaultValue) => TryGet(key, out T value) ? value : defaultValue;

    /// <summary>Reads the value under <paramref name="key"/> as <typeparamref name="T"/>; <see langword="false"/> when missing or not convertible.</summary>
    public bool TryGet<T>(string key, out T value)
    {
        var raw = Raw(key, out var found);
        if (found && ValueConverter.TryConvert(Copy<T>(raw), out value))
            return true;
        value = default!;
        return false;
    }

    /// <summary>The value as text: strings as they are, numbers in invariant culture, booleans as <c>true</c>/<c>false</c>.</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not text, a number or a boolean.</exception>
    public string GetString(string key) => Typed<string>(key, ValueConverter.TryToString);

    /// <summary>The value as text, or <paramref name="defaultValue"/> when missing, empty or not convertible.</summary>
    public string GetString(string key, string defaultValue)
    {
        var raw = Raw(key, out var found);
        return found && ValueConverter.TryToString(raw, out var text) && text.Length > 0 ? text : defaultValue;
    }

    /// <summary>The value as an <see cref="int"/>: any integral number in range, an integral floating-point value, or decimal text such as <c>"42"</c>.</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not such a number.</exception>
    public int GetInt32(string key) => Typed<int>(key, ValueConverter.TryToInt32);

    /// <summary>The value as an <see cref="int"/>, or <paramref name="defaultValue"/>.</summary>
    public int GetInt32(string key, int defaultValue) => TypedOr(key, defaultValue, ValueConverter.TryToInt32);

    /// <summary>The value as a <see cref="long"/> (same rules as <see cref="GetInt32(string)"/>).</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not such a number.</exception>
    public long GetInt64(string key) => Typed<long>(key, ValueConverter.TryToInt64);

    /// <summary>The value as a <see cref="long"/>, or <paramref name="defaultValue"/>.</summary>
    public long GetInt64(string key, long defaultValue) => TypedOr(key, defaultValue, ValueConverter.TryToInt64);

    /// <summary>The value as a <see cref="float"/>: any number, or invariant text such as <c>"0.5"</c>.</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not a number.</exception>
    public float GetSingle(string key) => Typed<float>(key, ValueConverter.TryToSingle);

    /// <summary>The value as a <see cref="float"/>, or <paramref name="defaultValue"/>.</summary>
    public float GetSingle(string key, float defaultValue) => TypedOr(key, defaultValue, ValueConverter.TryToSingle);

    /// <summary>The value as a <see cref="double"/>: any number, or invariant text (<c>"0.1"</c> reads as exactly 0.1).</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not a number.</exception>
    public double GetDouble(string key) => Typed<double>(key, ValueConverter.TryToDouble);

    /// <summary>The value as a <see cref="double"/>, or <paramref name="defaultValue"/>.</summary>
    public double GetDouble(string key, double defaultValue) => TypedOr(key, defaultValue, ValueConverter.TryToDouble);

    /// <summary>The value as a <see cref="bool"/>: a boolean, or one of <c>1 t T TRUE true True 0 f F FALSE false False</c>.</summary>
    /// <exception cref="SessionKeyNotFoundException">No value is stored under the key.</exception>
    /// <exception cref="SessionValueConversionException">The value is not such a boolean.</exception>
    public bool GetBoolean(string key) => Typed<bool>(key, ValueConverter.TryToBoolean);

    /// <summary>The value as a <see cref="bool"/>, or <paramref name="defaultValue"/>.</summary>
    public bool GetBoolean(string key, bool defaultValue) => TypedOr(key, defaultValue, ValueConverter.TryToBoolean);

    /// <summary>An independent snapshot of every value in insertion order (flashes not included).</summary>
    public IReadOnlyDictionary<string, object?> GetAll()
    {
        using (Lock())
        {
            var all = new Dictionary<string, object?>(_record.Count, StringComparer.Ordinal);
            foreach (var entry in _record.Values)
                all.Add(entry.Key, Read(entry.Value));
            return all;
        }
    }

    /// <summary>Calls <paramref name="visitor"/> for each value in insertion order, on a snapshot taken first (the visitor may use the session).</summary>
    public void VisitAll(Action<string, object?> visitor)
    {
        if (visitor is null)
            throw new ArgumentNullException(nameof(visitor));
        KeyValuePair<string, SessionValue>[] snapshot;
        using (Lock())
            snapshot = _record.Values.ToArray();
        foreach (var entry in snapshot)
            visitor(entry.Key, Read(entry.Value));
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>; with the memory database the object itself is kept (no copy).</summary>
    /// <remarks>
    /// On the memory database the value is measured toward <see cref="SessionConfig.MaxPayloadBytes"/> here, once: a
    /// string by its UTF-8 length, a byte array by its base64 length, a number or boolean by its JSON text, any other
    /// object by serialising it once to JSON (counted, not kept; an object that cannot be serialised counts its key only).
    /// Reads measure nothing. An object changed after it was set counts as it was when set, until it is set again.
    /// Databases that store copies count the serialised payload at commit instead.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The key holds an immutable value, the session was destroyed in this request, or the response has started.</exception>
    /// <exception cref="SessionEndedException">Another request destroyed or renewed the session meanwhile.</exception>
    /// <exception cref="SessionLimitExceededException">The session already holds <see cref="SessionConfig.MaxKeys"/> keys (values and flashes), or, on the memory database, the value would take it past <see cref="SessionConfig.MaxPayloadBytes"/>.</exception>
    public void Set(string key, object? value) => Store(key, new SessionValue(value, false));

    /// <summary>
    /// Stores a deep snapshot of <paramref name="value"/> that nothing can change: not the caller's object, not any object a
    /// later <see cref="Get(string)"/> returns (each read is a new deep copy). A later <see cref="Set"/> on the key throws;
    /// <see cref="SetImmutable"/> again replaces it; <see cref="Delete"/> and <see cref="Clear"/> remove it.
    /// The value must round-trip through System.Text.Json.
    /// </summary>
    public void SetImmutable(string key, object? value)
    {
        ValidateKey(key);
        Store(key, new SessionValue(ImmutableValue.Snapshot(key, value), true), replaceImmutable: true);
    }

    /// <summary>Removes the value under <paramref name="key"/>; <see langword="true"/> when it existed.</summary>
    public bool Delete(string key)
    {
        using (Lock())
        {
            if (!_record.TryGetValue(key, out _))
                return false;
            BeginWrite();
            _record.RemoveValue(key);
            _changes?.DeleteValue(key);
            return true;
        }
    }

    /// <summary>Removes every value; the ID and the flashes stay.</summary>
    public void Clear()
    {
        using (Lock())
        {
            BeginWrite();
            _record.ClearValues();
            _changes?.ClearValues();
        }
    }

    /// <summary>Adds <paramref name="n"/> to the integer under <paramref name="key"/> (0 when missing or not an integer), stores it and returns it. Atomic among the requests of one session on the memory database; on a database that stores copies, concurrent requests each commit their own result and the last commit wins.</summary>
    public int Increment(string key, int n = 1)
    {
        ValidateKey(key);
        using (Lock())
        {
            var current = _record.TryGetValue(key, out var value) && ValueConverter.TryToInt32(Read(value), out var number) ? number : 0;
            var next = unchecked(current + n);
            Store(key, new SessionValue(next, false));
            return next;
        }
    }

    /// <summary>Subtracts <paramref name="n"/> (see <see cref="Increment"/>).</summary>
    public int Decrement(string key, int n = 1) => Increment(key, unchecked(-n));

    // ----- flashes ------------------------------------------------------------------------------------------------

    /// <summary>Sets a flash message: readable (repeatedly) by the first request that reads it, gone from the request after.</summary>
    /// <exception cref="SessionLimitExceededException">The session already holds <see cref="SessionConfig.MaxKeys"/> keys (values and flashes), or, on the memory database, the flash would take it past <see cref="SessionConfig.MaxPayloadBytes"/>.</exception>
    public void SetFlash(string key, object? value)
    {
        ValidateKey(key);
        using (Lock())
        {
            var exists = _record.TryGetFlash(key, out _);
            if (!exists)
                CheckKeyCount(key);
            var size = LiveSize(key, value, exists ? _record.FlashSize(key) : 0);
            BeginWrite();
            _record.SetFlash(key, value, size);
            _changes?.SetFlash(key, value);
            _consumed?.Remove(key);
        }
    }

    /// <summary>Reads a flash and consumes it: it stays readable for the rest of this request and is gone from the next.</summary>
    public object? GetFlash(string key)
    {
        using (Lock())
        {
            if (_record.TryGetFlash(key, out var value))
            {
                Consume(key, value);
                return value;
            }
            return _consumed is not null && _consumed.TryGet(key, out value) ? value : null;
        }
    }

    /// <summary>Reads a flash without consuming it.</summary>
    public object? PeekFlash(string key)
    {
        using (Lock())
            return _record.TryGetFlash(key, out var value) || (_consumed is not null && _consumed.TryGet(key, out value)) ? value : null;
    }

    /// <summary>Whether any flash is readable in this request.</summary>
    public bool HasFlash()
    {
        using (Lock())
            return _record.FlashCount > 0 || _consumed?.Count > 0;
    }

    /// <summary>Reads a flash as a string (consuming it even when it is not one); empty when missing or not a string.</summary>
    public string GetFlashString(string key) => GetFlashString(key, string.Empty);

    /// <summary>Reads a flash as a string (consuming it even when it is not one); <paramref name="defaultValue"/> when missing or not a string.</summary>
    public string GetFlashString(string key, string defaultValue) => GetFlash(key) is string text ? text : defaultValue;

    /// <summary>Every readable flash, all consumed.</summary>
    public IReadOnlyDictionary<string, object?> GetFlashes()
    {
        using (Lock())
        {
            foreach (var flash in _record.Flashes.ToArray())
                Consume(flash.Key, flash.Value);
            var all = new Dictionary<string, object?>(_consumed?.Count ?? 0, StringComparer.Ordinal);
            _consumed?.CopyTo(all);
            return all;
        }
    }

    /// <summary>Removes a flash at once; <see langword="true"/> when it existed.</summary>
    public bool DeleteFlash(string key)
    {
        using (Lock())
        {
            var existed = _consumed?.Remove(key) == true;
            if (_record.TryGetFlash(key, out _))
            {
                BeginWrite();
                _record.RemoveFlash(key);
                _changes?.DeleteFlash(key);
                existed = true;
            }
            return existed;
        }
    }

    /// <summary>Removes every flash at once.</summary>
    public void ClearFlashes()
    {
        using (Lock())
        {
            _consumed = null;
            if (_record.FlashCount == 0)
                return;
            BeginWrite();
            _record.ClearFlashes();
            _changes?.ClearFlashes();
        }
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
    public async ValueTask CommitAsync(CancellationToken cancellationToken = default)
    {
        if (!_strategy.TracksChanges)
            return;
        SessionChanges? changes;
        string id;
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
            _changes = null;
            id = _id!;
        }
        bool stored;
        try
        {
            stored = await _database.CommitAsync(id, _record, changes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            using (Lock())
                _changes ??= changes; // not acknowledged: keep it for a retry
            throw;
        }
        if (!changes.IsNew)
        {
            if (!stored)
                throw new SessionEndedException();
            return;
        }
        if (!stored)
            throw new InvalidOperationException("The new session was not stored: its ID is already in use (check SessionConfig.SessionIdGenerator), or it was destroyed while this request retried its creation.");
        await _manager.IssueCookieAsync(this, id, cancellationToken).ConfigureAwait(false);
        _manager.Raise(SessionEventReason.Created, id);
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

    private void Store(string key, SessionValue value, bool replaceImmutable = false)
    {
        ValidateKey(key);
        using (Lock())
        {
            var exists = _record.TryGetValue(key, out var current);
            if (exists && current.IsImmutable && !replaceImmutable)
                throw new InvalidOperationException($"The session key '{key}' holds an immutable value: Set cannot change it (use SetImmutable to replace it, or Delete it first).");
            if (!exists)
                CheckKeyCount(key);
            var size = LiveSize(key, value.Value, exists ? _record.ValueSize(key) : 0);
            BeginWrite();
            _record.SetValue(key, value, size);
            _changes?.SetValue(key, value);
        }
    }

    /// <summary>Refuses a new key once the session holds <see cref="SessionConfig.MaxKeys"/> values and flashes together.</summary>
    private void CheckKeyCount(string key)
    {
        var held = _record.Count + _record.FlashCount;
        if (held >= _manager.Config.MaxKeys)
            throw new SessionLimitExceededException($"The session already holds {held} keys (values and flashes), the most SessionConfig.MaxKeys allows; '{key}' was not stored.");
    }

    /// <summary>
    /// On live records (the memory database), what the item counts toward <see cref="SessionConfig.MaxPayloadBytes"/>
    /// (see <see cref="LivePayload"/>), refusing a write that would take the session past it; a write that does not grow
    /// the session is always allowed. Databases that store copies count the payload themselves at commit: 0 here.
    /// </summary>
    private int LiveSize(string key, object? value, int replacedSize)
    {
        if (_strategy.TracksChanges)
            return 0;
        var size = LivePayload.Measure(key, value);
        var total = _record.PayloadBytes - replacedSize + size;
        if (size > replacedSize && total > _manager.Config.MaxPayloadBytes)
            throw new SessionLimitExceededException($"The session would hold {total} bytes of keys, values and flashes, more than SessionConfig.MaxPayloadBytes ({_manager.Config.MaxPayloadBytes}); '{key}' was not stored.");
        return size;
    }

    /// <summary>Every write passes here first: it refuses writes the request can no longer make, and establishes a new session.</summary>
    private void BeginWrite()
    {
        if (_state == SessionState.Destroyed)
            throw new InvalidOperationException("The session was destroyed in this request; it cannot be written. Start a new one with SessionConfig.AllowReclaim, or in the next request.");
        if (_record.IsEnded)
            throw new SessionEndedException();
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

    private SessionChanges Changes() => _changes ??= new SessionChanges { MaxPayloadBytes = _manager.Config.MaxPayloadBytes };

    private object? Raw(string key, out bool found)
    {
        using (Lock())
        {
            found = _record.TryGetValue(key, out var value);
            return value.Value;
        }
    }

    private T Typed<T>(string key, TryConvert<T> convert)
    {
        var raw = Raw(key, out var found);
        if (!found)
            throw new SessionKeyNotFoundException(key);
        return convert(raw, out var result) ? result : throw new SessionValueConversionException(key, raw, typeof(T));
    }

    private T TypedOr<T>(string key, T defaultValue, TryConvert<T> convert)
    {
        var raw = Raw(key, out var found);
        return found && convert(raw, out var result) ? result : defaultValue;
    }

    private delegate bool TryConvert<T>(object? value, out T result);

    private static object? Read(SessionValue value) => value.Value is ImmutableValue immutable ? immutable.Materialize() : value.Value;

    /// <summary>
    /// The value to convert for <c>Get&lt;T&gt;</c>: a <typeparamref name="T"/> that can hold the stored snapshot itself
    /// (<see cref="object"/>) gets a new materialised copy instead, so the snapshot's bytes never leave the session.
    /// Other targets convert from the snapshot, which deserialises a new copy.
    /// </summary>
    private static object? Copy<T>(object? raw) =>
        raw is ImmutableValue immutable && typeof(T).IsAssignableFrom(typeof(ImmutableValue)) ? immutable.Materialize() : raw;

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

    /// <summary>Reading a flash consumes it: gone from the record (and, for copies, deleted at commit), kept readable in this request.</summary>
    private void Consume(string key, object? value)
    {
        _record.RemoveFlash(key);
        if (_strategy.TracksChanges && Exists)
            Changes().DeleteFlash(key);
        (_consumed ??= new ConsumedFlashes()).Add(key, value);
    }
}
