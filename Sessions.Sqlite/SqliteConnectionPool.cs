using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <summary>
/// A few open connections to one file, each keeping its prepared commands. Microsoft.Data.Sqlite is synchronous, so an
/// operation rents a connection, runs to the end on the calling thread and returns it; waiting for a free connection is
/// the only asynchronous step.
/// </summary>
internal sealed class SqliteConnectionPool : IDisposable
{
    private readonly ConcurrentBag<PooledConnection> _idle = [];
    private readonly SemaphoreSlim _slots;
    private readonly int _size;
    private readonly Func<SqliteConnection> _open;
    private volatile bool _disposed;

    public SqliteConnectionPool(int size, Func<SqliteConnection> open)
    {
        _size = size;
        _slots = new SemaphoreSlim(size, size);
        _open = open;
    }

    /// <summary>Adds an already open connection (the one start-up checked the file with).</summary>
    public void Seed(SqliteConnection connection) => _idle.Add(new PooledConnection(connection));

    public async ValueTask<PooledConnection> RentAsync(CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0))
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return Take();
    }

    /// <summary>Rents a connection, blocking the calling thread at most <paramref name="timeout"/>; <see langword="null"/> when none came free.</summary>
    public PooledConnection? Rent(TimeSpan timeout) => _slots.Wait(timeout) ? Take() : null;

    /// <summary>Gives a connection back; a connection left in an unknown state (<paramref name="broken"/>) is closed instead.</summary>
    public void Return(PooledConnection connection, bool broken = false)
    {
        if (broken || _disposed)
            connection.Dispose();
        else
            _idle.Add(connection);
        _slots.Release();
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) for rented connections to come back, then closes every connection.</summary>
    public void Dispose(TimeSpan timeout)
    {
        _disposed = true;
        var deadline = DateTime.UtcNow + timeout;
        var taken = 0;
        for (; taken < _size; taken++)
        {
            var left = deadline - DateTime.UtcNow;
            if (!_slots.Wait(left > TimeSpan.Zero ? left : TimeSpan.Zero))
                break;
        }
        while (_idle.TryTake(out var connection))
            connection.Dispose();
    }

    public void Dispose() => Dispose(TimeSpan.FromSeconds(5));

    private PooledConnection Take()
    {
        if (_disposed)
        {
            _slots.Release();
            throw new ObjectDisposedException(nameof(SqliteSessionDatabase));
        }
        if (_idle.TryTake(out var connection))
            return connection;
        try
        {
            return new PooledConnection(_open());
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }
}

/// <summary>An open connection and its prepared commands, used by one operation at a time.</summary>
internal sealed class PooledConnection : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    public PooledConnection(SqliteConnection connection) => Connection = connection;

    public SqliteConnection Connection { get; }

    /// <summary>The command for <paramref name="sql"/>, prepared on first use and reused after; its parameters are named in <paramref name="parameters"/>.</summary>
    public SqliteCommand Command(string sql, params string[] parameters)
    {
        if (_commands.TryGetValue(sql, out var command))
            return command;
        command = Connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        _commands.Add(sql, command);
        return command;
    }

    public void Execute(string sql)
    {
        Command(sql).ExecuteNonQuery();
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
            command.Dispose();
        _commands.Clear();
        Connection.Dispose();
    }
}
