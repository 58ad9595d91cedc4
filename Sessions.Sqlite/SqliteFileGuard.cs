using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <summary>
/// Owns one database file for one <see cref="SqliteSessionDatabase"/>: holds the exclusive lock on <c>PATH.lock</c> for its
/// lifetime, refuses a file this library cannot use (leaving it untouched), and opens configured connections to it. A file
/// or lock file it creates is readable and writable by its owner only (mode 0600 on Unix); SQLite gives its WAL and
/// shared-memory files the database file's mode.
/// </summary>
internal sealed class SqliteFileGuard : IDisposable
{
    private readonly SqliteSessionDatabaseOptions _options;
    private readonly FileStream _lock;

    /// <summary>Takes the lock on <paramref name="path"/>'s lock file, or fails if another instance or process holds it.</summary>
    /// <exception cref="SessionDatabaseException">The directory is missing, the lock file cannot be written, or it is locked.</exception>
    public SqliteFileGuard(string path, SqliteSessionDatabaseOptions options)
    {
        Path = path;
        _options = options;
        _lock = AcquireLock(path);
    }

    public string Path { get; }

    /// <summary>
    /// Opens the file (creating it when missing) and checks it: a SQLite file, writable, with this library's schema
    /// (created in a new or empty file), and sound when <see cref="SqliteSessionDatabaseOptions.CheckIntegrityOnOpen"/>.
    /// </summary>
    /// <returns>The connection the checks ran on, ready for use.</returns>
    /// <exception cref="SessionDatabaseException">The file cannot be used; the message names the path and the cause.</exception>
    public SqliteConnection OpenAndVerify()
    {
        var exists = File.Exists(Path);
        try
        {
            if (exists && !SqliteSchema.HasSqliteHeader(Path))
                throw Unusable("it is not a SQLite database (the header is wrong); it was left untouched", null);
            if (!exists)
                CreateOwnerOnly(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unusable(exists
                ? $"it cannot be read ({e.Message})"
                : $"it cannot be created (read-only file system or directory, or no permission) ({e.Message})", e);
        }
        SqliteConnection? connection = null;
        try
        {
            connection = OpenConnection();
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

    /// <summary>A new connection to the (existing) file, with this database's durability and timeout settings.</summary>
    public SqliteConnection OpenConnection()
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = false, // the database pools its own connections, and must close the file on Dispose
            // SQLite's busy handler does the waiting (busy_timeout, set per operation within its time budget); Microsoft.Data.Sqlite's
            // own retry loop, which runs until the command timeout, is kept to its one-second minimum.
            DefaultTimeout = 1,
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

    /// <summary>What a SQLite error means for this file, in words.</summary>
    public static string Describe(SqliteException e) => e.SqliteErrorCode switch
    {
        5 or 6 => $"it is locked by another process ({e.Message})",
        8 => $"it is read-only ({e.Message})",
        11 => $"it is damaged ({e.Message})",
        14 => $"it cannot be opened (missing directory, permissions, or a read-only directory for its WAL files) ({e.Message})",
        26 => $"it is not a SQLite database or is damaged ({e.Message})",
        _ => e.Message,
    };

    /// <summary>Releases the lock: another instance may open the file.</summary>
    public void Dispose() => _lock.Dispose();

    private static FileStream AcquireLock(string path)
    {
        var directory = System.IO.Path.GetDirectoryName(path);
        if (directory is not null && !Directory.Exists(directory))
            throw new SessionDatabaseException($"Cannot open the session database '{path}': its directory does not exist.");
        var lockPath = path + ".lock";
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock on Unix) that the OS releases if the process dies.
            return OpenOwnerOnly(lockPath, FileMode.OpenOrCreate, FileShare.None);
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

    /// <summary>Creates the empty database file before SQLite opens it, so it is owner-only from its first byte.</summary>
    private static void CreateOwnerOnly(string path) => OpenOwnerOnly(path, FileMode.CreateNew, FileShare.ReadWrite).Dispose();

    private static FileStream OpenOwnerOnly(string path, FileMode mode, FileShare share)
    {
#if NET7_0_OR_GREATER
        if (!OperatingSystem.IsWindows())
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = mode,
                Access = FileAccess.ReadWrite,
                Share = share,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
#endif
        return new FileStream(path, mode, FileAccess.ReadWrite, share);
    }

    private SessionDatabaseException Unusable(string cause, Exception? inner) =>
        new($"Cannot open the session database '{Path}': {cause}.", inner);
}
