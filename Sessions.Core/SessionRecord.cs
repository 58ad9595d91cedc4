namespace Sessions;

/// <summary>
/// A session as a database holds it: values in insertion order, flashes, deadlines and a version.
/// The memory database hands the same record to every request of a session (values stay live objects);
/// serialising databases build a private record per load. Not thread-safe: <see cref="Session"/> locks it.
/// </summary>
public sealed class SessionRecord
{
    private KeyValuePair<string, SessionValue>[] _values = [];
    private int _valueCount;
    private KeyValuePair<string, object?>[] _flashes = [];
    private int _flashCount;
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
    public int Count => _valueCount;

    /// <summary>The number of flashes.</summary>
    public int FlashCount => _flashCount;

    /// <summary>The values in insertion order.</summary>
    public ReadOnlySpan<KeyValuePair<string, SessionValue>> Values => _values.AsSpan(0, _valueCount);

    /// <summary>The flashes in insertion order.</summary>
    public ReadOnlySpan<KeyValuePair<string, object?>> Flashes => _flashes.AsSpan(0, _flashCount);

    /// <summary>Reads a value.</summary>
    public bool TryGetValue(string key, out SessionValue value)
    {
        var index = IndexOf(_values, _valueCount, key);
        value = index < 0 ? default : _values[index].Value;
        return index >= 0;
    }

    /// <summary>Adds or replaces a value; a new key goes last, a replaced one keeps its place.</summary>
    public void SetValue(string key, SessionValue value) => Put(ref _values, ref _valueCount, key, value);

    /// <summary>Removes a value; <see langword="true"/> when it existed.</summary>
    public bool RemoveValue(string key) => Remove(_values, ref _valueCount, key);

    /// <summary>Removes every value; flashes stay.</summary>
    public void ClearValues()
    {
        Array.Clear(_values, 0, _valueCount);
        _valueCount = 0;
    }

    /// <summary>Reads a flash.</summary>
    public bool TryGetFlash(string key, out object? value)
    {
        var index = IndexOf(_flashes, _flashCount, key);
        value = index < 0 ? null : _flashes[index].Value;
        return index >= 0;
    }

    /// <summary>Adds or replaces a flash.</summary>
    public void SetFlash(string key, object? value) => Put(ref _flashes, ref _flashCount, key, value);

    /// <summary>Removes a flash; <see langword="true"/> when it existed.</summary>
    public bool RemoveFlash(string key) => Remove(_flashes, ref _flashCount, key);

    /// <summary>Removes every flash.</summary>
    public void ClearFlashes()
    {
        Array.Clear(_flashes, 0, _flashCount);
        _flashCount = 0;
    }

    /// <summary>A new record with the same values, flashes and deadlines (used to move a session to a new ID).</summary>
    public SessionRecord Copy()
    {
        var copy = new SessionRecord(AbsoluteDeadline, IdleDeadline)
        {
            _values = Values.ToArray(),
            _valueCount = _valueCount,
            _flashes = Flashes.ToArray(),
            _flashCount = _flashCount,
        };
        return copy;
    }

    /// <summary>Marks the record ended and drops its contents, so requests still holding it see an empty session.</summary>
    internal void End()
    {
        IsEnded = true;
        ClearValues();
        ClearFlashes();
    }

    private static int IndexOf<T>(KeyValuePair<string, T>[] items, int count, string key)
    {
        for (var i = 0; i < count; i++)
        {
            if (string.Equals(items[i].Key, key, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    private static void Put<T>(ref KeyValuePair<string, T>[] items, ref int count, string key, T value)
    {
        var index = IndexOf(items, count, key);
        if (index >= 0)
        {
            items[index] = new KeyValuePair<string, T>(key, value);
            return;
        }
        if (count == items.Length)
            Array.Resize(ref items, Math.Max(4, count * 2));
        items[count++] = new KeyValuePair<string, T>(key, value);
    }

    private static bool Remove<T>(KeyValuePair<string, T>[] items, ref int count, string key)
    {
        var index = IndexOf(items, count, key);
        if (index < 0)
            return false;
        Array.Copy(items, index + 1, items, index, count - index - 1);
        items[--count] = default;
        return true;
    }
}
