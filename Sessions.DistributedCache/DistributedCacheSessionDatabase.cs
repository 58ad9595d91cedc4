using Microsoft.Extensions.Caching.Distributed;

namespace Sessions.DistributedCache;

/// <summary>
/// Sessions in any <see cref="IDistributedCache"/> (SQL Server, Redis, Cosmos, NCache, the memory cache...): each session is
/// one cache entry, its whole state serialised together, under the key prefix and the base64url SHA-256 of its ID (the raw
/// ID is never a key). The entry expires at the session's end (the earlier of its two deadlines), rewritten whenever a
/// commit moves one. Use it where the application already runs such a cache and no dedicated database of this library
/// fits; with Redis, <c>Sessions.Redis</c> does more.
/// </summary>
/// <remarks>
/// <para>
/// What it cannot do, because <see cref="IDistributedCache"/> has only get, set, refresh and remove (no compare-and-set, no
/// transaction, no enumeration):
/// </para>
/// <list type="bullet">
/// <item><b>Merging concurrent requests across processes.</b> A commit reads the stored session, applies the request's
/// changes key by key and writes the whole session back, in separate calls. Within one process the operations on one
/// session are serialised, so concurrent requests served here merge key by key as on the other databases; two processes
/// committing the same session at the same moment each write their own merge, and the last writer wins (a change of the
/// other may be lost).</item>
/// <item><b>A destroy that is final against a racing commit of another process.</b> A destroy or renew leaves an end
/// marker under the session's key for its remaining lifetime, so a later commit, or a create retried after a lost reply,
/// is refused; but a commit of another process that read the session just before the destroy can still write it back.</item>
/// <item><b>Atomic renew.</b> <see cref="RenewAsync"/> marks the old key ended, then writes the session under the new one:
/// a failure between the two loses the session (never duplicates it).</item>
/// <item><b>Destroying or counting every session.</b> <see cref="DestroyAllAsync"/> throws <see cref="NotSupportedException"/>
/// (there is no way to find the entries), and the database does not offer <see cref="ISessionCounter"/>. Clear the cache
/// itself, or change <see cref="DistributedCacheSessionOptions.KeyPrefix"/>, to end every session.</item>
/// </list>
/// <para>
/// No sliding expiration is set on the entry: a cache refreshes a sliding window on every read, which would keep alive an
/// entry the manager already considers idle. The manager moves the idle deadline itself (writing the entry at most once
/// per tenth of the idle window), and each write sets the entry's expiration to the session's end.
/// Every call fails with <see cref="SessionDatabaseException"/> within <see cref="DistributedCacheSessionOptions.OperationTimeout"/>.
/// </para>
/// </remarks>
public sealed class DistributedCacheSessionDatabase : ISessionDatabase
{
    private const int Stripes = 64;
    // An end marker, or the entry of a session already past its end, still lives this long, so a late retry finds it.
    private static readonly TimeSpan MinimumLifetime = TimeSpan.FromMinutes(1);

    private readonly IDistributedCache _cache;
    private readonly TimeProvider _time;
    private readonly SessionKeyCache _keys;
    private readonly TimeSpan _timeout;
    private readonly SemaphoreSlim[] _locks;

    /// <summary>Creates a database on <paramref name="cache"/>.</summary>
    /// <param name="cache">The application's distributed cache.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock that turns deadlines into entry lifetimes (the system clock by default).</param>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public DistributedCacheSessionDatabase(IDistributedCache cache, DistributedCacheSessionOptions? options = null, TimeProvider? timeProvider = null)
    {
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        var validated = (options ?? new DistributedCacheSessionOptions()).Validated();
        _keys = new SessionKeyCache(validated.KeyPrefix, "");
        _timeout = validated.OperationTimeout;
        _time = timeProvider ?? TimeProvider.System;
        _locks = new SemaphoreSlim[Stripes];
        for (var i = 0; i < Stripes; i++)
            _locks[i] = new SemaphoreSlim(1, 1);
    }

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: every load builds a private copy, and changes reach the cache at commit.</remarks>
    public bool SharesRecords => false;

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: use the asynchronous API (an <see cref="IDistributedCache"/> is remote).</remarks>
    public bool CompletesSynchronously => false;

    /// <inheritdoc />
    public async ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var bytes = await GetAsync(KeyOf(id), "load", cancellationToken).ConfigureAwait(false);
        return SessionEntry.Read(bytes, out var record, out _) == SessionEntry.Kind.Session ? record : null;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Reads the stored session, applies <paramref name="changes"/> to it key by key (only the deadlines the request moved),
    /// and writes it back whole, under this process's lock of the session: two calls, not one atomic step (see the class
    /// remarks). A create stores <see cref="SessionChanges.Token"/>, so the same change set retried after a lost reply is
    /// recognised as its own; an ID that holds another session or an end marker is refused.
    /// </remarks>
    /// <exception cref="SessionLimitExceededException">The merged session would hold more than <see cref="SessionChanges.MaxPayloadBytes"/>, counted with <see cref="SessionValueCodec.PayloadSize"/>, and the commit grows it; nothing was written.</exception>
    public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (changes is null)
            throw new ArgumentNullException(nameof(changes));
        var key = KeyOf(id);
        using var held = await LockAsync(key, cancellationToken).ConfigureAwait(false);
        var kind = SessionEntry.Read(await GetAsync(key, "commit", cancellationToken).ConfigureAwait(false), out var stored, out var token);
        SessionRecord merged;
        SessionRecord? original = null;
        if (changes.IsNew)
        {
            if (kind == SessionEntry.Kind.Ended || (kind == SessionEntry.Kind.Session && token != changes.Token))
                return false;
            merged = (record ?? throw new ArgumentNullException(nameof(record))).Copy();
            if (changes.MovesAbsoluteDeadline)
                merged.AbsoluteDeadline = changes.AbsoluteDeadline;
            if (changes.IdleDeadline is { } idle)
                merged.IdleDeadline = idle;
            token = changes.Token;
        }
        else
        {
            if (kind != SessionEntry.Kind.Session || !changes.CanApplyTo(stored!))
                return false; // destroyed, renewed or expired: never recreated
            if (!changes.HasDataChanges && !changes.MovesAbsoluteDeadline && changes.IdleDeadline is null)
                return true;
            original = stored!;
            merged = original.Copy();
            merged.Version = original.Version;
            changes.ApplyTo(merged);
        }
        var bytes = SessionEntry.Write(merged, token, out var payload, changes.SerializerOptions);
        if (payload > changes.MaxPayloadBytes && (original is null || payload > Payload(original, token)))
            throw new SessionLimitExceededException($"The session would hold {payload} bytes of keys, values and flashes, more than SessionChanges.MaxPayloadBytes ({changes.MaxPayloadBytes}, from SessionConfig.MaxPayloadBytes); the commit was refused and the stored session is unchanged.");
        await SetAsync(key, bytes, merged.EndsAt, "commit", cancellationToken).ConfigureAwait(false);
        return true;
    }

    private static long Payload(SessionRecord record, Guid token)
    {
        SessionEntry.Write(record, token, out var payload);
        return payload;
    }

    /// <inheritdoc />
    public async ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        using var held = await LockAsync(key, cancellationToken).ConfigureAwait(false);
        if (SessionEntry.Read(await GetAsync(key, "expiration update", cancellationToken).ConfigureAwait(false), out var stored, out var token) != SessionEntry.Kind.Session)
            return false;
        stored!.AbsoluteDeadline = absoluteDeadline;
        stored.IdleDeadline = idleDeadline;
        await SetAsync(key, SessionEntry.Write(stored, token, out _), stored.EndsAt, "expiration update", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Three calls, not one atomic step: after checking that <paramref name="newId"/> is free, the old key becomes an end
    /// marker, then the session (as stored at that moment) is written under the new key. A failure after the first write
    /// loses the session; it is never left under both IDs.
    /// </remarks>
    public async ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        var newKey = KeyOf(newId);
        using var held = await LockAsync(key, cancellationToken).ConfigureAwait(false);
        using var heldNew = StripeOf(newKey) == StripeOf(key) ? default : await LockAsync(newKey, cancellationToken).ConfigureAwait(false);
        if (SessionEntry.Read(await GetAsync(key, "renew", cancellationToken).ConfigureAwait(false), out var stored, out var token) != SessionEntry.Kind.Session)
            return SessionRenewResult.NotFound;
        if (SessionEntry.Read(await GetAsync(newKey, "renew", cancellationToken).ConfigureAwait(false), out _, out _) != SessionEntry.Kind.Absent)
            return SessionRenewResult.IdInUse;
        await SetAsync(key, SessionEntry.Ended, stored!.EndsAt, "renew", cancellationToken).ConfigureAwait(false);
        await SetAsync(newKey, SessionEntry.Write(stored, token, out _), stored.EndsAt, "renew", cancellationToken).ConfigureAwait(false);
        return SessionRenewResult.Renewed;
    }

    /// <inheritdoc />
    /// <remarks>Replaces the entry with an end marker that lives as long as the session would have (see the class remarks).</remarks>
    public async ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        using var held = await LockAsync(key, cancellationToken).ConfigureAwait(false);
        if (SessionEntry.Read(await GetAsync(key, "destroy", cancellationToken).ConfigureAwait(false), out var stored, out _) != SessionEntry.Kind.Session)
            return false;
        await SetAsync(key, SessionEntry.Ended, stored!.EndsAt, "destroy", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: an <see cref="IDistributedCache"/> cannot list its entries.</exception>
    public ValueTask DestroyAllAsync(CancellationToken cancellationToken) =>
        throw new NotSupportedException("DistributedCacheSessionDatabase cannot destroy every session: IDistributedCache cannot list its entries. Clear the cache itself, or change DistributedCacheSessionOptions.KeyPrefix so that every existing session is unknown.");

    /// <summary>The cache key of session <paramref name="id"/>: the prefix, then the base64url SHA-256 of the ID (remembered for recent IDs).</summary>
    internal string KeyOf(string id) => _keys.KeyOf(id);

    private int StripeOf(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % Stripes);

    /// <summary>Serialises this process's operations on one session (a stripe of sessions), waiting at most the operation timeout.</summary>
    private async ValueTask<Held> LockAsync(string key, CancellationToken cancellationToken)
    {
        var gate = _locks[StripeOf(key)];
        if (!await gate.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false))
            throw new SessionDatabaseException($"Another operation on the session held it for longer than {_timeout.TotalMilliseconds:0} ms (DistributedCacheSessionOptions.OperationTimeout); the cache may be stalled.");
        return new Held(gate);
    }

    private readonly struct Held(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }

    private Task<byte[]?> GetAsync(string key, string operation, CancellationToken cancellationToken) =>
        GuardAsync(_cache.GetAsync(key, cancellationToken), operation, cancellationToken);

    /// <summary>Writes an entry that expires at <paramref name="endsAt"/> (at least a minute from now, so an end marker outlives a retry).</summary>
    private Task SetAsync(string key, byte[] bytes, DateTimeOffset endsAt, string operation, CancellationToken cancellationToken)
    {
        var lifetime = endsAt - _time.GetUtcNow();
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = lifetime > MinimumLifetime ? lifetime : MinimumLifetime };
        return GuardAsync(Completed(_cache.SetAsync(key, bytes, options, cancellationToken)), operation, cancellationToken);
    }

    private static async Task<bool> Completed(Task work)
    {
        await work.ConfigureAwait(false);
        return true;
    }

    /// <summary>Waits for <paramref name="work"/> at most the operation timeout and turns every cache failure into a <see cref="SessionDatabaseException"/>.</summary>
    private async Task<T> GuardAsync<T>(Task<T> work, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await work.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(work);
            throw;
        }
        catch (TimeoutException e)
        {
            Observe(work);
            throw new SessionDatabaseException($"The distributed cache did not answer the session {operation} within {_timeout.TotalMilliseconds:0} ms (DistributedCacheSessionOptions.OperationTimeout); it may be down or stalled.", e);
        }
        catch (Exception e) when (e is not SessionDatabaseException)
        {
            throw new SessionDatabaseException($"The session {operation} failed in the distributed cache ({e.GetType().Name}: {FirstLine(e.Message)}).", e);
        }
    }

    /// <summary>An abandoned call may still fail later; observe it so it is not reported as unobserved.</summary>
    private static void Observe(Task work) =>
        _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message.Substring(0, end);
    }
}
