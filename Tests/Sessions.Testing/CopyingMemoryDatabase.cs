namespace Sessions.Testing;

/// <summary>
/// An in-process database that behaves like a remote one (<see cref="ISessionDatabase.SharesRecords"/> is
/// <see langword="false"/>): every value is kept as JSON bytes, every load builds a private <see cref="SessionRecord"/>,
/// and a commit applies <see cref="SessionChanges"/> key by key under one lock. It exercises the core's copy-and-commit
/// path before Redis or the embedded store exist, and is the model those databases follow.
/// </summary>
/// <remarks>
/// Values and flashes are stored with <see cref="SessionValueCodec"/>, as the serialising databases store them: read back
/// through <see cref="JsonValues"/> (no type names from stored data), an immutable object as an <see cref="ImmutableValue"/>.
/// A destroyed ID is remembered, so a late commit, even one that claims to create the session, never brings it back.
/// </remarks>
public sealed class CopyingMemoryDatabase : ISessionDatabase, ISessionCounter, ISessionBatchLoader, IUserSessionIndex
{
    private readonly object _gate = new();
    private readonly Dictionary<string, StoredSession> _sessions = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ended = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _users = new(StringComparer.Ordinal);
    private readonly bool _asynchronous;
    private readonly int _maxSessions;
    private readonly TimeProvider _time;
    private int _commits;
    private int _loads;
    private int _batchLoads;

    /// <summary>Creates an empty database.</summary>
    /// <param name="asynchronous">Whether every call completes asynchronously (after a yield), like a remote database.</param>
    /// <param name="maxSessions">The most sessions stored at once; a commit creating one more throws <see cref="SessionLimitExceededException"/> and stores nothing. Unbounded by default.</param>
    /// <param name="timeProvider">The clock <see cref="Sweep"/> compares deadlines with (the system clock by default).</param>
    public CopyingMemoryDatabase(bool asynchronous = false, int? maxSessions = null, TimeProvider? timeProvider = null)
    {
        _asynchronous = asynchronous;
        _maxSessions = maxSessions ?? int.MaxValue;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public bool SharesRecords => false;

    /// <inheritdoc />
    public bool CompletesSynchronously => !_asynchronous;

    /// <summary>The number of <see cref="CommitAsync"/> calls so far.</summary>
    public int Commits => Volatile.Read(ref _commits);

    /// <summary>The number of IDs looked up so far: one per <see cref="LoadAsync"/> call, one per ID of a <see cref="LoadManyAsync"/> call.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>The number of <see cref="LoadManyAsync"/> calls so far.</summary>
    public int BatchLoads => Volatile.Read(ref _batchLoads);

    /// <summary>The number of sessions stored.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
                return _sessions.Count;
        }
    }

    /// <inheritdoc />
    public async ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _loads);
        lock (_gate)
            return _sessions.TryGetValue(id, out var stored) ? stored.ToRecord() : null;
    }

    /// <inheritdoc />
    public async ValueTask<SessionRecord?[]> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _batchLoads);
        Interlocked.Add(ref _loads, ids.Count);
        var records = new SessionRecord?[ids.Count];
        lock (_gate)
        {
            for (var i = 0; i < records.Length; i++)
                records[i] = _sessions.TryGetValue(ids[i], out var stored) ? stored.ToRecord() : null;
        }
        return records;
    }

    /// <inheritdoc />
    public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _commits);
        // Serialise outside the lock, as a remote database would before its one round trip.
        var setValues = changes.SetValues.Select(v => KeyValuePair.Create(v.Key, SessionValueCodec.Encode(v.Key, v.Value, changes.SerializerOptions))).ToArray();
        var setFlashes = changes.SetFlashes.Select(f => KeyValuePair.Create(f.Key, SessionValueCodec.EncodeFlash(f.Key, f.Value, changes.SerializerOptions))).ToArray();
        lock (_gate)
        {
            if (_ended.Contains(id))
                return false;
            if (!_sessions.TryGetValue(id, out var stored))
            {
                if (!changes.IsNew)
                    return false;
                if (_sessions.Count >= _maxSessions)
                    throw new SessionLimitExceededException($"The database holds {_maxSessions} sessions, its maximum; the new session was not stored.");
                stored = new StoredSession();
                _sessions.Add(id, stored);
            }
            else if (changes.IsNew)
            {
                return false;
            }
            var idleDeadline = changes.IdleDeadline;
            if (changes.RequiresLiveAt is not null)
            {
                // A session the request did not load: SessionChanges checks it as a load would (liveness, immutables, the
                // key limit, the idle refresh) on a throwaway copy, before anything is written.
                var copy = stored.ToRecord();
                if (!changes.CanApplyTo(copy))
                    return false;
                changes.ApplyTo(copy);
                idleDeadline = copy.IdleDeadline;
            }
            if (changes.Cleared)
                stored.Values.Clear();
            foreach (var key in changes.DeletedKeys)
                Remove(stored.Values, key);
            foreach (var value in setValues)
                Put(stored.Values, value.Key, value.Value);
            if (changes.FlashesCleared)
                stored.Flashes.Clear();
            foreach (var key in changes.DeletedFlashes)
                Remove(stored.Flashes, key);
            foreach (var flash in setFlashes)
                Put(stored.Flashes, flash.Key, flash.Value);
            if (changes.MovesAbsoluteDeadline)
                stored.AbsoluteDeadline = changes.AbsoluteDeadline;
            if (idleDeadline is { } idle)
                stored.IdleDeadline = idle;
            if (changes.BindsUser)
            {
                Unindex(stored.User, id);
                stored.User = changes.User;
                stored.SignedInAt = changes.SignedInAt;
                Index(stored.User, id);
            }
            stored.Version++;
            return true;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out var stored))
                return false;
            stored.AbsoluteDeadline = absoluteDeadline;
            stored.IdleDeadline = idleDeadline;
            return true;
        }
    }

    /// <inheritdoc />
    public async ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out var stored))
                return SessionRenewResult.NotFound;
            if (_sessions.ContainsKey(newId) || _ended.Contains(newId))
                return SessionRenewResult.IdInUse;
            _sessions.Remove(id);
            _ended.Add(id);
            _sessions.Add(newId, stored);
            Unindex(stored.User, id);
            Index(stored.User, newId);
            return SessionRenewResult.Renewed;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _ended.Add(id);
            return Remove(id);
        }
    }

    /// <inheritdoc />
    public async ValueTask DestroyAllAsync(CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _ended.UnionWith(_sessions.Keys);
            _sessions.Clear();
            _users.Clear();
        }
    }

    /// <inheritdoc />
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        return Count;
    }

    /// <summary>Removes every session whose deadline has passed, as a database with expiring keys does by itself; returns how many.</summary>
    public int Sweep()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            var expired = _sessions.Where(s => s.Value.EndsAt <= now).Select(s => s.Key).ToList();
            foreach (var id in expired)
                Remove(id);
            return expired.Count;
        }
    }

    /// <summary>The number of users with at least one indexed session.</summary>
    public int IndexedUsers
    {
        get
        {
            lock (_gate)
                return _users.Count;
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<UserSessionEntry>> ListUserSessionsAsync(string user, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return _users.TryGetValue(user, out var ids)
                ? ids.Select(id => (id, stored: _sessions[id]))
                    .Select(s => new UserSessionEntry(SessionIds.HashText(s.id), s.stored.SignedInAt, s.stored.AbsoluteDeadline, s.stored.IdleDeadline)).ToList()
                : [];
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            var id = _users.TryGetValue(user, out var ids) ? ids.FirstOrDefault(id => SessionIds.HashText(id) == handle) : null;
            if (id is null)
                return false;
            _ended.Add(id);
            return Remove(id);
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> DestroyUserSessionsAsync(string user, string? exceptHandle, CancellationToken cancellationToken)
    {
        await YieldAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (!_users.TryGetValue(user, out var ids))
                return 0;
            var destroyed = 0;
            foreach (var id in ids.Where(id => SessionIds.HashText(id) != exceptHandle).ToList())
            {
                _ended.Add(id);
                destroyed += Remove(id) ? 1 : 0;
            }
            return destroyed;
        }
    }

    private bool Remove(string id)
    {
        if (!_sessions.Remove(id, out var stored))
            return false;
        Unindex(stored.User, id);
        return true;
    }

    private void Index(string? user, string id)
    {
        if (user is null)
            return;
        if (!_users.TryGetValue(user, out var ids))
            _users.Add(user, ids = new HashSet<string>(StringComparer.Ordinal));
        ids.Add(id);
    }

    private void Unindex(string? user, string id)
    {
        if (user is not null && _users.TryGetValue(user, out var ids) && ids.Remove(id) && ids.Count == 0)
            _users.Remove(user);
    }

    private async ValueTask YieldAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_asynchronous)
            await Task.Yield();
    }

    private static void Put<T>(List<KeyValuePair<string, T>> items, string key, T value)
    {
        var index = items.FindIndex(item => string.Equals(item.Key, key, StringComparison.Ordinal));
        if (index >= 0)
            items[index] = KeyValuePair.Create(key, value);
        else
            items.Add(KeyValuePair.Create(key, value));
    }

    private static void Remove<T>(List<KeyValuePair<string, T>> items, string key)
    {
        var index = items.FindIndex(item => string.Equals(item.Key, key, StringComparison.Ordinal));
        if (index >= 0)
            items.RemoveAt(index);
    }

    private sealed class StoredSession
    {
        public List<KeyValuePair<string, byte[]>> Values { get; } = [];

        public List<KeyValuePair<string, byte[]>> Flashes { get; } = [];

        public DateTimeOffset? AbsoluteDeadline { get; set; }

        public DateTimeOffset IdleDeadline { get; set; }

        public long Version { get; set; }

        public string? User { get; set; }

        public DateTimeOffset SignedInAt { get; set; }

        public DateTimeOffset EndsAt => AbsoluteDeadline is { } absolute && absolute < IdleDeadline ? absolute : IdleDeadline;

        public SessionRecord ToRecord()
        {
            var record = new SessionRecord(AbsoluteDeadline, IdleDeadline, Version) { User = User, SignedInAt = User is null ? null : SignedInAt };
            foreach (var value in Values)
                record.SetValue(value.Key, Decode(value.Value));
            foreach (var flash in Flashes)
                record.SetFlash(flash.Key, Decode(flash.Value).Value);
            return record;
        }

        private static SessionValue Decode(byte[] bytes) =>
            SessionValueCodec.TryDecode(bytes, out var value) ? value : throw new InvalidOperationException("A stored value does not decode.");
    }
}
