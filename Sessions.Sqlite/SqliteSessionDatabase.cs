using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <summary>
/// An embedded durable database: sessions in one SQLite file (WAL mode), so they survive process restarts and crashes
/// with nothing to install. A load is one query; a commit is one transaction that writes only the keys and deadlines the
/// request changed, so two requests changing different keys of a session both survive. Sessions are stored under
/// <see cref="SessionIds.Hash"/> of their ID: raw IDs are never stored. Expired sessions are purged in the background in bounded batches.
/// </summary>
/// <remarks>
/// <para>One process at a time: opening takes an exclusive lock on <c>PATH.lock</c> beside the file (released by the
/// operating system if the process dies), so a second process, or a second instance in this process, fails at once with
/// <see cref="SessionDatabaseException"/> instead of racing on the file. Share sessions between processes through Redis.
/// A database file or lock file this class creates is readable and writable by its owner only (mode 0600 on Unix).</para>
/// <para>Opening never replaces an existing file: a file that is not SQLite, is damaged, read-only, locked or holds another
/// schema fails with <see cref="SessionDatabaseException"/> naming the path and the cause. A stored value that cannot be
/// read back is dropped from the loaded session; no type names are read from the file.</para>
/// <para>A session holds at most <see cref="SessionChanges.MaxPayloadBytes"/> (the manager's
/// <see cref="SessionConfig.MaxPayloadBytes"/>), counted with <see cref="SessionValueCodec.PayloadSize"/>; whatever that
/// limit, one value or flash holds at most 16 MiB.</para>
/// <para>Microsoft.Data.Sqlite is synchronous: an operation runs on the calling thread once it has a connection (loads in
/// parallel, writes one at a time), so with <see cref="SqliteSynchronousMode.Full"/> a commit includes the disk sync.
/// Waiting for a connection is asynchronous, so <see cref="CompletesSynchronously"/> is <see langword="false"/>.</para>
/// <para>Group commit: commits that arrive while another is being written are applied together by one writer, in one
/// transaction (each in its own savepoint, so one commit's refusal or error rolls back only its own writes) and
/// acknowledged after one COMMIT, so with <see cref="SqliteSynchronousMode.Full"/> one disk sync serves the whole group and
/// no acknowledged commit can be lost. A lone commit goes at once; see <see cref="SqliteSessionDatabaseOptions.GroupCommitDelay"/>.
/// A queued commit that times out or is cancelled before its group's transaction has begun is not applied.</para>
/// <para>Every operation ends within <see cref="SqliteSessionDatabaseOptions.OperationTimeout"/>: waiting for the writes
/// queued before it, for a free connection and for the file's write lock (another connection holding it) all count, and
/// past it the operation fails with <see cref="SessionDatabaseException"/> naming that setting, having written nothing.
/// The caller's token ends any of these waits with <see cref="OperationCanceledException"/>. A write whose transaction has
/// begun waits for no lock and runs to its end, so a write is never half-applied.</para>
/// <para>The purge reports each session it deletes through <see cref="ISessionEventSource"/>, by the hash of its ID
/// (only hashes are stored), so the manager raises <see cref="SessionEventReason.Expired"/> for it with
/// <see cref="SessionEventArgs.IdHash"/>; the manager still refuses every expired session it loads.</para>
/// </remarks>
public sealed partial class SqliteSessionDatabase : ISessionDatabase, ISessionCounter, ISessionEventSource, IUserSessionIndex, IDisposable, IAsyncDisposable
{
    private const string LoadSql = """
        SELECT s.absolute_deadline, s.idle_deadline, s.version, i.kind, i.name, i.payload, s.user, s.signed_in
        FROM session AS s LEFT JOIN session_item AS i ON i.session = s.id
        WHERE s.key = $key
        ORDER BY i.kind, i.ord
        """;
    private const string FindSql = "SELECT id FROM session WHERE key = $key";
    private const string RekeySql = "UPDATE session SET key = $key WHERE id = $session";
    private const string UpdateDeadlinesSql = "UPDATE session SET absolute_deadline = $absolute, idle_deadline = $idle, expires_at = $expires WHERE key = $key";
    private const string DestroyItemsSql = "DELETE FROM session_item WHERE session = (SELECT id FROM session WHERE key = $key)";
    private const string DestroySessionSql = "DELETE FROM session WHERE key = $key";
    private const string CountSql = "SELECT count(*) FROM session";

    private readonly SqliteSessionDatabaseOptions _options;
    private readonly SqliteFileGuard _file;
    private readonly SqliteConnectionPool _pool;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly SqlitePurger _purger;
    private readonly ConditionalWeakTable<SessionChanges, StrongBox<long>> _created = new();
    private readonly object _queueLock = new();
    private readonly List<QueuedCommit> _queue = [];
    private bool _draining;
    private long _groups;
    private volatile string _waitingFor = "waiting for the other writes of this database queued before it";
    private int _disposed;

    /// <summary>Opens (or creates) the session database in the file at <paramref name="path"/>.</summary>
    /// <param name="path">The database file; its directory must exist. <c>PATH.lock</c>, <c>PATH-wal</c> and <c>PATH-shm</c> live beside it.</param>
    /// <param name="options">Durability, connection and purge settings (the defaults when <see langword="null"/>).</param>
    /// <param name="timeProvider">
    /// The clock that decides which sessions the purge deletes: pass the manager's clock (<see cref="SessionConfig.TimeProvider"/>).
    /// <see cref="TimeProvider.System"/> when <see langword="null"/>.
    /// </param>
    /// <exception cref="ArgumentException">The path is empty, or an option is invalid (the message names it).</exception>
    /// <exception cref="SessionDatabaseException">
    /// The file cannot be used: its directory is missing, it is locked by another process, read-only, not a SQLite database,
    /// damaged, or holds another schema. The message names the path and the cause; the file is left untouched.
    /// </exception>
    public SqliteSessionDatabase(string path, SqliteSessionDatabaseOptions? options = null, TimeProvider? timeProvider = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("The session database path must not be empty.", nameof(path));
        _options = options ?? new SqliteSessionDatabaseOptions();
        _options.Validate();
        Path = System.IO.Path.GetFullPath(path);
        _file = new SqliteFileGuard(Path, _options);
        SqliteConnection? first = null;
        try
        {
            first = _file.OpenAndVerify();
            _pool = new SqliteConnectionPool(_options.MaxConnections, _file.OpenConnection);
            _pool.Seed(first);
        }
        catch
        {
            first?.Dispose();
            _file.Dispose();
            throw;
        }
        _purger = new SqlitePurger(timeProvider ?? TimeProvider.System, _options, Write, e => PurgeFailed?.Invoke(e), OnPurged);
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: each load builds a private record; changes reach the file at commit.</remarks>
    public bool SharesRecords => false;

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: an operation may wait for a connection or for the write lock.</remarks>
    public bool CompletesSynchronously => false;

    /// <summary>The settings in use, for the health check's time budget.</summary>
    internal SqliteSessionDatabaseOptions Options => _options;

    /// <summary>The connection pool, for tests that hold every connection to prove operations wait within their time budget.</summary>
    internal SqliteConnectionPool Pool => _pool;

    /// <summary>The commit groups committed so far (each one transaction and one sync), for tests that prove commits were grouped.</summary>
    internal long CommitGroups => Interlocked.Read(ref _groups);

    /// <summary>The commits queued and not yet taken into a group, for tests that queue several before letting a group run.</summary>
    internal int QueuedCommits
    {
        get
        {
            lock (_queueLock)
                return _queue.Count;
        }
    }

    /// <summary>Raised when a background purge fails (the next one retries); the exception never reaches a request.</summary>
    public event Action<Exception>? PurgeFailed;

    /// <inheritdoc />
    /// <remarks>
    /// Raised with <see cref="SessionEventReason.Expired"/> for each session a purge deleted, after its transaction
    /// committed and outside the write lock, named by <see cref="SessionEventArgs.IdHash"/> (the ID is not stored).
    /// </remarks>
    public event Action<SessionEventArgs>? SessionEvent;

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed (I/O error, damaged file, lock timeout), or the operation timed out.</exception>
    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) =>
        ReadAsync("load a session", SessionIds.Hash(id), static (connection, key) => Load(connection, key), cancellationToken);

    /// <inheritdoc />
    /// <exception cref="SessionLimitExceededException">
    /// The session would hold more than <see cref="SessionChanges.MaxPayloadBytes"/> (or one item more than 16 MiB); nothing was written.
    /// </exception>
    /// <exception cref="ArgumentException">A value cannot be serialised to JSON.</exception>
    /// <exception cref="SessionDatabaseException">SQLite failed; nothing was written.</exception>
    public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (record is null)
            throw new ArgumentNullException(nameof(record));
        if (changes is null)
            throw new ArgumentNullException(nameof(changes));
        var plan = new SqliteCommitPlan(record, changes); // serialised and size-checked before the write lock
        var key = SessionIds.Hash(id);
        ThrowIfDisposed(cancellationToken);
        using var deadline = new SqliteDeadline(_options.OperationTimeout, cancellationToken);
        var commit = new QueuedCommit(plan, key, deadline);
        bool lead;
        lock (_queueLock)
        {
            _queue.Add(commit);
            lead = !_draining;
            _draining = true;
        }
        using (deadline.Token.Register(static state => ((QueuedCommit)state!).Abandon(), commit))
        {
            if (lead)
                _ = DrainAsync(leader: true); // a lone commit goes at once, on the caller's thread (never awaited: the caller's own timeout and token still end its wait)
            try
            {
                return await commit.Outcome.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (commit.AbandonedBeforeGroup)
            {
                if (deadline.Expired)
                    throw TimedOut("commit a session", deadline, _waitingFor);
                throw;
            }
        }
    }

    /// <summary>
    /// Group commit: applies every commit queued now in one transaction, each in its own savepoint (so a refused commit
    /// rolls back only its own writes), and acknowledges them after one COMMIT, which with <see cref="SqliteSynchronousMode.Full"/>
    /// is one disk sync. The leader (the commit that found no group running) runs the first group itself; later groups
    /// (commits that queued meanwhile) run on the thread pool until the queue is empty.
    /// </summary>
    private async Task DrainAsync(bool leader)
    {
        var previousGroup = 0;
        while (true)
        {
            try
            {
                previousGroup = await RunGroupAsync(previousGroup).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                FailQueued(e); // never leave a queued commit waiting
            }
            lock (_queueLock)
            {
                if (_queue.Count == 0)
                {
                    _draining = false;
                    return;
                }
            }
            if (leader)
            {
                _ = Task.Run(() => DrainAsync(leader: false));
                return;
            }
        }
    }

    private List<QueuedCommit> TakeQueued()
    {
        List<QueuedCommit> queued;
        lock (_queueLock)
        {
            queued = [.. _queue];
            _queue.Clear();
        }
        queued.RemoveAll(c => !c.Start());
        return queued;
    }

    private void FailQueued(Exception e)
    {
        foreach (var commit in TakeQueued())
            commit.Outcome.TrySetException(e);
    }

    private async Task<int> RunGroupAsync(int previousGroup)
    {
        const string what = "commit a session";
        _waitingFor = "waiting for the other writes of this database queued before it";
        await _writeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                FailQueued(new ObjectDisposedException(nameof(SqliteSessionDatabase)));
                return 0;
            }
            var delay = _options.GroupCommitDelay;
            if (delay > TimeSpan.Zero && previousGroup > 1)
            {
                int count;
                lock (_queueLock)
                    count = _queue.Count;
                if (count > 0 && count < previousGroup)
                    await Task.Delay(delay).ConfigureAwait(false); // commits are arriving concurrently: wait briefly for company
            }
            using var deadline = new SqliteDeadline(_options.OperationTimeout, CancellationToken.None);
            _waitingFor = "waiting for a free connection (all SqliteSessionDatabaseOptions.MaxConnections are busy)";
            PooledConnection connection;
            try
            {
                connection = await _pool.RentAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                FailQueued(TimedOut(what, deadline, _waitingFor));
                return 0;
            }
            var broken = true;
            List<QueuedCommit> group = [];
            try
            {
                _waitingFor = "waiting for the file's write lock, held by another connection to it";
                try
                {
                    await BeginAsync(connection, deadline, what).ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    broken = !TryRollback(connection);
                    FailQueued(e);
                    return 0;
                }
                group = TakeQueued(); // from here these commits are applied: none can time out or be cancelled
                var outcomes = new (bool Result, long? Created, Exception? Error)[group.Count];
                for (var i = 0; i < group.Count; i++)
                {
                    connection.Execute("SAVEPOINT c");
                    try
                    {
                        var result = group[i].Plan.Apply(connection, group[i].Key, _created, out var created);
                        connection.Execute(result ? "RELEASE c" : "ROLLBACK TO c; RELEASE c");
                        outcomes[i] = (result, created, null);
                    }
                    catch (Exception e)
                    {
                        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Connection.Handle) != 0)
                            throw; // the transaction is gone: every commit of the group fails below
                        connection.Execute("ROLLBACK TO c; RELEASE c");
                        outcomes[i] = (false, null, e is SqliteException sqlite ? Failed(what, sqlite) : e);
                    }
                }
                connection.Execute("COMMIT");
                broken = false;
                Interlocked.Increment(ref _groups);
                for (var i = 0; i < group.Count; i++)
                {
                    if (outcomes[i].Error is { } error)
                    {
                        group[i].Outcome.TrySetException(error);
                        continue;
                    }
                    if (outcomes[i].Created is { } row)
                        group[i].Plan.Acknowledge(_created, row);
                    group[i].Outcome.TrySetResult(outcomes[i].Result);
                }
                return group.Count;
            }
            catch (Exception e)
            {
                broken = !TryRollback(connection);
                var error = e is SqliteException sqlite ? Failed(what, sqlite, deadline) : e;
                foreach (var commit in group)
                    commit.Outcome.TrySetException(error);
                return 0;
            }
            finally
            {
                _pool.Return(connection, broken);
            }
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>A commit waiting for its group: abandoned (not applied) if its time runs out or its caller cancels before the group takes it.</summary>
    private sealed class QueuedCommit(SqliteCommitPlan plan, byte[] key, SqliteDeadline deadline)
    {
        private const int Queued = 0, Started = 1, Abandoned = 2;
        private int _state;

        public SqliteCommitPlan Plan { get; } = plan;

        public byte[] Key { get; } = key;

        public TaskCompletionSource<bool> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool AbandonedBeforeGroup => Volatile.Read(ref _state) == Abandoned;

        /// <summary>Taken into a group whose transaction has begun; <see langword="false"/> when already abandoned.</summary>
        public bool Start() => Interlocked.CompareExchange(ref _state, Started, Queued) == Queued;

        public void Abandon()
        {
            if (Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued)
                Outcome.TrySetCanceled(deadline.CallerCancelled.IsCancellationRequested ? deadline.CallerCancelled : deadline.Token);
        }
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        var key = SessionIds.Hash(id);
        return WriteAsync("update a session's deadlines", connection =>
        {
            var command = connection.Command(UpdateDeadlinesSql, "$absolute", "$idle", "$expires", "$key");
            SqliteCommitPlan.SetDeadlines(command, absoluteDeadline, idleDeadline);
            command.Parameters[3].Value = key;
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>One transaction changes the key of the session's row; its values and flashes, which reference the row, move with it.</remarks>
    /// <exception cref="SessionDatabaseException">SQLite failed; nothing changed.</exception>
    public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken)
    {
        var key = SessionIds.Hash(id);
        var newKey = SessionIds.Hash(newId);
        return WriteAsync("renew a session", connection =>
        {
            var session = Find(connection, key);
            var refused = session is null ? SessionRenewResult.NotFound
                : Find(connection, newKey) is not null ? SessionRenewResult.IdInUse
                : (SessionRenewResult?)null;
            if (refused is { } result)
            {
                connection.Execute("ROLLBACK");
                return result;
            }
            var rekey = connection.Command(RekeySql, "$key", "$session");
            rekey.Parameters[0].Value = newKey;
            rekey.Parameters[1].Value = session!.Value;
            rekey.ExecuteNonQuery();
            connection.Execute("COMMIT");
            return SessionRenewResult.Renewed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed; the session may still exist.</exception>
    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        var key = SessionIds.Hash(id);
        return WriteAsync("destroy a session", connection =>
        {
            var items = connection.Command(DestroyItemsSql, "$key");
            items.Parameters[0].Value = key;
            items.ExecuteNonQuery();
            var session = connection.Command(DestroySessionSql, "$key");
            session.Parameters[0].Value = key;
            var existed = session.ExecuteNonQuery() > 0;
            connection.Execute("COMMIT");
            return existed;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed; no session was deleted.</exception>
    public async ValueTask DestroyAllAsync(CancellationToken cancellationToken) =>
        await WriteAsync("destroy every session", connection =>
        {
            connection.Execute("DELETE FROM session_item");
            connection.Execute("DELETE FROM session");
            connection.Execute("COMMIT");
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public ValueTask<long> CountAsync(CancellationToken cancellationToken) =>
        ReadAsync("count sessions", 0, static (connection, _) => (long)connection.Command(CountSql).ExecuteScalar()!, cancellationToken);

    /// <summary>
    /// Deletes every session expired now, in transactions of at most <see cref="SqliteSessionDatabaseOptions.PurgeBatchSize"/>
    /// sessions (commits run between them), on the calling thread. The background purge calls it every
    /// <see cref="SqliteSessionDatabaseOptions.PurgeInterval"/>.
    /// </summary>
    /// <returns>The number of sessions deleted.</returns>
    /// <exception cref="SessionDatabaseException">SQLite failed; sessions deleted by earlier batches stay deleted.</exception>
    public int PurgeExpired() => _purger.PurgeExpired();

    private void OnPurged(byte[] key)
    {
        // Where a per-user index of sessions must drop this session too, once that index exists.
        SessionEvent?.Invoke(SessionEventArgs.ForHash(SessionEventReason.Expired, SessionIds.HashText(key)));
    }

    /// <summary>Stops the purge, waits briefly for running operations, closes the file and releases its lock.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _purger.Dispose();
        var gated = _writeGate.Wait(_options.BusyTimeout);
        _pool.Dispose(_options.BusyTimeout);
        _file.Dispose();
        if (gated)
            _writeGate.Release();
    }

    /// <summary>Disposes (see <see cref="Dispose"/>).</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    private void ThrowIfDisposed(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SqliteSessionDatabase));
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Runs a read on a pooled connection within the operation timeout and the caller's token; a SQLite failure becomes a
    /// <see cref="SessionDatabaseException"/> naming <paramref name="what"/>. <paramref name="state"/> lets the read be a static lambda.
    /// </summary>
    private async ValueTask<T> ReadAsync<TState, T>(string what, TState state, Func<PooledConnection, TState, T> read, CancellationToken cancellationToken)
    {
        ThrowIfDisposed(cancellationToken);
        using var deadline = new SqliteDeadline(_options.OperationTimeout, cancellationToken);
        var connection = await RentAsync(deadline, what).ConfigureAwait(false);
        var broken = true;
        try
        {
            SetBusyTimeout(connection, deadline);
            var result = read(connection, state);
            broken = false;
            return result;
        }
        catch (SqliteException e)
        {
            throw Failed(what, e, deadline);
        }
        finally
        {
            _pool.Return(connection, broken);
        }
    }

    /// <summary>
    /// Runs a write in one transaction under the in-process write lock (SQLite has one writer; waiting here beats spinning
    /// on SQLITE_BUSY). The write queue, a free connection and the file's write lock are waited for within the operation
    /// timeout and the caller's token; once the transaction has begun, the write runs to its end (commit or rollback).
    /// </summary>
    private async ValueTask<T> WriteAsync<T>(string what, Func<PooledConnection, T> write, CancellationToken cancellationToken)
    {
        ThrowIfDisposed(cancellationToken);
        using var deadline = new SqliteDeadline(_options.OperationTimeout, cancellationToken);
        try
        {
            if (!_writeGate.Wait(0))
                await _writeGate.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            throw TimedOut(what, deadline, "waiting for the other writes of this database queued before it");
        }
        try
        {
            var connection = await RentAsync(deadline, what).ConfigureAwait(false);
            try
            {
                await BeginAsync(connection, deadline, what).ConfigureAwait(false);
            }
            catch
            {
                _pool.Return(connection, broken: !TryRollback(connection));
                throw;
            }
            return Run(connection, what, write, deadline);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary><see cref="WriteAsync"/> blocking the calling thread (the purge), within the operation timeout.</summary>
    private T Write<T>(string what, Func<PooledConnection, T> write)
    {
        ThrowIfDisposed(CancellationToken.None);
        using var deadline = new SqliteDeadline(_options.OperationTimeout, CancellationToken.None);
        if (!_writeGate.Wait(deadline.Remaining))
            throw TimedOut(what, deadline, "waiting for the other writes of this database queued before it");
        try
        {
            var connection = _pool.Rent(deadline.Remaining) ?? throw TimedOut(what, deadline, "waiting for a free connection");
            try
            {
                SetBusyTimeout(connection, deadline);
                var rc = SQLitePCL.raw.sqlite3_exec(connection.Connection.Handle, "BEGIN IMMEDIATE");
                if (rc != SQLitePCL.raw.SQLITE_OK)
                    ThrowBeginFailed(connection, rc, what, deadline, deadline.Elapsed);
            }
            catch
            {
                _pool.Return(connection, broken: !TryRollback(connection));
                throw;
            }
            return Run(connection, what, write, deadline);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    /// <summary>Rents a connection within the operation's time budget.</summary>
    private async ValueTask<PooledConnection> RentAsync(SqliteDeadline deadline, string what)
    {
        PooledConnection connection;
        try
        {
            connection = await _pool.RentAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            throw TimedOut(what, deadline, "waiting for a free connection (all SqliteSessionDatabaseOptions.MaxConnections are busy)");
        }
        if (deadline.CallerCancelled.IsCancellationRequested)
        {
            // The connection came free as the caller gave up: do nothing the caller was told was cancelled.
            _pool.Return(connection);
            deadline.CallerCancelled.ThrowIfCancellationRequested();
        }
        return connection;
    }

    /// <summary>
    /// Begins the write transaction (<c>BEGIN IMMEDIATE</c>, which takes the file's write lock), retrying asynchronously
    /// while another connection to the file holds that lock, until <see cref="SqliteSessionDatabaseOptions.BusyTimeout"/>,
    /// the operation timeout or the caller's cancellation. Nothing is written before it returns.
    /// </summary>
    private async ValueTask BeginAsync(PooledConnection connection, SqliteDeadline deadline, string what)
    {
        var handle = connection.Connection.Handle;
        SQLitePCL.raw.sqlite3_busy_timeout(handle, 0); // this loop waits, asynchronously
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var pause = 1;
        while (true)
        {
            var rc = SQLitePCL.raw.sqlite3_exec(handle, "BEGIN IMMEDIATE");
            if (rc == SQLitePCL.raw.SQLITE_OK)
                break;
            if (!IsBusy(rc) || deadline.Remaining <= TimeSpan.Zero || waited.Elapsed >= _options.BusyTimeout)
                ThrowBeginFailed(connection, rc, what, deadline, waited.Elapsed);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(pause, Math.Max(1, deadline.Remaining.TotalMilliseconds))), deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.Expired)
            {
                throw TimedOut(what, deadline, "waiting for the file's write lock, held by another connection to it");
            }
            pause = Math.Min(pause * 2, 25);
        }
        SetBusyTimeout(connection, deadline);
    }

    private void ThrowBeginFailed(PooledConnection connection, int rc, string what, SqliteDeadline deadline, TimeSpan waited)
    {
        if (IsBusy(rc) && deadline.LockWaitTimedOut)
            throw TimedOut(what, deadline, "waiting for the file's write lock, held by another connection to it");
        if (IsBusy(rc))
            throw new SessionDatabaseException($"The session database '{Path}' failed to {what}: it is locked by another process (its write lock was held for more than SqliteSessionDatabaseOptions.BusyTimeout, {waited.TotalMilliseconds:0} ms).");
        try
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Connection.Handle);
        }
        catch (SqliteException e)
        {
            throw Failed(what, e);
        }
        throw new SessionDatabaseException($"The session database '{Path}' failed to {what}: SQLite error {rc}.");
    }

    /// <summary>SQLite's own wait for a file lock: at most <see cref="SqliteSessionDatabaseOptions.BusyTimeout"/> and what is left of the operation's time.</summary>
    private void SetBusyTimeout(PooledConnection connection, SqliteDeadline deadline)
    {
        var remaining = deadline.Remaining;
        deadline.LockWaitEndsAtDeadline = remaining <= _options.BusyTimeout;
        var wait = deadline.LockWaitEndsAtDeadline ? remaining : _options.BusyTimeout;
        SQLitePCL.raw.sqlite3_busy_timeout(connection.Connection.Handle, (int)wait.TotalMilliseconds);
    }

    private static bool IsBusy(int rc) => (rc & 0xff) is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED;

    /// <summary>
    /// Runs <paramref name="write"/> in the transaction begun on <paramref name="connection"/>, commits what it left open
    /// and returns the connection; a failed transaction is rolled back.
    /// </summary>
    private T Run<T>(PooledConnection connection, string what, Func<PooledConnection, T> write, SqliteDeadline deadline)
    {
        var broken = true;
        try
        {
            var result = write(connection);
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Connection.Handle) == 0)
                connection.Execute("COMMIT");
            broken = false;
            return result;
        }
        catch (Exception e)
        {
            broken = !TryRollback(connection);
            if (e is SqliteException sqlite)
                throw Failed(what, sqlite, deadline);
            throw;
        }
        finally
        {
            _pool.Return(connection, broken);
        }
    }

    private static bool TryRollback(PooledConnection connection)
    {
        try
        {
            if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Connection.Handle) == 0)
                connection.Execute("ROLLBACK");
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    private SessionDatabaseException Failed(string what, SqliteException e) =>
        new($"The session database '{Path}' failed to {what}: {SqliteFileGuard.Describe(e)}.", e);

    /// <summary>A lock wait that SQLite gave up at the end of the operation's time budget is reported as the time-out it is.</summary>
    private SessionDatabaseException Failed(string what, SqliteException e, SqliteDeadline deadline) =>
        IsBusy(e.SqliteErrorCode) && deadline.LockWaitTimedOut
            ? TimedOut(what, deadline, "waiting for a lock on the file held by another connection to it", e)
            : Failed(what, e);

    private SessionDatabaseException TimedOut(string what, SqliteDeadline deadline, string waitingFor, Exception? inner = null) =>
        new($"The session database '{Path}' did not {what} within {deadline.Timeout.TotalMilliseconds:0} ms (SqliteSessionDatabaseOptions.OperationTimeout), {waitingFor}; nothing was written.", inner);

    private static long? Find(PooledConnection connection, byte[] key)
    {
        var find = connection.Command(FindSql, "$key");
        find.Parameters[0].Value = key;
        return find.ExecuteScalar() as long?;
    }

    private static SessionRecord? Load(PooledConnection connection, byte[] key)
    {
        var command = connection.Command(LoadSql, "$key");
        command.Parameters[0].Value = key;
        using var reader = command.ExecuteReader();
        if (!reader.Read())
            return null;
        SessionRecord record;
        try
        {
            var absolute = reader.IsDBNull(0) ? (DateTimeOffset?)null : new DateTimeOffset(reader.GetInt64(0), TimeSpan.Zero);
            var idle = new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero);
            record = new SessionRecord(absolute, idle, reader.GetInt64(2));
            if (!reader.IsDBNull(6))
            {
                record.User = reader.GetString(6);
                record.SignedInAt = reader.IsDBNull(7) ? null : new DateTimeOffset(reader.GetInt64(7), TimeSpan.Zero);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or FormatException or OverflowException)
        {
            return null; // a damaged session row: the session is treated as absent
        }
        do
        {
            if (!reader.IsDBNull(3)) // null: a session without values (the LEFT JOIN's row)
                ReadItem(reader, record);
        }
        while (reader.Read());
        return record;
    }

    /// <summary>Adds one stored value or flash to <paramref name="record"/>; a row that is not what this library wrote is dropped.</summary>
    private static void ReadItem(SqliteDataReader reader, SessionRecord record)
    {
        try
        {
            var kind = reader.GetInt64(3);
            if (reader.IsDBNull(4) || reader.IsDBNull(5) || kind is not (SqliteSchema.ValueKind or SqliteSchema.FlashKind))
                return;
            var name = reader.GetString(4);
            if (name.Length == 0 || System.Text.Encoding.UTF8.GetByteCount(name) + reader.GetBytes(5, 0, null, 0, 0) > SqliteSchema.MaxItemBytes)
                return; // checked before the payload is read into memory
            var payload = reader.GetFieldValue<byte[]>(5);
            if (!SessionValueCodec.TryDecode(payload, out var value))
                return;
            if (kind == SqliteSchema.ValueKind)
                record.SetValue(name, value);
            else
                record.SetFlash(name, value.Value);
        }
        catch (Exception e) when (e is not (SqliteException or OutOfMemoryException))
        {
            // Damaged or foreign data: drop this value, keep the session.
        }
    }
}
