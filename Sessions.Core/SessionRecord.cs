namespace Sessions;

/// <summary>
/// A session as a database holds it: values in insertion order, flashes, deadlines and a version.
/// The memory database hands the same record to every request of a session (values stay live objects);
/// serialising databases build a private record per load. Not thread-safe: <see cref="Session"/> locks it.
/// </summary>
public sealed partial class SessionRecord
{
    private OrderedEntries<SessionValue> _values;
    private OrderedEntries<object?> _flashes;
    private long _payloadBytes;
    // Deadlines as UTC ticks so the memory sweeper reads them without tearing; 0 means "none".
    private long _absoluteTicks;
    private long _idleTicks;

    /// <summary>Creates a record.</summary>
    /// <param name="absoluteDeadline">When the session ends regardless of activity, or <see langword="null"/> for no absolute deadline.</param>
    /// <param name="idleDeadline">When the session ends unless it is used again.</param>
    /// <param name="version">The version the database last committed (0 for a new record).</param>
    public SessionRecord(DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, long version = 0)
    {
        AbsoluteDeadline = absoluteDeadline;
        IdleDeadline = idleDeadline;
        Version = version;
    }

    /// <summary>When the session ends regardless of activity, or <see langword="null"/> for none.</summary>
    public DateTimeOffset? AbsoluteDeadline
    {
        get
        {
            var ticks = Volatile.Read(ref _absoluteTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
        set => Volatile.Write(ref _absoluteTicks, value?.UtcTicks ?? 0);
    }

    /// <summary>When the session ends unless it is used again.</summary>
    public DateTimeOffset IdleDeadline
    {
        get => new(Volatile.Read(ref _idleTicks), TimeSpan.Zero);
        set => Volatile.Write(ref _idleTicks, value.UtcTicks);
    }

    /// <summary>When the session ends: the earlier of the two deadlines.</summary>
    public DateTimeOffset EndsAt
    {
        get
        {
            var idle = Volatile.Read(ref _idleTicks);
            var absolute = Volatile.Read(ref _absoluteTicks);
            return new DateTimeOffset(absolute != 0 && absolute < idle ? absolute : idle, TimeSpan.Zero);
        }
    }

    /// <summary>Whether the session has ended at <paramref name="now"/>.</summary>
    public bool IsExpired(DateTimeOffset now) => now >= EndsAt;

    /// <summary>The version the database last committed; databases may use it for their own bookkeeping.</summary>
    public long Version { get; set; }

    /// <summary>Whether the memory database has destroyed or renamed this record; it is then empty and unreachable.</summary>
    public bool IsEnded { get; private set; }

    /// <summary>The number of values.</summary>
    public int Count => _values.Count;

    /// <summary>The number of flashes.</summary>
    public int FlashCount => _flashes.Count;

    /// <summary>The values in insertion order.</summary>
    public ReadOnlySpan<KeyValuePair<string, SessionValue>> Values => _values.AsSpan();

    /// <summary>The flashes in insertion order.</summary>
    public ReadOnlySpan<KeyValuePair<string, object?>> Flashes => _flashes.AsSpan();

    /// <summary>
    /// The payload bytes counted for the values and flashes a session of live records wrote (see
    /// <see cref="SessionConfig.MaxPayloadBytes"/>); items set directly on the record count 0.
    /// </summary>
    internal long PayloadBytes => _payloadBytes;

    /// <summary>Reads a value.</summary>
    public bool TryGetValue(string key, out SessionValue value) => _values.TryGet(key, out value);

    /// <summary>Adds or replaces a value; a new key goes last, a replaced one keeps its place.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public void SetValue(string key, SessionValue value) => SetValue(key, value, 0);

    /// <summary>Adds or replaces a value that counts <paramref name="size"/> payload bytes.</summary>
    internal void SetValue(string key, SessionValue value, int size) =>
        _payloadBytes += _values.Put(key ?? throw new ArgumentNullException(nameof(key)), value, size);

    /// <summary>The payload bytes the value under <paramref name="key"/> counts.</summary>
    internal int ValueSize(string key) => _values.SizeOf(key);

    /// <summary>Removes a value; <see langword="true"/> when it existed.</summary>
    public bool RemoveValue(string key)
    {
        var removed = _values.Remove(key, out var delta);
        _payloadBytes += delta;
        return removed;
    }

    /// <summary>Removes every value; flashes stay.</summary>
    public void ClearValues()
    {
        _payloadBytes -= _values.Clear();
    }

    /// <summary>Reads a flash.</summary>
    public bool TryGetFlash(string key, out object? value) => _flashes.TryGet(key, out value);

    /// <summary>Adds or replaces a flash.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    public void SetFlash(string key, object? value) => SetFlash(key, value, 0);

    /// <summary>Adds or replaces a flash that counts <paramref name="size"/> payload bytes.</summary>
    internal void SetFlash(string key, object? value, int size) =>
        _payloadBytes += _flashes.Put(key ?? throw new ArgumentNullException(nameof(key)), value, size);

    /// <summary>The payload bytes the flash under <paramref name="key"/> counts.</summary>
    internal int FlashSize(string key) => _flashes.SizeOf(key);

    /// <summary>Removes a flash; <see langword="true"/> when it existed.</summary>
    public bool RemoveFlash(string key)
    {
        var removed = _flashes.Remove(key, out var delta);
        _payloadBytes += delta;
        return removed;
    }

    /// <summary>Removes every flash.</summary>
    public void ClearFlashes()
    {
        _payloadBytes -= _flashes.Clear();
    }

    /// <summary>A new record with the same values, flashes and deadlines (used to move a session to a new ID).</summary>
    public SessionRecord Copy() => new(AbsoluteDeadline, IdleDeadline)
    {
        _values = _values.Copy(),
        _flashes = _flashes.Copy(),
        _payloadBytes = _payloadBytes,
        User = User,
        SignedInAt = SignedInAt,
    };

    /// <summary>Marks the record ended and drops its contents, so requests still holding it see an empty session.</summary>
    internal void End()
    {
        IsEnded = true;
        ClearValues();
        ClearFlashes();
    }
}
