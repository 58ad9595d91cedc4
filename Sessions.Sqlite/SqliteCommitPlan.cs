using System.Runtime.CompilerServices;

namespace Sessions.Sqlite;

/// <summary>
/// One request's commit: values and flashes serialised and size-checked before the write lock is taken, then applied in one
/// transaction that writes only the keys, and only the deadlines, the request changed.
/// </summary>
/// <remarks>
/// The payload limit (<see cref="SessionChanges.MaxPayloadBytes"/>) is checked twice, both times before anything is written:
/// first over what the request writes, then, inside the transaction, over the session as it will be stored (the rows other
/// requests committed and this one keeps, plus what this one writes), each item counted as <see cref="SessionValueCodec.PayloadSize"/>.
/// </remarks>
internal sealed class SqliteCommitPlan
{
    private const string FindSql = "SELECT id, absolute_deadline, idle_deadline FROM session WHERE key = $key";
    private const string StillCreatedSql = "SELECT count(*) FROM session WHERE id = $session AND key = $key";
    private const string InsertSessionSql = """
        INSERT INTO session (key, absolute_deadline, idle_deadline, expires_at, version) VALUES ($key, $absolute, $idle, $expires, 1)
        ON CONFLICT (key) DO NOTHING RETURNING id
        """;
    private const string ItemsSql = "SELECT kind, name, ord, length(CAST(name AS BLOB)) + length(payload), substr(payload, 1, 1) = X'69' FROM session_item WHERE session = $session";
    private const string ClearKindSql = "DELETE FROM session_item WHERE session = $session AND kind = $kind";
    private const string DeleteItemSql = "DELETE FROM session_item WHERE session = $session AND kind = $kind AND name = $name";
    private const string ItemPayloadSql = "SELECT payload FROM session_item WHERE session = $session AND kind = $kind AND name = $name";
    private const string UpsertItemSql = """
        INSERT INTO session_item (session, kind, name, ord, payload) VALUES ($session, $kind, $name, $ord, $payload)
        ON CONFLICT (session, kind, name) DO UPDATE SET ord = excluded.ord, payload = excluded.payload
        """;
    private const string UpdateSessionSql = """
        UPDATE session SET absolute_deadline = $absolute, idle_deadline = $idle, expires_at = $expires, version = version + 1
        WHERE id = $session
        """;

    private const string BindUserSql = "UPDATE session SET user = $user, signed_in = $signed_in WHERE id = $session";

    private readonly SessionRecord _record;
    private readonly SessionChanges _changes;
    private readonly long _limit;
    private readonly List<Item> _values;
    private readonly List<Item> _flashes;

    /// <exception cref="ArgumentException">A value cannot be serialised.</exception>
    /// <exception cref="SessionLimitExceededException">What the request writes alone passes the limit.</exception>
    public SqliteCommitPlan(SessionRecord record, SessionChanges changes)
    {
        _record = record;
        _changes = changes;
        _limit = changes.MaxPayloadBytes;
        _values = new List<Item>(changes.SetValues.Count);
        foreach (var value in changes.SetValues)
            _values.Add(new Item(value.Key, SessionValueCodec.Encode(value.Key, value.Value, changes.SerializerOptions)));
        _flashes = new List<Item>(changes.SetFlashes.Count);
        foreach (var flash in changes.SetFlashes)
            _flashes.Add(new Item(flash.Key, SessionValueCodec.EncodeFlash(flash.Key, flash.Value, changes.SerializerOptions)));
        var written = WrittenSize();
        if (written > _limit)
            throw TooLarge(written);
        foreach (var item in _values.Concat(_flashes))
        {
            if (item.Size > SqliteSchema.MaxItemBytes)
                throw new SessionLimitExceededException($"The session key '{item.Name}' would hold {item.Size} bytes, more than the {SqliteSchema.MaxItemBytes} bytes the SQLite session database stores for one value or flash; nothing was written.");
        }
    }

    /// <summary>Applies the commit to the session stored under <paramref name="key"/>, in one transaction.</summary>
    /// <param name="connection">The connection, under the database's write lock, in the write transaction the caller began.</param>
    /// <param name="key">The session's stored key.</param>
    /// <param name="created">The row each create change set made, so that a retried create is told apart from an ID in use.</param>
    /// <returns><see langword="false"/> when a new session's ID is taken, or an existing session is gone; nothing was written then.</returns>
    /// <exception cref="SessionLimitExceededException">The stored session would pass the limit; the transaction was rolled back.</exception>
    public bool Execute(PooledConnection connection, byte[] key, ConditionalWeakTable<SessionChanges, StrongBox<long>> created)
    {
        var result = Apply(connection, key, created, out var createdRow);
        connection.Execute(result ? "COMMIT" : "ROLLBACK");
        if (createdRow is { } row)
            Acknowledge(created, row);
        return result;
    }

    /// <summary>Records the row a committed create made (call only once the transaction that wrote it has committed).</summary>
    public void Acknowledge(ConditionalWeakTable<SessionChanges, StrongBox<long>> created, long row)
    {
        created.Remove(_changes);
        created.Add(_changes, new StrongBox<long>(row));
    }

    /// <summary>
    /// Applies the commit inside the caller's transaction (or savepoint) without ending it: <see langword="false"/> (or
    /// <see cref="SessionLimitExceededException"/>) means the caller must roll back what this wrote. <paramref name="createdRow"/>
    /// is the row a create made, to pass to <see cref="Acknowledge"/> once committed.
    /// </summary>
    public bool Apply(PooledConnection connection, byte[] key, ConditionalWeakTable<SessionChanges, StrongBox<long>> created, out long? createdRow)
    {
        createdRow = null;
        long session;
        StoredSession? existing = null;
        if (_changes.IsNew && created.TryGetValue(_changes, out var row))
        {
            // This change set already created its session: applied once, and true while that session lives (never recreated).
            var check = connection.Command(StillCreatedSql, "$session", "$key");
            check.Parameters[0].Value = row.Value;
            check.Parameters[1].Value = key;
            return (long)check.ExecuteScalar()! > 0; // wrote nothing
        }
        if (_changes.IsNew)
        {
            var insert = connection.Command(InsertSessionSql, "$absolute", "$idle", "$expires", "$key");
            SetDeadlines(insert, _changes.AbsoluteDeadline, _changes.IdleDeadline!.Value);
            insert.Parameters[3].Value = key;
            if (insert.ExecuteScalar() is not long id)
                return false; // the ID is taken
            session = id;
        }
        else
        {
            existing = Find(connection, key);
            if (existing is null)
                return false; // destroyed, renewed or purged: never recreated
            if (_changes.RequiresLiveAt is { } at && (existing.Value.Idle <= at || existing.Value.Absolute <= at))
                return false; // a request that did not load the session finds it ended: never brought back
            session = existing.Value.Id;
        }

        var stored = existing is null ? new Dictionary<(long Kind, string Name), Stored>() : ReadStored(connection, session);
        var added = _changes.RequiresLiveAt is null ? 0 : CheckUnloaded(stored);
        var nextOrder = 1L;
        foreach (var item in stored.Values)
            nextOrder = Math.Max(nextOrder, item.Order + 1);
        var valueOrders = Plan(stored, SqliteSchema.ValueKind, _changes.Cleared, _changes.DeletedKeys, _values, RecordOrder(_record.Values), ref nextOrder);
        var flashOrders = Plan(stored, SqliteSchema.FlashKind, _changes.FlashesCleared, _changes.DeletedFlashes, _flashes, RecordOrder(_record.Flashes), ref nextOrder);

        // stored now holds only the rows this commit keeps as they are.
        var size = WrittenSize();
        foreach (var item in stored.Values)
            size += item.Size;
        if (size > _limit)
            throw TooLarge(size);
        var keys = stored.Count + _values.Count + _flashes.Count;
        if (added > 0 && keys > _changes.MaxKeys)
            throw new SessionLimitExceededException($"The session would hold {keys} keys (values and flashes), more than SessionChanges.MaxKeys ({_changes.MaxKeys}); nothing was written.");

        Write(connection, session, SqliteSchema.ValueKind, _changes.Cleared, _changes.DeletedKeys, _values, valueOrders);
        Write(connection, session, SqliteSchema.FlashKind, _changes.FlashesCleared, _changes.DeletedFlashes, _flashes, flashOrders);
        if (existing is { } stale)
        {
            // Only the deadlines this request moved: one it merely loaded may have been moved by another request since.
            var update = connection.Command(UpdateSessionSql, "$absolute", "$idle", "$expires", "$session");
            SetDeadlines(update, _changes.MovesAbsoluteDeadline ? _changes.AbsoluteDeadline : stale.Absolute, _changes.StoresIdleOver(stale.Idle) ? _changes.IdleDeadline!.Value : stale.Idle);
            update.Parameters[3].Value = session;
            update.ExecuteNonQuery();
        }
        if (_changes.BindsUser)
        {
            // A sign-in: the indexed user column is the index (see SqliteSchema), so it needs no other bookkeeping.
            var bind = connection.Command(BindUserSql, "$user", "$signed_in", "$session");
            bind.Parameters[0].Value = _changes.User;
            bind.Parameters[1].Value = _changes.SignedInAt.UtcTicks;
            bind.Parameters[2].Value = session;
            bind.ExecuteNonQuery();
        }
        if (_changes.IsNew)
            createdRow = session;
        return true;
    }

    /// <summary>
    /// What a load would have checked of writes a request made without loading the session (<see cref="SessionChanges.RequiresLiveAt"/>):
    /// no plain value over a stored immutable one. Returns how many keys the commit adds.
    /// </summary>
    private int CheckUnloaded(Dictionary<(long Kind, string Name), Stored> stored)
    {
        var added = 0;
        foreach (var value in _values)
        {
            if (_changes.Cleared || _changes.DeletedKeys.Contains(value.Name) || !stored.TryGetValue((SqliteSchema.ValueKind, value.Name), out var row))
                added++;
            else if (row.Immutable && value.Payload[0] != (byte)'i')
                throw new SessionImmutableValueException(value.Name);
        }
        foreach (var flash in _flashes)
        {
            if (_changes.FlashesCleared || _changes.DeletedFlashes.Contains(flash.Name) || !stored.ContainsKey((SqliteSchema.FlashKind, flash.Name)))
                added++;
        }
        return added;
    }

    /// <summary>Sets a command's first three parameters: the absolute deadline, the idle deadline and the earlier of both.</summary>
    public static void SetDeadlines(Microsoft.Data.Sqlite.SqliteCommand command, DateTimeOffset? absolute, DateTimeOffset idle)
    {
        command.Parameters[0].Value = absolute is { } a ? a.UtcTicks : DBNull.Value;
        command.Parameters[1].Value = idle.UtcTicks;
        command.Parameters[2].Value = absolute is { } b && b.UtcTicks < idle.UtcTicks ? b.UtcTicks : idle.UtcTicks;
    }

    private long WrittenSize()
    {
        long size = 0;
        foreach (var item in _values)
            size += item.Size;
        foreach (var item in _flashes)
            size += item.Size;
        return size;
    }

    private SessionLimitExceededException TooLarge(long size) =>
        new($"The session would hold {size} bytes of keys, values and flashes, more than MaxPayloadBytes ({_limit}); nothing was written.");

    private static StoredSession? Find(PooledConnection connection, byte[] key)
    {
        var find = connection.Command(FindSql, "$key");
        find.Parameters[0].Value = key;
        using var reader = find.ExecuteReader();
        if (!reader.Read())
            return null;
        var absolute = reader.IsDBNull(1) ? (DateTimeOffset?)null : new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero);
        return new StoredSession(reader.GetInt64(0), absolute, new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero));
    }

    private Dictionary<(long Kind, string Name), Stored> ReadStored(PooledConnection connection, long session)
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
                var immutable = !reader.IsDBNull(4) && reader.GetInt64(4) == 1;
                if (size > SqliteSchema.MaxItemBytes || (size > _limit && !Readable(connection, session, item)))
                    (oversized ??= []).Add(item);
                else
                    stored[item] = new Stored(ord, size, immutable);
            }
        }
        if (oversized is not null)
        {
            // A row no load can read and larger than a whole session may hold (damaged or foreign data) would make the
            // session unwritable: drop it. A readable value over a lowered limit is kept: a commit never deletes data it can read.
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

    /// <summary>Whether a stored row decodes as a value or flash (read only for a row over the limit, which is rare).</summary>
    private static bool Readable(PooledConnection connection, long session, (long Kind, string Name) item)
    {
        var command = connection.Command(ItemPayloadSql, "$session", "$kind", "$name");
        command.Parameters[0].Value = session;
        command.Parameters[1].Value = item.Kind;
        command.Parameters[2].Value = item.Name;
        return command.ExecuteScalar() is byte[] payload && SessionValueCodec.TryDecode(payload, out _);
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

        public long Size => SessionValueCodec.PayloadSize(Name, Payload);
    }

    private readonly struct StoredSession(long id, DateTimeOffset? absolute, DateTimeOffset idle)
    {
        public long Id { get; } = id;

        public DateTimeOffset? Absolute { get; } = absolute;

        public DateTimeOffset Idle { get; } = idle;
    }

    private readonly struct Stored(long order, long size, bool immutable)
    {
        public long Order { get; } = order;

        public long Size { get; } = size;

        public bool Immutable { get; } = immutable;
    }
}
