using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <summary>
/// An embedded durable database: sessions in one SQLite file (WAL mode), so they survive process restarts and crashes
/// with nothing to install: the role badger plays for go-sessions. A load is one query; a commit is one transaction that
/// writes only the keys the request changed, so two requests changing different keys of a session both survive. Session
/// keys are the SHA-256 of the ID: raw IDs are never stored. Expired sessions are purged in the background in bounded batches.
/// </summary>
/// <remarks>
/// <para>One process at a time: opening takes an exclusive lock on <c>PATH.lock</c> beside the file (released by the
/// operating system if the process dies), so a second process, or a second instance in this process, fails at once with
/// <see cref="SessionDatabaseException"/> instead of racing on the file. Share sessions between processes through Redis.</para>
/// <para>Opening never replaces an existing file: a file that is not SQLite, is damaged, read-only, locked or holds another
/// schema fails with <see cref="SessionDatabaseException"/> naming the path and the cause. A stored value that cannot be
/// read back is dropped from the loaded session; no type names are read from the file.</para>
/// <para>Microsoft.Data.Sqlite is synchronous: an operation runs on the calling thread once it has a connection (loads in
/// parallel, commits one at a time), so with <see cref="SqliteSynchronousMode.Full"/> a commit includes the disk sync.</para>
/// <para>The purge cannot report which sessions expired (only hashes are stored), so this database does not implement
/// <see cref="ISessionExpirationSource"/>; the manager still refuses every expired session it loads.</para>
/// </remarks>
public sealed class SqliteSessionDatabase : ISessionDatabase, ISessionCounter, IDisposable, IAsyncDisposable
{
    private const string LoadSql = """
        SELECT s.absolute_deadline, s.idle_deadline, s.version, i.kind, i.name, i.payload
        FROM session AS s LEFT JOIN session_item AS i ON i.session = s.id
        WHERE s.key = $key
        ORDER BY i.kind, i.ord
        """;
    private const string FindSql = "SELECT id FROM session WHERE key = $key";
    private const string InsertSessionSql = """
        INSERT INTO session (key, absolute_deadline, idle_deadline, expires_at, version) VALUES ($key, $absolute, $idle, $expires, 1)
        ON CONFLICT (key) DO NOTHING RETURNING id
        """;
    private const string ItemsSql = "SELECT kind, name, ord, length(CAST(name AS BLOB)) + length(payload) FROM session_item WHERE session = $session";
    private const string ClearKindSql = "DELETE FROM session_item WHERE session = $session AND kind = $kind";
    private const string DeleteItemSql = "DELETE FROM session_item WHERE session = $session AND kind = $kind AND name = $name";
    private const string UpsertItemSql = """
        INSERT INTO session_item (session, kind, name, ord, payload) VALUES ($session, $kind, $name, $ord, $payload)
        ON CONFLICT (session, kind, name) DO UPDATE SET ord = excluded.ord, payload = excluded.payload
        """;
    private const string UpdateSessionSql = """
        UPDATE session SET absolute_deadline = $absolute, idle_deadline = $idle, expires_at = $expires, version = version + 1
        WHERE id = $session
        """;
    private const string UpdateDeadlinesSql = "UPDATE session SET absolute_deadline = $absolute, idle_deadline = $idle, expires_at = $expires WHERE key = $key";
    private const string DestroyItemsSql = "DELETE FROM session_item WHERE session = (SELECT id FROM session WHERE key = $key)";
    private const string DestroySessionSql = "DELETE FROM session WHERE key = $key";
    private const string PurgeItemsSql = """
        DELETE FROM session_item WHERE session IN
            (SELECT id FROM session WHERE expires_at <= $now ORDER BY expires_at, id LIMIT $limit)
        """;
    private const string PurgeSessionsSql = """
        DELETE FROM session WHERE id IN
            (SELECT id FROM session WHERE expires_at <= $now ORDER BY expires_at, id LIMIT $limit)
        """;
    private const string CountSql = "SELECT count(*) FROM session";

    private readonly SqliteSessionDatabaseOptions _options;
    private readonly TimeProvider _time;
    private readonly SqliteConnectionPool _pool;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly FileStream _lock;
    private readonly ITimer _purgeTimer;
    private int _purging;
    private int _disposed;

    /// <summary>Opens (or creates) the session database in the file at <paramref name="path"/>.</summary>
    /// <param name="path">The database file; its directory must exist. <c>PATH.lock</c>, <c>PATH-wal</c> and <c>PATH-shm</c> live beside it.</param>
    /// <param name="options">Durability, limits and purge settings (the defaults when <see langword="null"/>).</param>
    /// <exception cref="ArgumentException">The path is empty, or an option is invalid (the message names it).</exception>
    /// <exception cref="SessionDatabaseException">
    /// The file cannot be used: its directory is missing, it is locked by another process, read-only, not a SQLite database,
    /// damaged, or holds another schema. The message names the path and the cause; the file is left untouched.
    /// </exception>
    public SqliteSessionDatabase(string path, SqliteSessionDatabaseOptions? options = null)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("The session database path must not be empty.", nameof(path));
        _options = options ?? new SqliteSessionDatabaseOptions();
        _options.Validate();
        _time = _options.TimeProvider;
        Path = System.IO.Path.GetFullPath(path);
        _lock = AcquireLock(Path);
        SqliteConnection? first = null;
        try
        {
            first = OpenFile();
            _pool = new SqliteConnectionPool(_options.MaxConnections, () => OpenConnection(SqliteOpenMode.ReadWrite));
            _pool.Seed(first);
        }
        catch
        {
            first?.Dispose();
            _lock.Dispose();
            throw;
        }
        _purgeTimer = _time.CreateTimer(static state => ((SqliteSessionDatabase)state!).PurgeOnTimer(), this, _options.PurgeInterval, _options.PurgeInterval);
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    /// <remarks>Always <see langword="false"/>: each load builds a private record; changes reach the file at commit.</remarks>
    public bool SharesRecords => false;

    /// <inheritdoc />
    public bool CompletesSynchronously => false;

    /// <inheritdoc />
    public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) =>
        throw new NotImplementedException("TODO(renew): move the session in one operation");

    /// <summary>Raised when a background purge fails (the next one retries); the exception never reaches a request.</summary>
    public event Action<Exception>? PurgeFailed;

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed (I/O error, damaged file, lock timeout).</exception>
    public async ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var key = Hash(id);
        var connection = await RentAsync(cancellationToken).ConfigureAwait(false);
        var broken = true;
        try
        {
            var record = Load(connection, key);
            broken = false;
            return record;
        }
        catch (SqliteException e)
        {
            throw Failed("load a session", e);
        }
        finally
        {
            _pool.Return(connection, broken);
        }
    }

    /// <inheritdoc />
    /// <exception cref="SessionLimitExceededException">The session would hold more than <see cref="SqliteSessionDatabaseOptions.MaxPayloadBytes"/>; nothing was written.</exception>
    /// <exception cref="ArgumentException">A value cannot be serialised to JSON.</exception>
    /// <exception cref="SessionDatabaseException">SQLite failed; nothing was written.</exception>
    public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (record is null)
            throw new ArgumentNullException(nameof(record));
        if (changes is null)
            throw new ArgumentNullException(nameof(changes));
        // Serialise and check sizes before taking the write lock.
        var plan = new CommitPlan(record, changes, _options.MaxPayloadBytes);
        var key = Hash(id);
        return await WriteAsync("commit a session", connection => plan.Execute(connection, key), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken)
    {
        var key = Hash(id);
        return WriteAsync("update a session's deadlines", connection =>
        {
            var command = connection.Command(UpdateDeadlinesSql, "$absolute", "$idle", "$expires", "$key");
            SetDeadlines(command, absoluteDeadline, idleDeadline);
            command.Parameters[3].Value = key;
            return command.ExecuteNonQuery() > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed; the session may still exist.</exception>
    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        var key = Hash(id);
        return WriteAsync("destroy a session", connection =>
        {
            connection.Execute("BEGIN IMMEDIATE");
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
            connection.Execute("BEGIN IMMEDIATE");
            connection.Execute("DELETE FROM session_item");
            connection.Execute("DELETE FROM session");
            connection.Execute("COMMIT");
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public async ValueTask<long> CountAsync(CancellationToken cancellationToken)
    {
        var connection = await RentAsync(cancellationToken).ConfigureAwait(false);
        var broken = true;
        try
        {
            var count = (long)connection.Command(CountSql).ExecuteScalar()!;
            broken = false;
            return count;
        }
        catch (SqliteException e)
        {
            throw Failed("count sessions", e);
        }
        finally
        {
            _pool.Return(connection, broken);
        }
    }

    /// <summary>
    /// Deletes every session expired now, in transactions of at most <see cref="SqliteSessionDatabaseOptions.PurgeBatchSize"/>
    /// sessions (commits run between them), on the calling thread. The background purge calls it every
    /// <see cref="SqliteSessionDatabaseOptions.PurgeInterval"/>.
    /// </summary>
    /// <returns>The number of sessions deleted.</returns>
    /// <exception cref="SessionDatabaseException">SQLite failed; sessions deleted by earlier batches stay deleted.</exception>
    public int PurgeExpired()
    {
        var total = 0;
        while (true)
        {
            var deleted = PurgeBatch();
            total += deleted;
            if (deleted < _options.PurgeBatchSize)
                return total;
        }
    }

    /// <summary>Stops the purge, waits briefly for running operations, closes the file and releases its lock.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _purgeTimer.Dispose();
        var gated = _writeGate.Wait(_options.BusyTimeout);
        _pool.Dispose(_options.BusyTimeout);
        _lock.Dispose();
        if (gated)
            _writeGate.Release();
    }

    /// <summary>Disposes (see <see cref="Dispose"/>).</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    // ----- opening ------------------------------------------------------------------------------------------------

    private static FileStream AcquireLock(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path);
        if (directory is not null && !Directory.Exists(directory))
            throw new SessionDatabaseException($"Cannot open the session database '{path}': its directory does not exist.");
        var lockPath = path + ".lock";
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix) that the OS releases if the process dies.
            return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SessionDatabaseException($"Cannot open the session database '{path}': its lock file '{lockPath}' cannot be created or written (read-only file system or directory, or no permission): {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new SessionDatabaseException($"Cannot open the session database '{path}': it is in use by another process or another SqliteSessionDatabase (its lock file '{lockPath}' is locked), or the lock file cannot be written: {e.Message}", e);
        }
    }

    private SqliteConnection OpenFile()
    {
        var exists = File.Exists(Path);
        try
        {
            if (exists && !SqliteSchema.HasSqliteHeader(Path))
                throw Unusable("it is not a SQLite database (the header is wrong); it was left untouched", null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unusable($"it cannot be read ({e.Message})", e);
        }
        SqliteConnection? connection = null;
        try
        {
            connection = OpenConnection(exists ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadWriteCreate);
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1)
                throw Unusable("it is read-only (file permissions, an immutable file or a read-only file system); sessions cannot be written", null);
            var problem = SqliteSchema.CreateOrVerify(connection);
            if (problem is null && _options.CheckIntegrityOnOpen)
                problem = SqliteSchema.QuickCheck(connection) is { } damage ? $"it is damaged (quick_check: {damage})" : null;
            if (problem is not null)
                throw Unusable(problem, null);
            return connection;
        }
        catch (SqliteException e)
        {
            connection?.Dispose();
            throw Unusable(Describe(e), e);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    private SqliteConnection OpenConnection(SqliteOpenMode mode)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = mode,
            Cache = SqliteCacheMode.Private,
            Pooling = false, // this database pools its own connections, and must close the file on Dispose
            DefaultTimeout = (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds),
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            var synchronous = _options.Synchronous == SqliteSynchronousMode.Full ? "FULL" : "NORMAL";
            SqliteSchema.Execute(connection, $"PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {(long)_options.BusyTimeout.TotalMilliseconds}; PRAGMA cell_size_check = ON; PRAGMA trusted_schema = OFF");
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private SessionDatabaseException Unusable(string cause, Exception? inner) =>
        new($"Cannot open the session database '{Path}': {cause}.", inner);

    private static string Describe(SqliteException e) => e.SqliteErrorCode switch
    {
        5 or 6 => $"it is locked by another process ({e.Message})",
        8 => $"it is read-only ({e.Message})",
        11 => $"it is damaged ({e.Message})",
        14 => $"it cannot be opened (missing directory, permissions, or a read-only directory for its WAL files) ({e.Message})",
        26 => $"it is not a SQLite database or is damaged ({e.Message})",
        _ => e.Message,
    };

    // ----- operations ---------------------------------------------------------------------------------------------

    private ValueTask<PooledConnection> RentAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SqliteSessionDatabase));
        cancellationToken.ThrowIfCancellationRequested();
        return _pool.RentAsync(cancellationToken);
    }

    /// <summary>Runs a write under the in-process write lock (SQLite has one writer; waiting here beats spinning on SQLITE_BUSY).</summary>
    private async ValueTask<T> WriteAsync<T>(string what, Func<PooledConnection, T> write, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SqliteSessionDatabase));
        cancellationToken.ThrowIfCancellationRequested();
        if (!_writeGate.Wait(0))
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await _pool.RentAsync(cancellationToken).ConfigureAwait(false);
            var broken = true;
            try
            {
                var result = write(connection);
                broken = false;
                return result;
            }
            catch (Exception e)
            {
                broken = !TryRollback(connection);
                if (e is SqliteException sqlite)
                    throw Failed(what, sqlite);
                throw;
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
        new($"The session database '{Path}' failed to {what}: {Describe(e)}.", e);

    private SessionRecord? Load(PooledConnection connection, byte[] key)
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
        }
        catch (Exception e) when (e is ArgumentException or InvalidCastException or FormatException or OverflowException)
        {
            return null; // a damaged session row: the session is treated as absent
        }
        do
        {
            if (reader.IsDBNull(3))
                continue; // a session without values (the LEFT JOIN's null row)
            ReadItem(reader, record, _options.MaxPayloadBytes);
        }
        while (reader.Read());
        return record;
    }

    /// <summary>Adds one stored value or flash to <paramref name="record"/>; a row that is not what this library wrote is dropped.</summary>
    private static void ReadItem(SqliteDataReader reader, SessionRecord record, int maxPayloadBytes)
    {
        try
        {
            var kind = reader.GetInt64(3);
            if (reader.IsDBNull(4) || reader.IsDBNull(5) || kind is not (SqliteSchema.ValueKind or SqliteSchema.FlashKind))
                return;
            var name = reader.GetString(4);
            if (name.Length == 0 || reader.GetBytes(5, 0, null, 0, 0) > maxPayloadBytes)
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

    private void PurgeOnTimer()
    {
        if (Interlocked.Exchange(ref _purging, 1) != 0)
            return;
        try
        {
            if (Volatile.Read(ref _disposed) == 0)
                PurgeExpired();
        }
        catch (Exception e) when (e is SessionDatabaseException or ObjectDisposedException)
        {
            try
            {
                PurgeFailed?.Invoke(e);
            }
            catch (Exception)
            {
                // A failing handler must not stop the timer.
            }
        }
        finally
        {
            Volatile.Write(ref _purging, 0);
        }
    }

    private int PurgeBatch()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(SqliteSessionDatabase));
        var now = _time.GetUtcNow().UtcTicks;
        _writeGate.Wait();
        try
        {
            var connection = _pool.Rent();
            var broken = true;
            try
            {
                connection.Execute("BEGIN IMMEDIATE");
                var items = connection.Command(PurgeItemsSql, "$now", "$limit");
                items.Parameters[0].Value = now;
                items.Parameters[1].Value = _options.PurgeBatchSize;
                items.ExecuteNonQuery();
                var sessions = connection.Command(PurgeSessionsSql, "$now", "$limit");
                sessions.Parameters[0].Value = now;
                sessions.Parameters[1].Value = _options.PurgeBatchSize;
                var deleted = sessions.ExecuteNonQuery();
                connection.Execute("COMMIT");
                broken = false;
                return deleted;
            }
            catch (SqliteException e)
            {
                broken = !TryRollback(connection);
                throw Failed("purge expired sessions", e);
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

    internal static void SetDeadlines(SqliteCommand command, DateTimeOffset? absolute, DateTimeOffset idle)
    {
        command.Parameters[0].Value = absolute is { } a ? a.UtcTicks : DBNull.Value;
        command.Parameters[1].Value = idle.UtcTicks;
        command.Parameters[2].Value = absolute is { } b && b.UtcTicks < idle.UtcTicks ? b.UtcTicks : idle.UtcTicks;
    }

    /// <summary>The stored key of a session: the SHA-256 of its ID, so the file never holds a usable ID.</summary>
    internal static byte[] Hash(string id)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        var bytes = Encoding.UTF8.GetBytes(id);
#if NET
        return SHA256.HashData(bytes);
#else
        using var sha = SHA256.Create();
        return sha.ComputeHash(bytes);
#endif
    }

    // ----- commit -------------------------------------------------------------------------------------------------

    /// <summary>One commit, serialised and size-checked before the write lock is taken, then applied in one transaction.</summary>
    private sealed class CommitPlan
    {
        private readonly SessionRecord _record;
        private readonly SessionChanges _changes;
        private readonly int _maxPayloadBytes;
        private readonly List<Item> _values;
        private readonly List<Item> _flashes;

        public CommitPlan(SessionRecord record, SessionChanges changes, int maxPayloadBytes)
        {
            _record = record;
            _changes = changes;
            _maxPayloadBytes = maxPayloadBytes;
            _values = new List<Item>(changes.SetValues.Count);
            foreach (var value in changes.SetValues)
                _values.Add(new Item(value.Key, SessionValueCodec.Encode(value.Key, value.Value)));
            _flashes = new List<Item>(changes.SetFlashes.Count);
            foreach (var flash in changes.SetFlashes)
                _flashes.Add(new Item(flash.Key, SessionValueCodec.EncodeFlash(flash.Key, flash.Value)));
            long written = 0;
            foreach (var item in _values)
                written += item.Size;
            foreach (var item in _flashes)
                written += item.Size;
            if (written > maxPayloadBytes)
                throw TooLarge(written);
        }

        public bool Execute(PooledConnection connection, byte[] key)
        {
            connection.Execute("BEGIN IMMEDIATE");
            long session;
            if (_changes.IsNew)
            {
                var insert = connection.Command(InsertSessionSql, "$absolute", "$idle", "$expires", "$key");
                SetDeadlines(insert, _changes.AbsoluteDeadline, _changes.IdleDeadline!.Value);
                insert.Parameters[3].Value = key;
                if (insert.ExecuteScalar() is not long id)
                {
                    connection.Execute("ROLLBACK");
                    return false; // the ID is taken
                }
                session = id;
            }
            else
            {
                var find = connection.Command(FindSql, "$key");
                find.Parameters[0].Value = key;
                if (find.ExecuteScalar() is not long id)
                {
                    connection.Execute("ROLLBACK");
                    return false; // destroyed, renewed or purged: never recreated
                }
                session = id;
            }

            var stored = _changes.IsNew ? new Dictionary<(long Kind, string Name), Stored>() : ReadStored(connection, session, _maxPayloadBytes);
            var nextOrder = 1L;
            foreach (var item in stored.Values)
                nextOrder = Math.Max(nextOrder, item.Order + 1);
            var valueOrders = Plan(stored, SqliteSchema.ValueKind, _changes.Cleared, _changes.DeletedKeys, _values, RecordOrder(_record.Values), ref nextOrder);
            var flashOrders = Plan(stored, SqliteSchema.FlashKind, _changes.FlashesCleared, _changes.DeletedFlashes, _flashes, RecordOrder(_record.Flashes), ref nextOrder);

            // stored now holds only the rows that stay untouched; the session's size is theirs plus what this commit writes.
            long size = 0;
            foreach (var item in stored.Values)
                size += item.Size;
            foreach (var item in _values)
                size += item.Size;
            foreach (var item in _flashes)
                size += item.Size;
            if (size > _maxPayloadBytes)
            {
                connection.Execute("ROLLBACK");
                throw TooLarge(size);
            }

            Write(connection, session, SqliteSchema.ValueKind, _changes.Cleared, _changes.DeletedKeys, _values, valueOrders);
            Write(connection, session, SqliteSchema.FlashKind, _changes.FlashesCleared, _changes.DeletedFlashes, _flashes, flashOrders);
            if (!_changes.IsNew)
            {
                var update = connection.Command(UpdateSessionSql, "$absolute", "$idle", "$expires", "$session");
                SetDeadlines(update, _changes.MovesAbsoluteDeadline ? _changes.AbsoluteDeadline : _record.AbsoluteDeadline, _changes.IdleDeadline ?? _record.IdleDeadline);
                update.Parameters[3].Value = session;
                update.ExecuteNonQuery();
            }
            connection.Execute("COMMIT");
            return true;
        }

        private SessionLimitExceededException TooLarge(long size) =>
            new($"The session would hold {size} bytes of keys, values and flashes, more than the SQLite session database's MaxPayloadBytes ({_maxPayloadBytes}); nothing was written.");

        private static Dictionary<(long Kind, string Name), Stored> ReadStored(PooledConnection connection, long session, int maxPayloadBytes)
        {
            var stored = new Dictionary<(long Kind, string Name), Stored>();
            List<(long Kind, string Name)>? oversized = null;
            var command = connection.Command(ItemsSql, "$session");
            command.Parameters[0].Value = session;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (reader.IsDBNull(0) || reader.IsDBNull(1))
                        continue;
                    var item = (reader.GetInt64(0), reader.GetString(1));
                    var ord = reader.IsDBNull(2) ? 0 : reader.GetInt64(2);
                    var size = reader.IsDBNull(3) ? 0 : reader.GetInt64(3);
                    if (size > maxPayloadBytes)
                        (oversized ??= []).Add(item);
                    else
                        stored[item] = new Stored(ord, size);
                }
            }
            if (oversized is not null)
            {
                // A row larger than a whole session may hold is never loaded (damaged or foreign data); drop it rather
                // than let it make the session unwritable.
                var delete = connection.Command(DeleteItemSql, "$session", "$kind", "$name");
                delete.Parameters[0].Value = session;
                foreach (var (kind, name) in oversized)
                {
                    delete.Parameters[1].Value = kind;
                    delete.Parameters[2].Value = name;
                    delete.ExecuteNonQuery();
                }
            }
            return stored;
        }

        private static List<string> RecordOrder<T>(ReadOnlySpan<KeyValuePair<string, T>> items)
        {
            var names = new List<string>(items.Length);
            foreach (var item in items)
                names.Add(item.Key);
            return names;
        }

        /// <summary>
        /// Decides the order number of each key written, and removes from <paramref name="stored"/> the rows of this kind that
        /// the commit deletes or replaces. A key keeps its place unless the request deleted and set it again: the request's
        /// record then lists it after a key stored later, and it moves to the end, as it did in the request.
        /// </summary>
        private static long[] Plan(Dictionary<(long Kind, string Name), Stored> stored, long kind, bool cleared, IReadOnlyList<string> deleted,
            List<Item> written, List<string> recordOrder, ref long nextOrder)
        {
            if (cleared)
            {
                foreach (var entry in stored.Keys.Where(k => k.Kind == kind).ToList())
                    stored.Remove(entry);
            }
            foreach (var name in deleted)
                stored.Remove((kind, name));

            var orders = new long[written.Count];
            if (written.Count == 0)
                return orders;
            var index = new Dictionary<string, int>(written.Count, StringComparer.Ordinal);
            for (var i = 0; i < written.Count; i++)
                index[written[i].Name] = i;
            var highestSeen = long.MinValue;
            var placed = new bool[written.Count];
            foreach (var name in recordOrder)
            {
                var has = stored.TryGetValue((kind, name), out var row);
                if (!index.TryGetValue(name, out var i))
                {
                    if (has)
                        highestSeen = Math.Max(highestSeen, row.Order);
                    continue;
                }
                if (has && row.Order > highestSeen)
                {
                    orders[i] = row.Order;
                    highestSeen = row.Order;
                }
                else
                {
                    orders[i] = nextOrder++;
                }
                placed[i] = true;
            }
            for (var i = 0; i < written.Count; i++)
            {
                if (!placed[i])
                    orders[i] = stored.TryGetValue((kind, written[i].Name), out var row) ? row.Order : nextOrder++;
                stored.Remove((kind, written[i].Name));
            }
            return orders;
        }

        private static void Write(PooledConnection connection, long session, long kind, bool cleared, IReadOnlyList<string> deleted, List<Item> written, long[] orders)
        {
            if (cleared)
            {
                var clear = connection.Command(ClearKindSql, "$session", "$kind");
                clear.Parameters[0].Value = session;
                clear.Parameters[1].Value = kind;
                clear.ExecuteNonQuery();
            }
            if (deleted.Count > 0)
            {
                var delete = connection.Command(DeleteItemSql, "$session", "$kind", "$name");
                delete.Parameters[0].Value = session;
                delete.Parameters[1].Value = kind;
                foreach (var name in deleted)
                {
                    delete.Parameters[2].Value = name;
                    delete.ExecuteNonQuery();
                }
            }
            if (written.Count > 0)
            {
                var upsert = connection.Command(UpsertItemSql, "$session", "$kind", "$name", "$ord", "$payload");
                upsert.Parameters[0].Value = session;
                upsert.Parameters[1].Value = kind;
                for (var i = 0; i < written.Count; i++)
                {
                    upsert.Parameters[2].Value = written[i].Name;
                    upsert.Parameters[3].Value = orders[i];
                    upsert.Parameters[4].Value = written[i].Payload;
                    upsert.ExecuteNonQuery();
                }
            }
        }

        private readonly struct Item(string name, byte[] payload)
        {
            public string Name { get; } = name;

            public byte[] Payload { get; } = payload;

            public long Size => Encoding.UTF8.GetByteCount(Name) + Payload.Length;
        }

        private readonly struct Stored(long order, long size)
        {
            public long Order { get; } = order;

            public long Size { get; } = size;
        }
    }
}
