using System.Collections.Concurrent;

namespace Sessions;

/// <summary>
/// The default database: sessions in this process's memory, values kept as live objects (no serialisation), every
/// request of a session sharing one record. Expired sessions are removed lazily on access and by one periodic sweep
/// (not a timer per session). Sessions are lost when the process ends.
/// </summary>
/// <remarks>
/// <para>
/// Memory is bounded by default. Any client without a cookie can create a session on a route that writes one, so the number
/// of sessions is capped (<see cref="DefaultMaxSessions"/>, 100,000, unless the constructor or
/// <see cref="SessionConfig.MemoryMaxSessions"/> says otherwise), and each session is capped by
/// <see cref="SessionConfig.MaxKeys"/> (values and flashes together) and <see cref="SessionConfig.MaxPayloadBytes"/>
/// (values and flashes as the session measures them when they are written: see <see cref="Session.Set"/>).
/// </para>
/// <para>
/// When the bound is reached, the first write of a new session throws <see cref="SessionLimitExceededException"/>: that
/// session is not stored and gets no cookie, and the host answers the request as for any unhandled exception unless the
/// application catches it. Sessions already stored keep working (reads, writes, new keys within their own limits), and
/// new sessions are accepted again as soon as sessions end (destroyed, or expired and swept). A flood of cookieless
/// requests therefore fills the bound and locks out new visitors until the idle timeout empties it, but cannot exhaust
/// the process.
/// </para>
/// </remarks>
public sealed class MemorySessionDatabase : ISessionDatabase, ISessionLookup, ISessionExpirationSource, ISessionCounter, ISessionDestroyAllListing, IDisposable
{
    private readonly ConcurrentDictionary<string, SessionRecord> _records = new(StringComparer.Ordinal);
#if NET9_0_OR_GREATER
    private readonly ConcurrentDictionary<string, SessionRecord>.AlternateLookup<ReadOnlySpan<char>> _lookup;
#endif
    private readonly TimeProvider _time;
    private readonly int _maxSessions;
    private readonly ITimer _sweeper;
    private int _count;

    /// <summary>
    /// The most sessions held at once unless configured otherwise: 100,000. An empty session takes about 300 bytes and a
    /// small one (a counter) about 600, so the bound keeps a flood of new sessions to tens of megabytes; at the default
    /// 30-minute idle timeout it still admits a steady 55 new sessions a second. A site with more concurrent sessions
    /// raises it (<see cref="SessionConfig.MemoryMaxSessions"/>, or the constructor) or uses a shared database. The
    /// ceiling is this bound times <see cref="SessionConfig.MaxPayloadBytes"/> (about 6.5 GB at the defaults) when every
    /// session is filled with what clients send: an application that stores client input lowers one or the other.
    /// </summary>
    public const int DefaultMaxSessions = 100_000;

    /// <summary>Creates an empty memory database.</summary>
    /// <param name="timeProvider">The clock of the sweep (the system clock by default).</param>
    /// <param name="maxSessions">The most sessions held at once (default <see cref="DefaultMaxSessions"/>); the first write of a new session beyond it fails with <see cref="SessionLimitExceededException"/>. Pass <see cref="int.MaxValue"/> to lift the bound.</param>
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
        _maxSessions = maxSessions ?? DefaultMaxSessions;
        _sweeper = _time.CreateTimer(static state => ((MemorySessionDatabase)state!).Sweep(), this, interval, interval);
    }

    /// <inheritdoc />
    public event Action<string>? SessionExpired;

    /// <inheritdoc />
    public bool SharesRecords => true;

    /// <inheritdoc />
    public bool CompletesSynchronously => true;

    /// <summary>The most sessions held at once (see <see cref="DefaultMaxSessions"/>).</summary>
    public int MaxSessions => _maxSessions;

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
        DestroyAll(null);
        return default;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> DestroyAllListedAsync(CancellationToken cancellationToken)
    {
        var removed = new List<string>();
        DestroyAll(removed);
        return new(removed);
    }

    private void DestroyAll(List<string>? removed)
    {
        foreach (var id in _records.Keys)
        {
            if (_records.TryRemove(id, out var record))
            {
                End(record);
                removed?.Add(id);
            }
        }
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
            throw new SessionLimitExceededException($"The memory session database holds {_maxSessions} sessions, its configured maximum (SessionConfig.MemoryMaxSessions, or the constructor's maxSessions); no new session can start until some end. Existing sessions keep working.", isDatabaseFull: true);
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
