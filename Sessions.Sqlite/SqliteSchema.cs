using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <summary>
/// The file's layout, and the checks that refuse to use a file this library did not create. One row per session, keyed by
/// the SHA-256 of its ID (raw IDs are never stored); one row per value or flash, keyed by session, kind and name, with an
/// order number that keeps insertion order and the value in <see cref="SessionValueCodec"/> form. A session row also holds
/// the user it is signed in as (and when), indexed, so a user's sessions are found without a scan and leave with their row.
/// </summary>
internal static class SqliteSchema
{
    /// <summary>Stamped in the header (<c>PRAGMA application_id</c>): "SESS".</summary>
    public const int ApplicationId = 0x53455353;

    /// <summary>The layout version (<c>PRAGMA user_version</c>).</summary>
    public const int Version = 2;

    /// <summary>
    /// The most one value or flash may count (<see cref="SessionValueCodec.PayloadSize"/>), whatever the session limit: a
    /// larger row is never read into memory (damaged or foreign data) and dropped, so none is ever written.
    /// </summary>
    public const int MaxItemBytes = 16 * 1024 * 1024;

    public const int ValueKind = 0;
    public const int FlashKind = 1;

    private const string Create = """
        CREATE TABLE session (
            id INTEGER PRIMARY KEY,
            key BLOB NOT NULL UNIQUE,
            absolute_deadline INTEGER,
            idle_deadline INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            version INTEGER NOT NULL,
            user TEXT,
            signed_in INTEGER
        );
        CREATE INDEX session_expires_at ON session (expires_at);
        CREATE INDEX session_user ON session (user) WHERE user IS NOT NULL;
        CREATE TABLE session_item (
            session INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            name TEXT NOT NULL,
            ord INTEGER NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY (session, kind, name)
        ) WITHOUT ROWID;
        """;

    private const string MigrateToVersion2 = """
        ALTER TABLE session ADD COLUMN user TEXT;
        ALTER TABLE session ADD COLUMN signed_in INTEGER;
        CREATE INDEX session_user ON session (user) WHERE user IS NOT NULL;
        """;

    private static readonly byte[] Header = "SQLite format 3\0"u8.ToArray();

    /// <summary>Whether the file's first bytes are SQLite's header (an empty file counts as a new database).</summary>
    public static bool HasSqliteHeader(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = new byte[Header.Length];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = file.Read(buffer, read, buffer.Length - read);
            if (n == 0)
                break;
            read += n;
        }
        return read == 0 || buffer.AsSpan(0, read).SequenceEqual(Header);
    }

    /// <summary>Creates the layout in an empty database, or checks that an existing one is this library's, at this version.</summary>
    /// <returns><see langword="null"/> when the file is usable, otherwise why not.</returns>
    public static string? CreateOrVerify(SqliteConnection connection)
    {
        var applicationId = Scalar(connection, "PRAGMA application_id");
        var tables = Scalar(connection, "SELECT count(*) FROM sqlite_master");
        if (applicationId == 0 && tables == 0)
        {
            if (!string.Equals(Text(connection, "PRAGMA journal_mode = WAL"), "wal", StringComparison.OrdinalIgnoreCase))
                return "SQLite refused to switch it to WAL mode";
            Execute(connection, "BEGIN IMMEDIATE");
            Execute(connection, Create);
            Execute(connection, $"PRAGMA application_id = {ApplicationId}");
            Execute(connection, $"PRAGMA user_version = {Version}");
            Execute(connection, "COMMIT");
            return null;
        }
        if (applicationId != ApplicationId)
            return $"it is a SQLite database with another schema (application_id {applicationId}, {tables} schema objects), not a session database; it was left untouched";
        var version = Scalar(connection, "PRAGMA user_version");
        if (version == 1)
            version = MigrateFromVersion1(connection);
        if (version != Version)
            return $"its session schema version is {version}, and this library reads version {Version}";
        var ours = Scalar(connection, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('session', 'session_item')");
        if (ours != 2)
            return "it is stamped as a session database but its tables are missing";
        if (!string.Equals(Text(connection, "PRAGMA journal_mode = WAL"), "wal", StringComparison.OrdinalIgnoreCase))
            return "SQLite refused to switch it to WAL mode";
        return null;
    }

    /// <summary>
    /// Version 1 files (before users) gain the user columns and their index, in one transaction that first re-reads the
    /// version, so two processes opening the same file migrate it once. Existing sessions keep working, signed in as no one.
    /// </summary>
    private static long MigrateFromVersion1(SqliteConnection connection)
    {
        Execute(connection, "BEGIN IMMEDIATE");
        try
        {
            var version = Scalar(connection, "PRAGMA user_version");
            if (version == 1)
            {
                Execute(connection, MigrateToVersion2);
                Execute(connection, $"PRAGMA user_version = {Version}");
                version = Version;
            }
            Execute(connection, "COMMIT");
            return version;
        }
        catch
        {
            Execute(connection, "ROLLBACK");
            throw;
        }
    }

    /// <summary>SQLite's <c>quick_check</c>: <see langword="null"/> when the file is sound, otherwise the first problem found.</summary>
    public static string? QuickCheck(SqliteConnection connection)
    {
        var result = Text(connection, "PRAGMA quick_check(1)");
        return string.Equals(result, "ok", StringComparison.Ordinal) ? null : result;
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql) => Convert.ToInt64(ScalarObject(connection, sql), System.Globalization.CultureInfo.InvariantCulture);

    private static string? Text(SqliteConnection connection, string sql) => ScalarObject(connection, sql) as string;

    private static object? ScalarObject(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
