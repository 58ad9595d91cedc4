namespace Sessions.Sqlite;

/// <summary>
/// Deletes expired sessions in transactions of at most <see cref="SqliteSessionDatabaseOptions.PurgeBatchSize"/> sessions, so
/// commits run between batches; a timer on the database's clock runs it every <see cref="SqliteSessionDatabaseOptions.PurgeInterval"/>.
/// </summary>
internal sealed class SqlitePurger : IDisposable
{
    private const string PurgeItemsSql = """
        DELETE FROM session_item WHERE session IN
            (SELECT id FROM session WHERE expires_at <= $now ORDER BY expires_at, id LIMIT $limit)
        """;
    private const string PurgeSessionsSql = """
        DELETE FROM session WHERE id IN
            (SELECT id FROM session WHERE expires_at <= $now ORDER BY expires_at, id LIMIT $limit)
        RETURNING key
        """;

    private readonly TimeProvider _time;
    private readonly int _batchSize;
    private readonly Func<string, Func<PooledConnection, int>, int> _write;
    private readonly Action<Exception> _failed;
    private readonly Action<byte[]> _purged;
    private readonly ITimer _timer;
    private int _running;
    private volatile bool _stopped;

    /// <param name="time">The clock that decides what has expired and drives the timer.</param>
    /// <param name="options">The batch size and interval.</param>
    /// <param name="write">Runs one write transaction (begun and committed by it) under the database's write lock (throws <see cref="SessionDatabaseException"/> on failure).</param>
    /// <param name="failed">Told when a timed purge fails (the next one retries).</param>
    /// <param name="purged">Told the key (the ID's hash) of each session deleted, after its batch committed, outside the write lock.</param>
    public SqlitePurger(TimeProvider time, SqliteSessionDatabaseOptions options, Func<string, Func<PooledConnection, int>, int> write, Action<Exception> failed, Action<byte[]> purged)
    {
        _purged = purged;
        _time = time;
        _batchSize = options.PurgeBatchSize;
        _write = write;
        _failed = failed;
        _timer = time.CreateTimer(static state => ((SqlitePurger)state!).OnTimer(), this, options.PurgeInterval, options.PurgeInterval);
    }

    /// <summary>Purges every session expired now, batch by batch, on the calling thread.</summary>
    /// <returns>The number of sessions deleted.</returns>
    public int PurgeExpired()
    {
        var total = 0;
        var keys = new List<byte[]>();
        while (true)
        {
            var deleted = _write("purge expired sessions", connection => PurgeBatch(connection, keys));
            total += deleted;
            foreach (var key in keys)
                Report(key);
            if (deleted < _batchSize)
                return total;
        }
    }

    /// <summary>Stops the timer; a purge already running finishes its batch.</summary>
    public void Dispose()
    {
        _stopped = true;
        _timer.Dispose();
    }

    private int PurgeBatch(PooledConnection connection, List<byte[]> keys)
    {
        keys.Clear(); // a retried transaction starts over
        var now = _time.GetUtcNow().UtcTicks;
        var items = connection.Command(PurgeItemsSql, "$now", "$limit");
        items.Parameters[0].Value = now;
        items.Parameters[1].Value = _batchSize;
        items.ExecuteNonQuery();
        var sessions = connection.Command(PurgeSessionsSql, "$now", "$limit");
        sessions.Parameters[0].Value = now;
        sessions.Parameters[1].Value = _batchSize;
        using (var reader = sessions.ExecuteReader())
        {
            while (reader.Read())
                keys.Add((byte[])reader[0]);
        }
        connection.Execute("COMMIT");
        return keys.Count;
    }

    private void Report(byte[] key)
    {
        try
        {
            _purged(key);
        }
        catch (Exception)
        {
            // A throwing event handler must not stop the purge (the memory database's sweep does the same).
        }
    }

    private void OnTimer()
    {
        if (Interlocked.Exchange(ref _running, 1) != 0)
            return;
        try
        {
            if (!_stopped)
                PurgeExpired();
        }
        catch (Exception e) when (e is SessionDatabaseException or ObjectDisposedException)
        {
            try
            {
                _failed(e);
            }
            catch (Exception)
            {
                // A failing handler must not stop the timer.
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }
}
