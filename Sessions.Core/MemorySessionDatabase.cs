using System.Collections.Concurrent;

namespace Sessions;

/// <summary>
/// The default database: sessions in this process's memory, values kept as live objects (no serialisation), every
/// request of a session sharing one record. Expired sessions are removed lazily on access and by one periodic sweep
/// (not a timer per session); an optional bound caps the number of sessions. Sessions are lost when the process ends.
/// </summary>
public sealed class MemorySessionDatabase : ISessionDatabase, ISessionLookup, ISessionExpirationSource, ISessionCounter, IDisposable
{
    private readonly ConcurrentDictionary<string, SessionRecord> _records = new(StringComparer.Ordinal);
#if NET9_0_OR_GREATER
    private readonly ConcurrentDictionary<string, SessionRecord>.AlternateLookup<ReadOnlySpan<char>> _lookup;
#endif
    private readonly TimeProvider _time;
    private readonly int _maxSessions;
    private readonly ITimer _sweeper;
    private int _count;

    /// <summary>Creates an empty memory database.</summary>
    /// <param name="timeProvider">The clock of the sweep (the system clock by default).</param>
    /// <param name="maxSessions">The most sessions held at once; a new session beyond it fails with <see cref="SessionLimitExceededException"/>. <see langword="null"/>: unbounded.</param>
    /// <param name="sweepInterval">How often expired sessions are removed (default one minute).</param>
    public MemorySessionDatabase(TimeProvider? timeProvider = null, int? maxSessions = null, TimeSpan? sweepInterval = null)
    {
        if (maxSessions is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxSessions), maxSessions, "maxSessions must be positive.");
        var interval = sweepInterval ?? TimeSpan.FromMinutes(1);
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(sweepInterval), sweepInterval, "sweepInterval must be positive.");
        _time = timeProvider ?? TimeProvider.System;
#if NET9_0_OR_GREATER
        _lookup = _records.GetAlternateLookup<ReadOnlySpan<char>>();
#endif
        _maxSessions = maxSessions ?? int.MaxValue;
        _sweeper = _time.CreateTimer(static state => ((MemorySessionDatabase)state!).Sweep(), this, interval, interval);
    }

    /// <inheritdoc />
    public event Action<string>? SessionExpired;

    /// <inheritdoc />
    public bool SharesRecords => true;

    /// <inheritdoc />
    public bool CompletesSynchronously => true;

    /// <summary>The number of sessions held, expired ones not yet swept included.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) =>
        new(_records.TryGetValue(id, out var record) ? record : null);

    /// <inheritdoc />
    public bool TryFind(ReadOnlySpan<char> idText, out string id, out SessionRecord record)
    {
#if NET9_0_OR_GREATER
        if (_lookup.TryGetValue(idText, out id!, out record!))
            return true;
#else
        var key = idText.ToString();
        if (_records.TryGetValue(key, out record!))
        {
            id = key;
            return true;
        }
#endif
        id = null!;
        record = null!;
        return false;
    }

    /// <inheritdoc />
    public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (changes.IsNew)
            return new(Add(id, record));
        if (!_records.TryGetValue(id, out var stored))
            return new(false);
        if (!ReferenceEquals(stored, record))
        {
            lock (stored)
            {
                if (stored.IsEnded)
                    return new(false);
                changes.ApplyTo(stored);
            }
        }
        return new(true);
    }

    /// <inheritdoc />
    public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        if (!_records.TryGetValue(id, out var record))
            return new(false);
        record.AbsoluteDeadline = absoluteDeadline;
        record.IdleDeadline = idleDeadline;
        return new(true);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The record is copied and ended under its lock, so no write of another request falls between the two; a request
    /// still holding the old record then sees an ended session (see <see cref="SessionRecord.IsEnded"/>).
    /// </remarks>
    public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken)
    {
        if (!_records.TryGetValue(id, out var record))
            return new(SessionRenewResult.NotFound);
        lock (record)
        {
            if (record.IsEnded)
                return new(SessionRenewResult.NotFound);
            if (!_records.TryAdd(newId, record.Copy()))
                return new(SessionRenewResult.IdInUse);
            ((ICollection<KeyValuePair<string, SessionRecord>>)_records).Remove(new KeyValuePair<string, SessionRecord>(id, record));
            record.End();
        }
        return new(SessionRenewResult.Renewed);
    }

    /// <inheritdoc />
    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        if (!_records.TryRemove(id, out var record))
            return new(false);
        End(record);
        return new(true);
    }

    /// <inheritdoc />
    public ValueTask DestroyAllAsync(CancellationToken cancellationToken)
    {
        foreach (var id in _records.Keys)
        {
            if (_records.TryRemove(id, out var record))
                End(record);
        }
        return default;
    }

    /// <inheritdoc />
    public ValueTask<long> CountAsync(CancellationToken cancellationToken) => new(Count);

    /// <summary>Removes every expired session now and reports each through <see cref="SessionExpired"/>; the periodic sweep calls it.</summary>
    public void Sweep()
    {
        var now = _time.GetUtcNow();
        foreach (var entry in _records)
        {
            if (!entry.Value.IsExpired(now) || !((ICollection<KeyValuePair<string, SessionRecord>>)_records).Remove(entry))
                continue;
            End(entry.Value);
            try
            {
                SessionExpired?.Invoke(entry.Key);
            }
            catch (Exception)
            {
                // A failing handler must not stop the sweep (nor the timer): the remaining sessions still expire.
            }
        }
    }

    /// <summary>Stops the periodic sweep.</summary>
    public void Dispose() => _sweeper.Dispose();

    private bool Add(string id, SessionRecord record)
    {
        lock (record)
        {
            if (record.IsEnded)
                return false; // a create retried after its session was destroyed: destroy is final
        }
        if (Interlocked.Increment(ref _count) > _maxSessions)
        {
            Interlocked.Decrement(ref _count);
            throw new SessionLimitExceededException($"The memory session database holds {_maxSessions} sessions, its configured maximum; no new session can start until some end.");
        }
        if (_records.TryAdd(id, record))
            return true;
        Interlocked.Decrement(ref _count);
        return false;
    }

    private void End(SessionRecord record)
    {
        Interlocked.Decrement(ref _count);
        lock (record)
            record.End();
    }
}
