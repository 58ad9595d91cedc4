namespace Sessions;

/// <content>Values: typed getters, Set, immutable values, Delete, Clear, counters, and the checks each write passes.</content>
public sealed partial class Session
{
    /// <summary>The value stored under <paramref name="key"/>, or <see langword="null"/>. An immutable value comes back as a new deep copy.</summary>
    public object? Get(string key)
    {
        RequireLoadedFor(key);
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
        return ValueConverter.TryConvert(Copy<T>(value), out T result, _manager.Config.SerializerOptions) ? result : throw SessionValueConversionException.For(key, value, typeof(T));
    }

    /// <summary>The value under <paramref name="key"/> as <typeparamref name="T"/>, or <paramref name="defaultValue"/> when missing or not convertible.</summary>
    public T Get<T>(string key, T defaultValue) => TryGet(key, out T value) ? value : defaultValue;

    /// <summary>Reads the value under <paramref name="key"/> as <typeparamref name="T"/>; <see langword="false"/> when missing or not convertible.</summary>
    public bool TryGet<T>(string key, out T value)
    {
        var raw = Raw(key, out var found);
        if (found && ValueConverter.TryConvert(Copy<T>(raw), out value, _manager.Config.SerializerOptions))
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
    /// <exception cref="SessionValueConversionException">The value is not such a number; for an integer outside the range of <see cref="int"/> (a counter grown past it), the message says to read it with <see cref="GetInt64(string)"/>.</exception>
    public int GetInt32(string key) => Typed<int>(key, ValueConverter.TryToInt32);

    /// <summary>
    /// The value as an <see cref="int"/>, or <paramref name="defaultValue"/> when missing or not a number. An integer
    /// outside the range of <see cref="int"/> throws rather than silently read as the default: read it with <see cref="GetInt64(string, long)"/>.
    /// </summary>
    /// <exception cref="SessionValueConversionException">The value is an integer outside the range of <see cref="int"/>.</exception>
    public int GetInt32(string key, int defaultValue)
    {
        var raw = Raw(key, out var found);
        if (!found)
            return defaultValue;
        if (ValueConverter.TryToInt32(raw, out var result))
            return result;
        return ValueConverter.TryToInt64(raw, out _) ? throw SessionValueConversionException.For(key, raw, typeof(int)) : defaultValue;
    }

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
        RequireLoaded(null, nameof(GetAll));
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
        RequireLoaded(null, nameof(VisitAll));
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
    /// <exception cref="SessionImmutableValueException">The key holds an immutable value (on a session started with <see cref="SessionManager.StartDeferred"/> and not loaded, the commit or the load finds it).</exception>
    /// <exception cref="InvalidOperationException">The session was destroyed in this request, or the response has started.</exception>
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
        Store(key, new SessionValue(ImmutableValue.Snapshot(key, value, _manager.Config.SerializerOptions), true), replaceImmutable: true);
    }

    /// <summary>Removes the value under <paramref name="key"/>; <see langword="true"/> when it existed.</summary>
    public bool Delete(string key)
    {
        RequireLoadedFor(key);
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

    /// <summary>
    /// Adds <paramref name="n"/> to the integer under <paramref name="key"/> (0 when missing or not an integer), stores it as
    /// a <see cref="long"/> and returns it. Atomic among the requests of one session on the memory database; on a database
    /// that stores copies, concurrent requests each commit their own result and the last commit wins. Read the counter
    /// with <see cref="GetInt64(string)"/> (<see cref="GetInt32(string)"/> throws once it has grown past <see cref="int"/>).
    /// </summary>
    /// <exception cref="OverflowException">The result would pass the range of <see cref="long"/>; nothing is stored (a counter never wraps).</exception>
    public long Increment(string key, long n = 1) => Add(key, n, negate: false);

    /// <summary>Subtracts <paramref name="n"/> (see <see cref="Increment"/>).</summary>
    /// <exception cref="OverflowException">The result would pass the range of <see cref="long"/>; nothing is stored.</exception>
    public long Decrement(string key, long n = 1) => Add(key, n, negate: true);

    private long Add(string key, long n, bool negate)
    {
        ValidateKey(key);
        RequireLoadedFor(key);
        using (Lock())
        {
            var current = _record.TryGetValue(key, out var value) && ValueConverter.TryToInt64(Read(value), out var number) ? number : 0;
            long next;
            try
            {
                next = checked(negate ? current - n : current + n);
            }
            catch (OverflowException)
            {
                throw new OverflowException($"The session counter '{key}' would pass the range of a 64-bit integer ({current} {(negate ? "-" : "+")} {n}); it was not changed.");
            }
            Store(key, new SessionValue(next, false));
            return next;
        }
    }

    private void Store(string key, SessionValue value, bool replaceImmutable = false)
    {
        ValidateKey(key);
        using (Lock())
        {
            var exists = _record.TryGetValue(key, out var current);
            if (exists && current.IsImmutable && !replaceImmutable)
                throw new SessionImmutableValueException(key);
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
        var size = LivePayload.Measure(key, value, _manager.Config.SerializerOptions);
        var total = _record.PayloadBytes - replacedSize + size;
        if (size > replacedSize && total > _manager.Config.MaxPayloadBytes)
            throw new SessionLimitExceededException($"The session would hold {total} bytes of keys, values and flashes, more than SessionConfig.MaxPayloadBytes ({_manager.Config.MaxPayloadBytes}); '{key}' was not stored.");
        return size;
    }

    private object? Raw(string key, out bool found)
    {
        RequireLoadedFor(key);
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
        return convert(raw, out var result) ? result : throw SessionValueConversionException.For(key, raw, typeof(T));
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
}
