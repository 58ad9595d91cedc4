using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Sessions.Redis;

/// <summary>
/// Sessions in Redis (a single server or a Redis Cluster). Each session is one hash, named by the key prefix and the
/// base64url SHA-256 of its ID in braces (a Redis Cluster hash tag: the raw ID is never a key name), holding its values,
/// flashes, deadlines and version, with a TTL at its earlier deadline. Loading is one <c>HGETALL</c>; a commit is one Lua
/// script that writes only the keys the request changed, so two requests that change different keys both survive, and
/// that refuses to recreate a session whose key is gone, so a destroyed session stays destroyed. A commit writes only the
/// deadlines its request moved, so a deadline another request moved meanwhile is never overwritten with a stale one.
/// </summary>
/// <remarks>
/// Values are stored with <see cref="SessionValueCodec"/> (System.Text.Json, no type names) and read back as plain JSON
/// values; corrupt or foreign data reads as an absent session or a missing key, never as an exception. Every operation
/// fails with <see cref="SessionDatabaseException"/> within <see cref="RedisSessionOptions.OperationTimeout"/> when Redis
/// is down, stalled or refuses; the database recovers by itself when Redis returns. Sessions survive a Redis restart only
/// when Redis persists its data; on failover to an asynchronous replica a just-destroyed session may come back.
/// A destroy or renew leaves, next to the session's key and in the same slot, an end marker that lives as long as the
/// session would have, so a create retried after a lost reply cannot bring the session back under its old ID.
/// </remarks>
public sealed partial class RedisSessionDatabase : ISessionDatabase, ISessionCounter, ISessionBatchLoader, ISessionEventSource, ISessionExpiredDestroyer, IUserSessionIndex, IDisposable
{
    private const int DeleteBatchSize = 256;
    private const int ScanPageSize = 1000;
    private const int SessionTagLength = 43; // base64url of a SHA-256, unpadded

    private readonly Task<IConnectionMultiplexer> _connection;
    private readonly bool _ownsConnection;
    private readonly string _prefix;
    private readonly string _keyStart;
    private readonly SessionKeyCache _keys;
    private readonly string _pattern;
    private readonly TimeSpan _timeout;
    private readonly long _slackMilliseconds;
    private readonly RedisSessionEvents _events;
    private RedisCommitBatcher? _grouper;
    private int _grouping; // 0 until a server answered, then 1 (one standalone server: commits go in groups) or -1
    private int _disposed;

    /// <summary>Creates a database on a multiplexer the application owns (and disposes).</summary>
    /// <param name="connection">The application's shared multiplexer.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    public RedisSessionDatabase(IConnectionMultiplexer connection, RedisSessionOptions? options = null)
        : this(Task.FromResult(connection ?? throw new ArgumentNullException(nameof(connection))), ownsConnection: false, (options ?? new RedisSessionOptions()).Validated(), connection.GetDatabase().Database)
    {
    }

    /// <summary>
    /// Creates a database that connects, in the background, with a StackExchange.Redis configuration string
    /// (for example <c>localhost:6379</c>, or several cluster nodes separated by commas). It never fails because Redis is
    /// down: <c>abortConnect=false</c> is forced, and operations fail with <see cref="SessionDatabaseException"/> until
    /// Redis answers. The database owns this connection and closes it when disposed.
    /// </summary>
    /// <param name="configuration">The StackExchange.Redis configuration string.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    public RedisSessionDatabase(string configuration, RedisSessionOptions? options = null)
        : this(configuration ?? throw new ArgumentNullException(nameof(configuration)), (options ?? new RedisSessionOptions()).Validated(), ownsConnection: true)
    {
    }

    private RedisSessionDatabase(string configuration, RedisSessionOptions options, bool ownsConnection)
        : this(Configure(configuration, options), options, ownsConnection)
    {
    }

    private RedisSessionDatabase(ConfigurationOptions configuration, RedisSessionOptions options, bool ownsConnection)
        : this(ConnectAsync(configuration), ownsConnection, options, configuration.DefaultDatabase ?? 0)
    {
    }

    private RedisSessionDatabase(Task<IConnectionMultiplexer> connection, bool ownsConnection, RedisSessionOptions options, int database)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        _prefix = options.KeyPrefix;
        _keyStart = options.KeyPrefix + "{";
        _keys = new SessionKeyCache(_keyStart, "}");
        _pattern = EscapeGlob(options.KeyPrefix) + "{" + new string('?', SessionTagLength) + "}";
        _timeout = options.OperationTimeout;
        _slackMilliseconds = (long)options.ExpirySlack.TotalMilliseconds;
        _time = options.TimeProvider;
        _events = new RedisSessionEvents(options.KeyPrefix, database, options, key => IsSessionKey(key) ? HashOfKey(key) : null);
        EventsReady = options.SubscribeToEvents ? _events.StartAsync(connection) : Task.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Raised, with <see cref="RedisSessionOptions.SubscribeToEvents"/>, for what other processes sharing the Redis
    /// database publish (<see cref="RedisSessionOptions.PublishEvents"/>) and for session keys Redis expires; never for
    /// this instance's own changes, which its manager raises itself. Delivery is at most once (see <see cref="EventsReady"/>).
    /// </remarks>
    public event Action<SessionEventArgs>? SessionEvent
    {
        add => _events.Received += value;
        remove => _events.Received -= value;
    }

    /// <summary>
    /// Raised when an event handler throws (the exception is reported here and delivery goes on) or when keyspace
    /// notifications cannot be configured again after a reconnect (<see cref="RedisSessionOptions.ConfigureKeyspaceNotifications"/>).
    /// </summary>
    public event Action<Exception>? EventsFailed
    {
        add => _events.Failed += value;
        remove => _events.Failed -= value;
    }

    /// <summary>
    /// Completes once this database listens for events (<see cref="RedisSessionOptions.SubscribeToEvents"/>; at once
    /// when that is off): subscribed to its prefix's channel and to expired-key notifications and, with
    /// <see cref="RedisSessionOptions.ConfigureKeyspaceNotifications"/>, with those notifications switched on. While Redis
    /// is down it waits for it. Fails with <see cref="SessionDatabaseException"/>, its message naming the cause, when the
    /// server refuses <c>CONFIG SET</c> (published events are still delivered then; Redis expiries are not).
    /// </summary>
    /// <remarks>
    /// Redis pub/sub delivers at most once: a message published while a subscriber is disconnected is lost for it, and
    /// nothing replays it. An expiry is announced when Redis removes the key, at the session's deadline plus
    /// <see cref="RedisSessionOptions.ExpirySlack"/> or later (Redis expires keys lazily on access and by a sampling
    /// cycle), and only if the server sends expired-key notifications. Use events to refresh caches and dashboards, not
    /// as the only record of what happened.
    /// </remarks>
    public Task EventsReady { get; }

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: every load builds a private copy, and changes reach Redis at commit.</remarks>
    public bool SharesRecords => false;

    /// <inheritdoc />
    public bool CompletesSynchronously => false;

    /// <inheritdoc />
    /// <remarks>
    /// <para>
    /// Two round trips, because in a Redis Cluster the old and the new key live in different slots and no one script may
    /// touch both. The first script atomically takes the whole hash off the old key (its fields and TTL, then deletes it,
    /// leaving the old key's end marker so a create retried under the old ID cannot bring it back): from that moment every
    /// commit naming the old ID finds nothing and returns <see langword="false"/>, and what is moved is the session exactly
    /// as Redis held it then, with every change committed before, a deleted key included. The second script writes that
    /// hash under the new key, only if the new key does not exist, with the same deadlines and expiry; the old creation
    /// token is not carried over. When the new key exists (a 256-bit ID collision: practically never) the hash is put back
    /// under the old key, only if that is still absent, and the result is <see cref="SessionRenewResult.IdInUse"/>.
    /// </para>
    /// <para>
    /// Between the two round trips the session is under neither ID: a request of the same session that loads it then
    /// finds none. <paramref name="cancellationToken"/> can stop only the first round trip; once the session is taken the
    /// second is always sent. If this process dies between the two, or the second fails (Redis down, time-out), the
    /// session is lost: the user is signed out. It is never left under both IDs, so a renew meant to end a fixation never
    /// leaves the old ID usable, and nothing leaks: the taken hash is not put back after a failed second step (that step
    /// may have been applied), and the old key's end marker expires with the session.
    /// </para>
    /// </remarks>
    public async ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken)
    {
        var oldKey = KeyOf(id);
        var newKey = KeyOf(newId);
        var taken = await RunAsync("renew", db => EvaluateAsync(db, RedisScripts.Take, [oldKey, EndedKeyOf(oldKey)], []), cancellationToken).ConfigureAwait(false);
        if (taken.IsNull)
            return SessionRenewResult.NotFound;
        var items = (RedisResult[])taken!;
        var content = new RedisValue[items.Length + 4];
        content[1] = _slackMilliseconds;
        content[2] = (long)items[0];
        for (var i = 1; i < items.Length; i++)
            content[i + 2] = (RedisValue)items[i];
        content[content.Length - 2] = _events.Channel;
        // The session is off the old key now: the rest is always sent, whatever the caller's token says.
        content[0] = "new";
        content[content.Length - 1] = _events.Message(SessionEventReason.Renewed, HashOfKey(newKey), HashOfKey(oldKey));
        if ((long)await RunAsync("renew", db => EvaluateAsync(db, RedisScripts.Place, [newKey, EndedKeyOf(newKey)], content), CancellationToken.None).ConfigureAwait(false) == 1)
        {
            if (RenewedIndexUpdate(id, newId, content) is { } index)
                await RunAsync("renew", db => index.SendAsync(this, db), CancellationToken.None).ConfigureAwait(false);
            return SessionRenewResult.Renewed;
        }
        content[0] = "restore";
        content[content.Length - 1] = RedisValue.EmptyString; // nothing happened that others need to hear of
        await RunAsync("renew", db => EvaluateAsync(db, RedisScripts.Place, [oldKey, EndedKeyOf(oldKey)], content), CancellationToken.None).ConfigureAwait(false);
        return SessionRenewResult.IdInUse;
    }

    /// <inheritdoc />
    /// <remarks>One <c>HGETALL</c>. A key of another type, or a hash without deadlines, reads as absent; a field whose value does not decode is dropped.</remarks>
    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        return DirectDatabase(cancellationToken) is { } db ? ReadAsync(db, key, cancellationToken, direct: true) : new(LoadGuardedAsync(key, cancellationToken));
    }

    private Task<SessionRecord?> LoadGuardedAsync(RedisKey key, CancellationToken cancellationToken) =>
        RunAsync("load", db => ReadAsync(db, key, CancellationToken.None, direct: false).AsTask(), cancellationToken, oneRoundTrip: true);

    /// <summary>
    /// One <c>HGETALL</c>, decoded; a key of another type reads as absent. The token is honoured as <see cref="Honouring"/>
    /// says. A <paramref name="direct"/> read (see <see cref="DirectDatabase"/>) has no guard around it: it turns
    /// Redis's failures into <see cref="SessionDatabaseException"/> itself, so the common load is one async layer.
    /// </summary>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
#endif
    private async ValueTask<SessionRecord?> ReadAsync(IDatabase db, RedisKey key, CancellationToken cancellationToken, bool direct)
    {
        Task<HashEntry[]>? read = null;
        try
        {
            read = db.HashGetAllAsync(key);
            return Decode(await Honouring(read, cancellationToken).ConfigureAwait(false));
        }
        catch (RedisServerException e) when (IsWrongType(e))
        {
            return null; // not ours: the session is unknown
        }
        catch (OperationCanceledException) when (read is not null)
        {
            Observe(read);
            throw;
        }
        catch (Exception e) when (direct && e is TimeoutException or RedisException)
        {
            throw Failure(e, "load");
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// One <c>HGETALL</c> per ID, pipelined in one batch: on a single server every command leaves in one write and the
    /// replies come back together, one round trip. In a Redis Cluster the keys live in different slots, so no one
    /// transaction or script can read them all; the batch then sends each node its commands at once, all nodes
    /// concurrently, so the load costs one round trip per node involved, in parallel. Each ID reads as
    /// <see cref="LoadAsync"/> reads it: a key of another type, or a hash without deadlines, as absent. The whole batch
    /// fails with <see cref="SessionDatabaseException"/> within <see cref="RedisSessionOptions.OperationTimeout"/>.
    /// </remarks>
    public ValueTask<SessionRecord?[]> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids is null)
            throw new ArgumentNullException(nameof(ids));
        if (ids.Count == 0)
            return new([]);
        var keys = new RedisKey[ids.Count];
        for (var i = 0; i < keys.Length; i++)
            keys[i] = KeyOf(ids[i]);
        return new(RunAsync("load", async db =>
        {
            var batch = db.CreateBatch();
            var reads = new Task<HashEntry[]>[keys.Length];
            for (var i = 0; i < keys.Length; i++)
                reads[i] = batch.HashGetAllAsync(keys[i]);
            batch.Execute();
            var records = new SessionRecord?[keys.Length];
            Exception? failure = null;
            for (var i = 0; i < reads.Length; i++)
            {
                try
                {
                    records[i] = Decode(await reads[i].ConfigureAwait(false));
                }
                catch (RedisServerException e) when (IsWrongType(e))
                {
                    records[i] = null; // not ours: the session is unknown
                }
                catch (Exception e) when (failure is null)
                {
                    failure = e; // await every read, so none is left unobserved, then fail with the first error
                }
                catch (Exception)
                {
                    // a later read failed too: observed, the first failure is reported
                }
            }
            if (failure is not null)
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            return records;
        }, cancellationToken));
    }

    /// <inheritdoc />
    /// <remarks>
    /// One script run (<c>EVALSHA</c>; the first run on a server that does not know the script adds one <c>EVAL</c>). It
    /// writes the values and flashes the request changed and only the deadlines it moved (see
    /// <see cref="SessionChanges.MovesAbsoluteDeadline"/> and <see cref="SessionChanges.IdleDeadline"/>): a deadline another
    /// request moved after this one loaded the session stays as that request stored it, and the key's expiry follows the
    /// stored deadlines. A change set with nothing to write only checks that the session still exists (one <c>HEXISTS</c>).
    /// A create stores <see cref="SessionChanges.Token"/>, so the same change set retried after a lost reply is recognised
    /// as its own; a create whose ID was destroyed or renewed away meanwhile is refused, so neither is undone.
    /// </remarks>
    /// <exception cref="SessionLimitExceededException">
    /// The session would hold more than <see cref="SessionChanges.MaxPayloadBytes"/>, counted with
    /// <see cref="SessionValueCodec.PayloadSize"/> over the stored values and flashes merged with these changes; nothing
    /// was written. A commit that does not grow the payload is applied even over the limit, so a session above a lowered
    /// limit can still shrink.
    /// </exception>
    public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (changes is null)
            throw new ArgumentNullException(nameof(changes));
        var key = KeyOf(id);
        bool movesAbsolute;
        DateTimeOffset? absolute;
        DateTimeOffset? idle;
        if (changes.IsNew)
        {
            // Nothing is stored yet: a new session stores both deadlines (the core moves both; the record has them anyway).
            if (record is null && (!changes.MovesAbsoluteDeadline || changes.IdleDeadline is null))
                throw new ArgumentNullException(nameof(record));
            movesAbsolute = true;
            absolute = changes.MovesAbsoluteDeadline ? changes.AbsoluteDeadline : record!.AbsoluteDeadline;
            idle = changes.IdleDeadline ?? record!.IdleDeadline;
        }
        else
        {
            movesAbsolute = changes.MovesAbsoluteDeadline;
            absolute = changes.AbsoluteDeadline;
            idle = changes.IdleDeadline;
            if (!movesAbsolute && idle is null && !changes.HasDataChanges && !changes.BindsUser)
                return new(ExistsAsync(key, cancellationToken));
        }
        var unloaded = changes.RequiresLiveAt is not null;
        // Indexed and span loops: a foreach over the public lists would box an enumerator per commit.
        var deletedKeys = changes.DeletedKeys;
        var deletedFlashes = changes.DeletedFlashes;
        var setValues = changes.SetValueSpan;
        var setFlashes = changes.SetFlashSpan;
        var argv = new RedisValue[7 + deletedKeys.Count + deletedFlashes.Count + 2 * (setValues.Length + setFlashes.Length)
            + (movesAbsolute ? 2 : 0) + (changes.IsNew ? 3 : 0) + (changes.BindsUser ? 2 : 0) + (unloaded ? 2 : 0)];
        argv[0] = CommitFlags[(changes.IsNew ? 1 : 0) | (changes.Cleared ? 2 : 0) | (changes.FlashesCleared ? 4 : 0) | (movesAbsolute ? 8 : 0)
            | (changes.BindsUser ? 16 : 0) | (unloaded ? 32 : 0)];
        SetDeadline(argv, 1, idle);
        argv[3] = _slackMilliseconds;
        argv[4] = changes.MaxPayloadBytes;
        var i = 5;
        argv[i++] = deletedKeys.Count + deletedFlashes.Count;
        for (var d = 0; d < deletedKeys.Count; d++)
            argv[i++] = ValueField(deletedKeys[d]);
        for (var d = 0; d < deletedFlashes.Count; d++)
            argv[i++] = FlashField(deletedFlashes[d]);
        argv[i++] = setValues.Length + setFlashes.Length;
        long size = 0;
        foreach (var value in setValues)
            size += SetField(argv, ref i, ValueField(value.Key), value.Key, SessionValueCodec.Encode(value.Key, value.Value, changes.SerializerOptions));
        foreach (var flash in setFlashes)
            size += SetField(argv, ref i, FlashField(flash.Key), flash.Key, SessionValueCodec.EncodeFlash(flash.Key, flash.Value, changes.SerializerOptions));
        // What this request sets is all in the merged session: over the limit alone, it is over merged too.
        if (size > changes.MaxPayloadBytes)
            throw TooLarge(changes.MaxPayloadBytes);
        if (movesAbsolute)
        {
            SetDeadline(argv, i, absolute);
            i += 2;
        }
        if (changes.IsNew)
        {
            argv[i++] = changes.Token.ToString("N");
            argv[i++] = _events.Channel;
            argv[i++] = _events.Message(SessionEventReason.Created, HashOfKey(key));
        }
        if (changes.BindsUser)
        {
            argv[i++] = changes.User;
            argv[i++] = changes.SignedInAt.UtcTicks;
        }
        if (changes.RequiresLiveAt is { } liveAt)
        {
            argv[i++] = liveAt.ToUnixTimeMilliseconds();
            argv[i++] = changes.MaxKeys;
        }
        return CommitCoreAsync(id, key, argv, changes, IndexUpdateOf(id, record, changes, movesAbsolute ? absolute : record?.AbsoluteDeadline, idle), cancellationToken);
    }

    /// <summary>A commit with nothing to write: whether the session still exists.</summary>
    private Task<bool> ExistsAsync(RedisKey key, CancellationToken cancellationToken) =>
        RunAsync("commit", db => db.HashExistsAsync(key, "#i"), cancellationToken);

    private static long SetField(RedisValue[] argv, ref int i, RedisValue field, string key, byte[] payload)
    {
        argv[i++] = field;
        argv[i++] = payload;
        return SessionValueCodec.PayloadSize(key, payload); // the script counts it again from the two lengths
    }

    /// <summary>The commit script's first argument for each combination of its six flags (see <see cref="RedisScripts.Commit"/>).</summary>
    private static readonly RedisValue[] CommitFlags = Enumerable.Range(0, 64)
        .Select(bits => (RedisValue)string.Concat(Enumerable.Range(0, 6).Select(flag => (bits >> flag & 1) == 1 ? '1' : '0')))
        .ToArray();

#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))] // no state machine allocated per commit
#endif
    private async ValueTask<bool> CommitCoreAsync(string id, RedisKey key, RedisValue[] argv, SessionChanges changes, IndexUpdate? index, CancellationToken cancellationToken)
    {
        // Only a create reads the end marker.
        RedisKey[] keys = changes.IsNew ? [key, EndedKeyOf(key)] : [key];
        RedisResult result;
        if (index is null && DirectDatabase(cancellationToken) is { } db)
        {
            // The common commit awaits the script itself: no guard, closure or wrapper task between it and the caller.
            Task<RedisResult>? evaluation = null;
            try
            {
                evaluation = Grouper(db) is { } grouper ? grouper.CommitAsync(keys, argv) : db.ScriptEvaluateAsync(RedisScripts.Commit.Hash, keys, argv);
                result = await Honouring(evaluation, cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException e) when (IsNoScript(e))
            {
                result = await CommitByTextAsync(keys, argv).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or RedisException)
            {
                throw Failure(e, "commit");
            }
            catch (OperationCanceledException) when (evaluation is not null)
            {
                Observe(evaluation);
                throw;
            }
        }
        else
        {
            result = await CommitGuardedAsync(keys, argv, index, cancellationToken).ConfigureAwait(false);
        }
        if (result.Resp2Type == ResultType.Array)
        {
            if (result[0].Resp2Type == ResultType.Integer)
                throw new SessionImmutableValueException(((string)result[1]!).Substring(1)); // {-2, field}: the field is v + key
            // {user, end}: an unloaded session's commit moved the idle deadline of a signed-in session; its index entry follows.
            await MoveIndexEntryAsync("commit", (string)result[0]!, id, (long)result[1]).ConfigureAwait(false);
            return true;
        }
        return (long)result switch
        {
            1 => true,
            -1 => throw TooLarge(changes.MaxPayloadBytes),
            -3 => throw new SessionLimitExceededException($"The session would hold more than SessionChanges.MaxKeys ({changes.MaxKeys}) keys (values and flashes); nothing was written."),
            _ => false,
        };
    }

    /// <summary>
    /// The group committer (see <see cref="RedisCommitBatcher"/>), on a connection to standalone servers only; decided
    /// once a server answered, and <see langword="null"/> before that, in a cluster or behind a proxy.
    /// </summary>
    private RedisCommitBatcher? Grouper(IDatabase db)
    {
        var grouping = Volatile.Read(ref _grouping);
        if (grouping != 0)
            return grouping > 0 && _grouper!.Grouping ? _grouper : null;
        var multiplexer = db.Multiplexer;
        if (!multiplexer.IsConnected)
            return null;
        foreach (var server in multiplexer.GetServers())
        {
            if (!server.IsConnected)
                continue; // its kind is not known yet; a cluster's other nodes tell
            if (server.ServerType != ServerType.Standalone)
            {
                grouping = -1;
                break;
            }
            grouping = 1;
        }
        if (grouping == 0)
            return null;
        if (grouping > 0)
            Interlocked.CompareExchange(ref _grouper, new RedisCommitBatcher(db), null);
        Volatile.Write(ref _grouping, grouping);
        return grouping > 0 ? _grouper : null;
    }

    private Task<RedisResult> CommitGuardedAsync(RedisKey[] keys, RedisValue[] argv, IndexUpdate? index, CancellationToken cancellationToken) =>
        RunAsync("commit", db => index is null
            ? EvaluateAsync(db, RedisScripts.Commit, keys, argv)
            : WithIndexAsync(EvaluateAsync(db, RedisScripts.Commit, keys, argv), index.Value.SendAsync(this, db)), cancellationToken, oneRoundTrip: true);

    private Task<RedisResult> CommitByTextAsync(RedisKey[] keys, RedisValue[] argv) =>
        RunAsync("commit", db => db.ScriptEvaluateAsync(RedisScripts.Commit.Text, keys, argv), CancellationToken.None, oneRoundTrip: true);

    /// <summary>A signed-in session's end moved: its entry in the user's index follows (a round trip of its own, whatever the caller's token: the session already moved).</summary>
    private Task<bool> MoveIndexEntryAsync(string operation, string user, string id, long endsAtMilliseconds) =>
        RunAsync(operation, db => new IndexUpdate(user, HandleOf(id), endsAtMilliseconds, null, null).SendAsync(this, db), CancellationToken.None);

    /// <inheritdoc />
    /// <remarks>One script run; it moves the key's TTL too.</remarks>
    public async ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        var argv = new RedisValue[5];
        SetDeadline(argv, 0, absoluteDeadline);
        SetDeadline(argv, 2, idleDeadline);
        var endsAt = absoluteDeadline is { } a && a < idleDeadline ? a : idleDeadline;
        argv[4] = Math.Max(1, endsAt.ToUnixTimeMilliseconds() + _slackMilliseconds);
        var result = await RunAsync("update expiration", db => EvaluateAsync(db, RedisScripts.UpdateExpiration, [key], argv), cancellationToken).ConfigureAwait(false);
        if (SignedInUser(result) is { } user)
            await MoveIndexEntryAsync("update expiration", user, id, endsAt.ToUnixTimeMilliseconds()).ConfigureAwait(false);
        return SignedInUser(result) is not null || (long)result == 1;
    }

    /// <inheritdoc />
    /// <remarks>
    /// One script run: it deletes the key and leaves its end marker (a tiny key in the same slot) for the session's
    /// remaining lifetime. Later commits of the session find no key and write nothing, and a create retried after a lost
    /// reply (its first attempt applied before the destroy) finds the end marker and is refused: a destroy is final.
    /// </remarks>
    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) =>
        new(DestroyCoreAsync(id, SessionEventReason.Destroyed, cancellationToken));

    /// <inheritdoc />
    /// <remarks>As <see cref="DestroyAsync"/>, publishing (with <see cref="RedisSessionOptions.PublishEvents"/>) that the session expired.</remarks>
    public ValueTask<bool> DestroyExpiredAsync(string id, CancellationToken cancellationToken) =>
        new(DestroyCoreAsync(id, SessionEventReason.Expired, cancellationToken));

    private async Task<bool> DestroyCoreAsync(string id, SessionEventReason reason, CancellationToken cancellationToken)
    {
        var key = KeyOf(id);
        RedisValue[] argv = [_events.Channel, _events.Message(reason, HashOfKey(key))];
        var result = await RunAsync("destroy", db => EvaluateAsync(db, RedisScripts.Destroy, [key, EndedKeyOf(key)], argv), cancellationToken).ConfigureAwait(false);
        if (SignedInUser(result) is not { } user)
            return (long)result == 1;
        // A signed-in session: its index entry goes too (a second round trip, only for signed-in sessions).
        await RunAsync("destroy", db => db.SortedSetRemoveAsync(UserIndexKeyOf(user), HandleOf(id)), CancellationToken.None).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Follows the <c>SCAN</c> cursor to its end on every primary (every master of a cluster), matching only keys of exactly
    /// a session key's shape (the configured prefix, then 43 base64url characters in braces: end markers and other
    /// applications' keys are left alone), and deletes what it finds key by key in pipelined batches. Fails when a primary is unreachable, rather
    /// than leaving its sessions alive. It leaves no end markers: a create retried after a lost reply and after this call
    /// could store its session again.
    /// </remarks>
    public async ValueTask DestroyAllAsync(CancellationToken cancellationToken)
    {
        var connection = await GuardAsync(_connection, "destroy all", cancellationToken).ConfigureAwait(false);
        await DeleteMatchingAsync(connection, _pattern, IsSessionKey, cancellationToken).ConfigureAwait(false);
        await DestroyUserIndexesAsync(connection, cancellationToken).ConfigureAwait(false);
        // One more command for an administrative operation: no script ran that could have published it.
        var message = _events.Message(SessionEventReason.DestroyedAll, null);
        if (!message.IsNullOrEmpty)
            await RunAsync("destroy all", d => d.PublishAsync(RedisChannel.Literal(_events.Channel), message), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Scans every primary for keys of exactly a session key's shape (the configured prefix, then 43 base64url characters in
    /// braces): O(keyspace), for administration rather than requests.
    /// </remarks>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        var connection = await GuardAsync(_connection, "count", cancellationToken).ConfigureAwait(false);
        long count = 0;
        foreach (var server in Primaries(connection, "count"))
        {
            var keys = server.KeysAsync(pattern: _pattern, pageSize: ScanPageSize).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (await GuardAsync(keys.MoveNextAsync().AsTask(), "count", cancellationToken).ConfigureAwait(false))
                {
                    if (IsSessionKey(keys.Current))
                        count++;
                }
            }
            finally
            {
                await keys.DisposeAsync().ConfigureAwait(false);
            }
        }
        return count;
    }

    /// <summary>Stops raising events and drops this database's subscriptions; closes the connection when the database opened it (a multiplexer passed in is left to its owner).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _events.Stop();
        if (!_ownsConnection)
            return;
        if (_connection.Status == TaskStatus.RanToCompletion)
            _connection.Result.Dispose();
        else
            _ = _connection.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>The connection, for the health check; it completes once the first connection attempt ended.</summary>
    internal Task<IConnectionMultiplexer> Connection => _connection;

    /// <summary><see cref="RedisSessionOptions.OperationTimeout"/>, the health check's time budget.</summary>
    internal TimeSpan OperationTimeout => _timeout;

    /// <summary>The Redis key of session <paramref name="id"/>: the prefix, then the base64url SHA-256 of the ID as a hash tag.</summary>
    internal string KeyOf(string id) => _keys.KeyOf(id);

    /// <summary>The hash of the ID in a session key this database built (the text between the braces).</summary>
    private string HashOfKey(string key) => key.Substring(_prefix.Length + 1, SessionTagLength);

    /// <summary>The handle of session <paramref name="id"/> (<see cref="SessionIds.HashText(string)"/>), taken from its remembered key.</summary>
    private string HandleOf(string id) => HashOfKey(KeyOf(id));

    /// <summary>Deletes every key matching <paramref name="pattern"/> and <paramref name="keep"/> on every primary: SCAN, then pipelined batches.</summary>
    private async Task DeleteMatchingAsync(IConnectionMultiplexer connection, string pattern, Func<RedisKey, bool> keep, CancellationToken cancellationToken)
    {
        var db = connection.GetDatabase();
        var batch = new List<RedisKey>(DeleteBatchSize);
        foreach (var server in Primaries(connection, "destroy all"))
        {
            var keys = server.KeysAsync(pattern: pattern, pageSize: ScanPageSize).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (await GuardAsync(keys.MoveNextAsync().AsTask(), "destroy all", cancellationToken).ConfigureAwait(false))
                {
                    if (!keep(keys.Current))
                        continue;
                    batch.Add(keys.Current);
                    if (batch.Count == DeleteBatchSize)
                        await DeleteAsync(db, batch, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                await keys.DisposeAsync().ConfigureAwait(false);
            }
        }
        await DeleteAsync(db, batch, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether <paramref name="key"/> has exactly the shape of a session key: the prefix, <c>{</c>, 43 base64url characters,
    /// <c>}</c>. The scan's glob already narrows to the prefix and the length; this rejects foreign keys that the glob's
    /// <c>?</c> lets through (a brace or another character inside the tag). End markers never match (they have a suffix).
    /// </summary>
    internal bool IsSessionKey(RedisKey key)
    {
        var name = (string?)key;
        if (name is null || name.Length != _prefix.Length + SessionTagLength + 2 || !name.StartsWith(_prefix, StringComparison.Ordinal)
            || name[_prefix.Length] != '{' || name[name.Length - 1] != '}')
            return false;
        for (var i = _prefix.Length + 1; i < name.Length - 1; i++)
        {
            var c = name[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return false;
        }
        return true;
    }

    /// <summary>The end marker of a session key: the same hash tag, so the same cluster slot; not matched by the scan pattern.</summary>
    internal static RedisKey EndedKeyOf(RedisKey key) => key.Append(RedisScripts.EndedSuffix);

    /// <summary>Reads a session hash; <see langword="null"/> when it is empty or not a session.</summary>
    internal static SessionRecord? Decode(HashEntry[] entries)
    {
        if (entries.Length == 0)
            return null;
        // The values and flashes, to be put back in their rank order: a pooled array, not a list per load.
        var stored = System.Buffers.ArrayPool<(bool IsFlash, long Order, string Key, SessionValue Value)>.Shared.Rent(entries.Length);
        try
        {
            return Decode(entries, stored);
        }
        finally
        {
            System.Buffers.ArrayPool<(bool IsFlash, long Order, string Key, SessionValue Value)>.Shared.Return(stored, clearArray: true);
        }
    }

    private static SessionRecord? Decode(HashEntry[] entries, (bool IsFlash, long Order, string Key, SessionValue Value)[] stored)
    {
        var count = 0;
        long? idle = null;
        long absolute = 0;
        long version = 0;
        string? user = null;
        long signedIn = 0;
        // Names and numbers are read from the reply's bytes, copied onto the stack: only a value's key and a user become strings.
        Span<byte> nameScratch = stackalloc byte[ScratchBytes];
        Span<byte> valueScratch = stackalloc byte[ScratchBytes];
        foreach (var entry in entries)
        {
            var name = BytesOf(entry.Name, nameScratch);
            if (name.IsEmpty)
                continue;
            switch (name[0])
            {
                case (byte)'#':
                    if (name.SequenceEqual("#i"u8))
                    {
                        if (!TryParseTicks(entry.Value, out var ticks) || ticks == 0)
                            return null;
                        idle = ticks;
                    }
                    else if (name.SequenceEqual("#a"u8))
                    {
                        if (!entry.Value.IsNullOrEmpty && !TryParseTicks(entry.Value, out absolute))
                            return null;
                    }
                    else if (name.SequenceEqual("#v"u8))
                    {
                        TryParseDigits(BytesOf(entry.Value, valueScratch), out version);
                    }
                    else if (name.SequenceEqual("#u"u8))
                    {
                        user = (string?)entry.Value;
                    }
                    else if (name.SequenceEqual("#ui"u8))
                    {
                        TryParseTicks(entry.Value, out signedIn);
                    }
                    break;
                case (byte)'v':
                case (byte)'f':
                    if (name.Length < 2 || !TryDecodeStored(BytesOf(entry.Value, valueScratch), out var order, out var value))
                        continue; // a corrupt or foreign field is dropped, the rest of the session stays
                    stored[count++] = (name[0] == 'f', order, KeyOfField(name), value);
                    break;
            }
        }
        if (idle is null)
            return null;
        var record = new SessionRecord(absolute == 0 ? null : new DateTimeOffset(absolute, TimeSpan.Zero), new DateTimeOffset(idle.Value, TimeSpan.Zero), version);
        if (!string.IsNullOrEmpty(user))
        {
            record.User = user;
            record.SignedInAt = signedIn == 0 ? null : new DateTimeOffset(signedIn, TimeSpan.Zero);
        }
        Array.Sort(stored, 0, count, RankOrder.Instance);
        for (var i = 0; i < count; i++)
        {
            var (isFlash, _, key, value) = stored[i];
            if (isFlash)
                record.SetFlash(key, value.Value);
            else
                record.SetValue(key, value);
        }
        return record;
    }

    /// <summary>Values before flashes, each in the order their keys were first set (the rank the commit script stores).</summary>
    private sealed class RankOrder : IComparer<(bool IsFlash, long Order, string Key, SessionValue Value)>
    {
        public static readonly RankOrder Instance = new();

        public int Compare((bool IsFlash, long Order, string Key, SessionValue Value) x, (bool IsFlash, long Order, string Key, SessionValue Value) y) =>
            x.IsFlash != y.IsFlash ? x.IsFlash.CompareTo(y.IsFlash) : x.Order.CompareTo(y.Order);
    }

    private static bool TryDecodeStored(ReadOnlySpan<byte> bytes, out long order, out SessionValue value)
    {
        value = default;
        var colon = bytes.Slice(0, Math.Min(bytes.Length, 20)).IndexOf((byte)':');
        if (colon <= 0 || !TryParseDigits(bytes.Slice(0, colon), out order))
        {
            order = 0;
            return false;
        }
        try
        {
            return SessionValueCodec.TryDecode(bytes.Slice(colon + 1), out value);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false; // whatever the bytes are, they are not a value this database wrote
        }
    }

    /// <summary>The key a value or flash field names: its name (UTF-8) less the v or f.</summary>
    private static string KeyOfField(ReadOnlySpan<byte> name)
    {
#if NET
        return System.Text.Encoding.UTF8.GetString(name.Slice(1));
#else
        return System.Text.Encoding.UTF8.GetString(name.Slice(1).ToArray());
#endif
    }

    /// <summary>The stack space <see cref="Decode(HashEntry[])"/> copies a reply's names and values into.</summary>
    private const int ScratchBytes = 256;

    /// <summary>
    /// The bytes of a reply's name or value: copied into <paramref name="scratch"/> when they fit, because
    /// StackExchange.Redis keeps a short reply inside the <see cref="RedisValue"/> itself (and a number as a number), and
    /// casting it to memory would copy it into a new array; a longer one is read where it lies. Valid until the next call
    /// with the same scratch.
    /// </summary>
    private static ReadOnlySpan<byte> BytesOf(RedisValue value, Span<byte> scratch) =>
        value.GetByteCount() <= scratch.Length ? scratch.Slice(0, value.CopyTo(scratch)) : ((ReadOnlyMemory<byte>)value).Span;

    private static bool TryParseTicks(RedisValue text, out long ticks)
    {
        if (text.IsInteger) // the client hands a reply that is a plain number back as a number: no digits to write out again
        {
            if (text.TryParse(out ticks) && ticks >= 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks)
                return true;
            ticks = 0;
            return false;
        }
        Span<byte> scratch = stackalloc byte[20]; // more digits than any tick count has
        return TryParseDigits(BytesOf(text, scratch), out ticks) && ticks <= DateTimeOffset.MaxValue.UtcTicks;
    }

    /// <summary>A non-negative decimal written with digits only, as the scripts and this class write numbers.</summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
            return false;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9' || value > (long.MaxValue - (digit - '0')) / 10)
            {
                value = 0;
                return false;
            }
            value = value * 10 + (digit - '0');
        }
        return true;
    }

    /// <summary>Sets a deadline at <paramref name="at"/> as UTC ticks (what a load reads), then Unix milliseconds (what the scripts compute expiries from); two empty strings for none.</summary>
    private static void SetDeadline(RedisValue[] argv, int at, DateTimeOffset? deadline)
    {
        if (deadline is not { } d)
        {
            argv[at] = argv[at + 1] = RedisValue.EmptyString;
            return;
        }
        argv[at] = d.UtcTicks; // a RedisValue holds a long as it is and writes its digits: no string per commit
        argv[at + 1] = d.ToUnixTimeMilliseconds();
    }

    private static RedisValue ValueField(string key) => "v" + key;

    private static RedisValue FlashField(string key) => "f" + key;

    private static SessionLimitExceededException TooLarge(int maxPayloadBytes) =>
        new($"The session would hold more than {maxPayloadBytes} bytes of values and flashes (SessionConfig.MaxPayloadBytes); the commit was refused and the stored session is unchanged.");

    private static async Task<RedisResult> EvaluateAsync(IDatabase db, RedisScript script, RedisKey[] keys, RedisValue[] argv)
    {
        try
        {
            return await db.ScriptEvaluateAsync(script.Hash, keys, argv).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (IsNoScript(e))
        {
            // First run on this server (or its script cache was flushed): EVAL sends the text and caches it.
            return await db.ScriptEvaluateAsync(script.Text, keys, argv).ConfigureAwait(false);
        }
    }

    private static bool IsWrongType(RedisServerException e) => e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal);

    private static bool IsNoScript(RedisServerException e) => e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    private async Task DeleteAsync(IDatabase db, List<RedisKey> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
            return;
        // One UNLINK (or DEL) per key, pipelined: keys of a cluster batch live in different slots.
        var deletes = new Task<bool>[batch.Count];
        for (var i = 0; i < batch.Count; i++)
            deletes[i] = db.KeyDeleteAsync(batch[i]);
        batch.Clear();
        await GuardAsync(Task.WhenAll(deletes), "destroy all", cancellationToken).ConfigureAwait(false);
    }

    internal static List<IServer> Primaries(IConnectionMultiplexer connection, string operation)
    {
        var primaries = new List<IServer>();
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (!server.IsConnected)
                throw new SessionDatabaseException($"Redis server {endpoint} is not connected: {operation} cannot reach every session.");
            if (!server.IsReplica)
                primaries.Add(server);
        }
        if (primaries.Count == 0)
            throw new SessionDatabaseException($"No Redis primary is connected: {operation} failed.");
        return primaries;
    }

    /// <summary>
    /// Runs one operation's commands once connected, within the operation timeout. With <paramref name="oneRoundTrip"/>
    /// (the commands go out together, a NOSCRIPT retry aside) on a connection this database made, StackExchange.Redis's
    /// own timeout bounds them (see <see cref="Configure"/>), so with no caller's token to honour they are awaited as they are.
    /// </summary>
    private Task<T> RunAsync<T>(string operation, Func<IDatabase, Task<T>> command, CancellationToken cancellationToken, bool oneRoundTrip = false)
    {
        var db = ConnectedDatabase(cancellationToken);
        if (db is not null)
        {
            // Connected (every call but the first few): the command goes out now, with no token or wrapper for a wait that cannot happen.
            Task<T> work;
            try
            {
                work = command(db);
            }
            catch (Exception e)
            {
                work = Task.FromException<T>(e); // failed before sending: GuardAsync turns it into the database's failure
            }
            return GuardAsync(work, operation, cancellationToken, timedOutByRedis: oneRoundTrip && _ownsConnection);
        }
        var abandoned = new CancellationTokenSource();
        return GuardAsync(ExecuteAsync(command, abandoned.Token), operation, cancellationToken, abandoned);
    }

    /// <summary>The database to send to, once connected (<see langword="null"/> while connecting); throws when disposed or cancelled.</summary>
    private IDatabase? ConnectedDatabase(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(RedisSessionDatabase));
        cancellationToken.ThrowIfCancellationRequested();
        return _connection.Status == TaskStatus.RanToCompletion ? _connection.Result.GetDatabase() : null;
    }

    /// <summary>
    /// The database for a one-round-trip command that needs no guard: connected, on a connection this database made
    /// (StackExchange.Redis times the command out itself, see <see cref="Configure"/>). Await its command through <see cref="Honouring"/>.
    /// </summary>
    private IDatabase? DirectDatabase(CancellationToken cancellationToken) =>
#if NET
        _ownsConnection ? ConnectedDatabase(cancellationToken) : null;
#else
        _ownsConnection && !cancellationToken.CanBeCanceled ? ConnectedDatabase(cancellationToken) : null; // no Task.WaitAsync: the guard honours the token
#endif

    /// <summary>
    /// A command StackExchange.Redis times out itself, awaited as it is, or, with a token that can be cancelled (a
    /// caller's, or the request's abort for a load), until that token fires: only then a wait of our own, with no timer.
    /// A command left behind so is already sent; observe it when abandoning it (<see cref="Observe"/>).
    /// </summary>
    private static Task<T> Honouring<T>(Task<T> command, CancellationToken cancellationToken) =>
#if NET
        cancellationToken.CanBeCanceled && !command.IsCompleted ? command.WaitAsync(cancellationToken) : command;
#else
        command; // only reached without a token that can be cancelled (see DirectDatabase)
#endif

    private async Task<T> ExecuteAsync<T>(Func<IDatabase, Task<T>> command, CancellationToken abandoned)
    {
        var connection = await _connection.ConfigureAwait(false);
        // The caller gave up while the connection was being made: send nothing it was told failed.
        abandoned.ThrowIfCancellationRequested();
        return await command(connection.GetDatabase()).ConfigureAwait(false);
    }

    /// <summary>Waits for <paramref name="work"/> at most the operation timeout and turns every Redis failure into a <see cref="SessionDatabaseException"/>.</summary>
    private async Task<T> GuardAsync<T>(Task<T> work, string operation, CancellationToken cancellationToken, CancellationTokenSource? abandoned = null, bool timedOutByRedis = false)
    {
        try
        {
            // When StackExchange.Redis times the command out itself, only a token needs a wait of our own, and no timer
            // (see Honouring): Task.WaitAsync with a timeout costs about 1.7 µs of CPU per command.
#if NET
            if (timedOutByRedis)
#else
            if (timedOutByRedis && !cancellationToken.CanBeCanceled)
#endif
                return await Honouring(work, cancellationToken).ConfigureAwait(false);
#if NET
            return await work.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
#else
            if (!work.IsCompleted)
            {
                using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var finished = await Task.WhenAny(work, Task.Delay(_timeout, delayCancellation.Token)).ConfigureAwait(false);
                delayCancellation.Cancel();
                if (finished != work)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new TimeoutException();
                }
            }
            return await work.ConfigureAwait(false);
#endif
        }
        catch (Exception e) when (e is TimeoutException or RedisException)
        {
            abandoned?.Cancel();
            Observe(work);
            throw Failure(e, operation);
        }
        catch (OperationCanceledException)
        {
            abandoned?.Cancel();
            Observe(work);
            throw;
        }
    }

    /// <summary>What a caller sees when Redis timed out, is unreachable or refused <paramref name="operation"/>.</summary>
    private SessionDatabaseException Failure(Exception e, string operation) => e switch
    {
        TimeoutException => new SessionDatabaseException($"Redis did not answer the session {operation} within {_timeout.TotalMilliseconds:0} ms (RedisSessionOptions.OperationTimeout); it may be down or stalled.", e),
        RedisConnectionException connection => new SessionDatabaseException($"Redis is unreachable ({connection.FailureType}): the session {operation} failed.", e),
        RedisServerException => new SessionDatabaseException($"Redis refused the session {operation}: {FirstLine(e.Message)}", e),
        _ => new SessionDatabaseException($"The session {operation} failed in Redis ({e.GetType().Name}).", e),
    };

    /// <summary>An abandoned command may still fail later; observe it so it is not reported as unobserved.</summary>
    private static void Observe(Task work)
    {
        if (!work.IsCompleted)
            _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    internal static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        var line = end < 0 ? message : message.Substring(0, end);
        return line.Length <= 200 ? line : line.Substring(0, 200);
    }

    private static ConfigurationOptions Configure(string configuration, RedisSessionOptions options)
    {
        if (configuration is null)
            throw new ArgumentNullException(nameof(configuration));
        var config = ConfigurationOptions.Parse(configuration);
        config.AbortOnConnectFail = false; // start while Redis is down; operations fail until it answers
        // StackExchange.Redis times out a command itself: OperationTimeout, checked on its heartbeat, run every quarter of
        // it (at most every second), so a command fails at most a quarter late. That bounds a one-round-trip operation
        // without a timer or promise of our own (see RunAsync); every other operation also has our own deadline.
        var timeout = (int)Math.Min(int.MaxValue, Math.Ceiling(options.OperationTimeout.TotalMilliseconds));
        config.AsyncTimeout = timeout;
        config.SyncTimeout = timeout;
        config.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Min(1000, Math.Max(10, timeout / 4)));
        // While disconnected, fail at once instead of queueing: a queued write could reach Redis after the caller was
        // told it failed, and requests would pile up for the whole timeout.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        if (options.ConfigureKeyspaceNotifications)
            config.AllowAdmin = true; // CONFIG SET notify-keyspace-events, asked for explicitly
        return config;
    }

    private static async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions config)
    {
        await Task.Yield(); // never connect on the constructor's thread
        return await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
    }

    private static string EscapeGlob(string prefix)
    {
        var escaped = new StringBuilder(prefix.Length + 8);
        foreach (var c in prefix)
        {
            if (c is '*' or '?' or '[' or ']' or '\\' or '^' or '-')
                escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }
}
