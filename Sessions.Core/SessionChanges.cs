namespace Sessions;

/// <summary>
/// What one request changed in a session, for databases that store a private copy per request: only these are written,
/// key by key, so two requests that change different keys of one session both survive.
/// </summary>
/// <remarks>
/// Apply in this order: <see cref="Cleared"/> (drop every value), <see cref="DeletedKeys"/>, <see cref="SetValues"/>,
/// then <see cref="FlashesCleared"/>, <see cref="DeletedFlashes"/>, <see cref="SetFlashes"/>, then the deadlines this
/// request moved (a new session moves both).
/// A key deleted and then set again in one request is in both lists: deleted first, it goes last in insertion order, as it
/// does in the request's own record; likewise for flashes.
/// </remarks>
public sealed partial class SessionChanges
{
    // Keyed lookups are indexed past a few items (see OrderedEntries), so a request that writes or consumes N keys is O(N).
    private OrderedEntries<SessionValue> _setValues;
    private List<string>? _deletedKeys; // made on the first delete: most requests delete nothing
    private HashSet<string>? _deletedKeyIndex;
    private OrderedEntries<object?> _setFlashes;
    private List<string>? _deletedFlashes;
    private HashSet<string>? _deletedFlashIndex;

    private Guid _token;

    /// <summary>Creates an empty change set: no value, flash or deadline changed.</summary>
    public SessionChanges()
    {
    }

    /// <summary>
    /// The most payload the session may hold once these changes are applied, counted with
    /// <see cref="SessionValueCodec.PayloadSize"/> over every value and flash (the core sets it from
    /// <see cref="SessionConfig.MaxPayloadBytes"/>). A database that would exceed it writes nothing and throws
    /// <see cref="SessionLimitExceededException"/>.
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The options a database that serialises passes to <see cref="SessionValueCodec.Encode(string, SessionValue, System.Text.Json.JsonSerializerOptions?)"/>
    /// (the core sets them from <see cref="SessionConfig.SerializerOptions"/>; <see langword="null"/> for System.Text.Json's defaults).
    /// </summary>
    public System.Text.Json.JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>The session does not exist in the database yet: create it (and fail if the ID is taken).</summary>
    public bool IsNew { get; internal set; }

    /// <summary>
    /// A random token that names this change set. A database may store it with a session it creates, so that a create
    /// retried after a time-out (the first attempt may have been applied) is recognised as its own and not as an ID in use.
    /// </summary>
    public Guid Token => _token == Guid.Empty ? _token = Guid.NewGuid() : _token;

    /// <summary>Every value was removed before <see cref="SetValues"/> were applied.</summary>
    public bool Cleared { get; private set; }

    /// <summary>The final value of each key set in this request, in the order the keys were first set.</summary>
    public IReadOnlyList<KeyValuePair<string, SessionValue>> SetValues => _setValues.AsSegment();

    /// <summary><see cref="SetValues"/> as a span: read without boxing a segment and its enumerator per commit.</summary>
    internal ReadOnlySpan<KeyValuePair<string, SessionValue>> SetValueSpan => _setValues.AsSpan();

    /// <summary><see cref="SetFlashes"/> as a span.</summary>
    internal ReadOnlySpan<KeyValuePair<string, object?>> SetFlashSpan => _setFlashes.AsSpan();

    /// <summary>The keys deleted in this request.</summary>
    public IReadOnlyList<string> DeletedKeys => (IReadOnlyList<string>?)_deletedKeys ?? [];

    /// <summary>Every flash was removed before <see cref="SetFlashes"/> were applied.</summary>
    public bool FlashesCleared { get; private set; }

    /// <summary>The flashes set in this request.</summary>
    public IReadOnlyList<KeyValuePair<string, object?>> SetFlashes => _setFlashes.AsSegment();

    /// <summary>The flashes consumed or deleted in this request.</summary>
    public IReadOnlyList<string> DeletedFlashes => (IReadOnlyList<string>?)_deletedFlashes ?? [];

    /// <summary>
    /// Whether this request moved the absolute deadline (to <see cref="AbsoluteDeadline"/>). When it did not, the stored
    /// deadline stays as it is: a request never writes back a deadline it merely loaded.
    /// </summary>
    public bool MovesAbsoluteDeadline { get; private set; }

    /// <summary>The absolute deadline to store when <see cref="MovesAbsoluteDeadline"/> (<see langword="null"/>: none).</summary>
    public DateTimeOffset? AbsoluteDeadline { get; private set; }

    /// <summary>The idle deadline to store, or <see langword="null"/> when this request did not move it.</summary>
    public DateTimeOffset? IdleDeadline { get; private set; }

    /// <summary>
    /// Set when the request did not load the session (<see cref="SessionManager.StartDeferred"/>), so the database checks
    /// what a load would have: the changes apply only if the stored session is live at this instant (both deadlines after
    /// it), else nothing is written and the commit returns <see langword="false"/>, as for a session that is gone; a plain
    /// value set over a stored immutable one is refused (<see cref="SessionImmutableValueException"/>), and so is a commit
    /// that would leave the session holding more than <see cref="MaxKeys"/> values and flashes while adding keys
    /// (<see cref="SessionLimitExceededException"/>); and <see cref="IdleDeadline"/> is stored only when it moves the stored
    /// one forward by at least a tenth of the idle timeout (<see cref="IdleDeadline"/> minus this instant), as the core
    /// does for a session it loaded. <see langword="null"/> for a session the request loaded or creates.
    /// </summary>
    public DateTimeOffset? RequiresLiveAt { get; internal set; }

    /// <summary>The most values and flashes the session may hold, checked by the database when <see cref="RequiresLiveAt"/> is set (the core sets it from <see cref="SessionConfig.MaxKeys"/>).</summary>
    public int MaxKeys { get; set; } = 256;

    /// <summary>
    /// Whether these changes may apply to <paramref name="stored"/>, the session as the database holds it: always, unless
    /// <see cref="RequiresLiveAt"/> is set and the stored session has ended by then.
    /// </summary>
    public bool CanApplyTo(SessionRecord stored) =>
        RequiresLiveAt is not { } at || !(stored ?? throw new ArgumentNullException(nameof(stored))).IsExpired(at);

    /// <summary>Whether <see cref="IdleDeadline"/> is to be stored over <paramref name="stored"/> (see <see cref="RequiresLiveAt"/>).</summary>
    internal bool StoresIdleOver(DateTimeOffset stored) =>
        IdleDeadline is { } idle && (RequiresLiveAt is not { } at || idle - stored >= TimeSpan.FromTicks((idle - at).Ticks / 10));

    /// <summary>Whether anything but the deadlines changed.</summary>
    public bool HasDataChanges => Cleared || FlashesCleared || _setValues.Count + (_deletedKeys?.Count ?? 0) + _setFlashes.Count + (_deletedFlashes?.Count ?? 0) > 0;

    /// <summary>
    /// Applies these changes to <paramref name="record"/> in the documented order (for databases that keep records in
    /// memory). With <see cref="RequiresLiveAt"/> set it first checks what a load would have (call <see cref="CanApplyTo"/> before).
    /// </summary>
    /// <exception cref="SessionImmutableValueException">With <see cref="RequiresLiveAt"/>: a plain value would replace an immutable one; nothing was applied.</exception>
    /// <exception cref="SessionLimitExceededException">With <see cref="RequiresLiveAt"/>: the session would hold more than <see cref="MaxKeys"/> values and flashes; nothing was applied.</exception>
    public void ApplyTo(SessionRecord record)
    {
        if (record is null)
            throw new ArgumentNullException(nameof(record));
        if (RequiresLiveAt is not null)
            CheckUnloaded(record);
        if (Cleared)
            record.ClearValues();
        if (_deletedKeys is not null)
        {
            foreach (var key in _deletedKeys)
                record.RemoveValue(key);
        }
        foreach (var value in _setValues.AsSpan())
            record.SetValue(value.Key, value.Value);
        if (FlashesCleared)
            record.ClearFlashes();
        if (_deletedFlashes is not null)
        {
            foreach (var key in _deletedFlashes)
                record.RemoveFlash(key);
        }
        foreach (var flash in _setFlashes.AsSpan())
            record.SetFlash(flash.Key, flash.Value);
        if (MovesAbsoluteDeadline)
            record.AbsoluteDeadline = AbsoluteDeadline;
        if (StoresIdleOver(record.IdleDeadline))
            record.IdleDeadline = IdleDeadline!.Value;
        ApplyUserTo(record);
        record.Version++;
    }

    /// <summary>The checks a load would have made on writes the request made without loading <paramref name="stored"/>.</summary>
    internal void CheckUnloaded(SessionRecord stored)
    {
        var added = 0;
        foreach (var value in _setValues.AsSpan())
        {
            if (Cleared || !stored.TryGetValue(value.Key, out var current))
                added++;
            else if (current.IsImmutable && !value.Value.IsImmutable)
                throw new SessionImmutableValueException(value.Key);
        }
        foreach (var flash in _setFlashes.AsSpan())
        {
            if (FlashesCleared || !stored.TryGetFlash(flash.Key, out _))
                added++;
        }
        var held = (Cleared ? 0 : stored.Count) + (FlashesCleared ? 0 : stored.FlashCount);
        if (added > 0 && held + added > MaxKeys)
            throw new SessionLimitExceededException($"The session would hold {held + added} keys (values and flashes), more than SessionConfig.MaxKeys ({MaxKeys}); nothing was written.");
    }

    internal void MoveAbsoluteDeadline(DateTimeOffset? deadline)
    {
        MovesAbsoluteDeadline = true;
        AbsoluteDeadline = deadline;
    }

    internal void MoveIdleDeadline(DateTimeOffset deadline) => IdleDeadline = deadline;

    internal void SetValue(string key, SessionValue value) => _setValues.Put(key, value, 0);

    internal void DeleteValue(string key)
    {
        _setValues.Remove(key, out _);
        AddOnce(_deletedKeys ??= [], ref _deletedKeyIndex, key);
    }

    internal void ClearValues()
    {
        Cleared = true;
        _setValues.Clear();
        _deletedKeys = null;
        _deletedKeyIndex = null;
    }

    internal void SetFlash(string key, object? value) => _setFlashes.Put(key, value, 0);

    internal void DeleteFlash(string key)
    {
        _setFlashes.Remove(key, out _);
        AddOnce(_deletedFlashes ??= [], ref _deletedFlashIndex, key);
    }

    internal void ClearFlashes()
    {
        FlashesCleared = true;
        _setFlashes.Clear();
        _deletedFlashes = null;
        _deletedFlashIndex = null;
    }

    /// <summary>A change set that creates <paramref name="record"/> whole under a new ID (the core uses it for <c>RenewId</c>; tools use it to import sessions).</summary>
    public static SessionChanges CreateFrom(SessionRecord record)
    {
        var changes = new SessionChanges { IsNew = true };
        changes.MoveAbsoluteDeadline(record.AbsoluteDeadline);
        changes.MoveIdleDeadline(record.IdleDeadline);
        if (record.User is { } user)
            changes.BindUser(user, record.SignedInAt ?? record.IdleDeadline, null);
        foreach (var value in record.Values)
            changes._setValues.Put(value.Key, value.Value, 0);
        foreach (var flash in record.Flashes)
            changes._setFlashes.Put(flash.Key, flash.Value, 0);
        return changes;
    }

    /// <summary>Adds <paramref name="key"/> to <paramref name="keys"/> unless it is there; a set answers "is it there" once the list outgrows a scan.</summary>
    private static void AddOnce(List<string> keys, ref HashSet<string>? index, string key)
    {
        if (index is not null)
        {
            if (index.Add(key))
                keys.Add(key);
            return;
        }
        if (keys.Contains(key))
            return;
        keys.Add(key);
        if (keys.Count > OrderedEntries<string>.IndexThreshold)
            index = new HashSet<string>(keys, StringComparer.Ordinal);
    }
}
