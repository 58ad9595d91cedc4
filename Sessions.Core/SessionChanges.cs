namespace Sessions;

/// <summary>
/// What one request changed in a session, for databases that store a private copy per request: only these are written,
/// key by key, so two requests that change different keys of one session both survive.
/// </summary>
/// <remarks>
/// Apply in this order: <see cref="Cleared"/> (drop every value), <see cref="DeletedKeys"/>, <see cref="SetValues"/>,
/// then <see cref="FlashesCleared"/>, <see cref="DeletedFlashes"/>, <see cref="SetFlashes"/>, then the deadlines.
/// A key deleted and then set again in one request is in both lists: deleted first, it goes last in insertion order, as it
/// does in the request's own record; likewise for flashes.
/// </remarks>
public sealed class SessionChanges
{
    private readonly List<KeyValuePair<string, SessionValue>> _setValues = [];
    private readonly List<string> _deletedKeys = [];
    private readonly List<KeyValuePair<string, object?>> _setFlashes = [];
    private readonly List<string> _deletedFlashes = [];

    /// <summary>Creates an empty change set.</summary>
    public SessionChanges(DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline)
    {
        AbsoluteDeadline = absoluteDeadline;
        IdleDeadline = idleDeadline;
    }

    /// <summary>The session does not exist in the database yet: create it (and fail if the ID is taken).</summary>
    public bool IsNew { get; internal set; }

    /// <summary>Every value was removed before <see cref="SetValues"/> were applied.</summary>
    public bool Cleared { get; private set; }

    /// <summary>The final value of each key set in this request, in the order the keys were first set.</summary>
    public IReadOnlyList<KeyValuePair<string, SessionValue>> SetValues => _setValues;

    /// <summary>The keys deleted in this request.</summary>
    public IReadOnlyList<string> DeletedKeys => _deletedKeys;

    /// <summary>Every flash was removed before <see cref="SetFlashes"/> were applied.</summary>
    public bool FlashesCleared { get; private set; }

    /// <summary>The flashes set in this request.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> SetFlashes => _setFlashes;

    /// <summary>The flashes consumed or deleted in this request.</summary>
    public IReadOnlyList<string> DeletedFlashes => _deletedFlashes;

    /// <summary>The absolute deadline to store (<see langword="null"/>: none).</summary>
    public DateTimeOffset? AbsoluteDeadline { get; internal set; }

    /// <summary>The idle deadline to store.</summary>
    public DateTimeOffset IdleDeadline { get; internal set; }

    /// <summary>Whether anything but the deadlines changed.</summary>
    public bool HasDataChanges => Cleared || FlashesCleared || _setValues.Count + _deletedKeys.Count + _setFlashes.Count + _deletedFlashes.Count > 0;

    /// <summary>Applies these changes to <paramref name="record"/> in the documented order (for databases that keep records in memory).</summary>
    public void ApplyTo(SessionRecord record)
    {
        if (record is null)
            throw new ArgumentNullException(nameof(record));
        if (Cleared)
            record.ClearValues();
        foreach (var key in _deletedKeys)
            record.RemoveValue(key);
        foreach (var value in _setValues)
            record.SetValue(value.Key, value.Value);
        if (FlashesCleared)
            record.ClearFlashes();
        foreach (var key in _deletedFlashes)
            record.RemoveFlash(key);
        foreach (var flash in _setFlashes)
            record.SetFlash(flash.Key, flash.Value);
        record.AbsoluteDeadline = AbsoluteDeadline;
        record.IdleDeadline = IdleDeadline;
        record.Version++;
    }

    internal void SetValue(string key, SessionValue value) => Put(_setValues, key, value);

    internal void DeleteValue(string key)
    {
        RemoveKey(_setValues, key);
        if (!_deletedKeys.Contains(key))
            _deletedKeys.Add(key);
    }

    internal void ClearValues()
    {
        Cleared = true;
        _setValues.Clear();
        _deletedKeys.Clear();
    }

    internal void SetFlash(string key, object? value) => Put(_setFlashes, key, value);

    internal void DeleteFlash(string key)
    {
        RemoveKey(_setFlashes, key);
        if (!_deletedFlashes.Contains(key))
            _deletedFlashes.Add(key);
    }

    internal void ClearFlashes()
    {
        FlashesCleared = true;
        _setFlashes.Clear();
        _deletedFlashes.Clear();
    }

    /// <summary>A change set that creates <paramref name="record"/> whole under a new ID (the core uses it for <c>RenewId</c>; tools use it to import sessions).</summary>
    public static SessionChanges CreateFrom(SessionRecord record)
    {
        var changes = new SessionChanges(record.AbsoluteDeadline, record.IdleDeadline) { IsNew = true };
        foreach (var value in record.Values)
            changes._setValues.Add(value);
        foreach (var flash in record.Flashes)
            changes._setFlashes.Add(flash);
        return changes;
    }

    private static void Put<T>(List<KeyValuePair<string, T>> items, string key, T value)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Key == key)
            {
                items[i] = new KeyValuePair<string, T>(key, value);
                return;
            }
        }
        items.Add(new KeyValuePair<string, T>(key, value));
    }

    private static void RemoveKey<T>(List<KeyValuePair<string, T>> items, string key)
    {
        var index = items.FindIndex(item => item.Key == key);
        if (index >= 0)
            items.RemoveAt(index);
    }
}
