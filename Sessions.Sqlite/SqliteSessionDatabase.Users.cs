using Microsoft.Data.Sqlite;

namespace Sessions.Sqlite;

/// <content>
/// The user index is the indexed <c>user</c> column of the session row: a sign-in sets it in the commit's transaction,
/// renew keeps it (the row is re-keyed), destroy and the purge delete it with the row. A handle is the row's key (the
/// SHA-256 of the ID) in base64url.
/// </content>
public sealed partial class SqliteSessionDatabase
{
    private const string ListUserSql = "SELECT key, signed_in, absolute_deadline, idle_deadline FROM session WHERE user = $user";
    private const string DestroyUserItemsSql = "DELETE FROM session_item WHERE session IN (SELECT id FROM session WHERE user = $user AND key IS NOT $key)";
    private const string DestroyUserSessionsSql = "DELETE FROM session WHERE user = $user AND key IS NOT $key";
    private const string DestroyUserItemSql = "DELETE FROM session_item WHERE session = (SELECT id FROM session WHERE user = $user AND key = $key)";
    private const string DestroyUserSessionSql = "DELETE FROM session WHERE user = $user AND key = $key";

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public ValueTask<IReadOnlyList<UserSessionEntry>> ListUserSessionsAsync(string user, CancellationToken cancellationToken) =>
        ReadAsync("list a user's sessions", user, static (connection, user) =>
        {
            var command = connection.Command(ListUserSql, "$user");
            command.Parameters[0].Value = user;
            var entries = new List<UserSessionEntry>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    if (reader.IsDBNull(0) || reader.IsDBNull(3))
                        continue;
                    var idle = new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero);
                    entries.Add(new UserSessionEntry(
                        HandleOf(reader.GetFieldValue<byte[]>(0)),
                        reader.IsDBNull(1) ? idle : new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero),
                        reader.IsDBNull(2) ? null : new DateTimeOffset(reader.GetInt64(2), TimeSpan.Zero),
                        idle));
                }
            }
            return (IReadOnlyList<UserSessionEntry>)entries;
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed.</exception>
    public ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken)
    {
        if (KeyOf(handle) is not { } key)
            return new(false);
        return WriteAsync("destroy a user's session",
            connection => DeleteUserRows(connection, DestroyUserItemSql, DestroyUserSessionSql, user, key) > 0, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">SQLite failed; no session was destroyed.</exception>
    public ValueTask<int> DestroyUserSessionsAsync(string user, string? exceptHandle, CancellationToken cancellationToken)
    {
        object except = KeyOf(exceptHandle) is { } key ? key : DBNull.Value;
        return WriteAsync("destroy a user's sessions",
            connection => DeleteUserRows(connection, DestroyUserItemsSql, DestroyUserSessionsSql, user, except), cancellationToken);
    }

    /// <summary>Deletes a user's items, then sessions, with one <c>$user</c> and <c>$key</c>, and commits; returns the sessions deleted.</summary>
    private static int DeleteUserRows(PooledConnection connection, string itemsSql, string sessionsSql, string user, object key)
    {
        var items = connection.Command(itemsSql, "$user", "$key");
        items.Parameters[0].Value = user;
        items.Parameters[1].Value = key;
        items.ExecuteNonQuery();
        var sessions = connection.Command(sessionsSql, "$user", "$key");
        sessions.Parameters[0].Value = user;
        sessions.Parameters[1].Value = key;
        var deleted = sessions.ExecuteNonQuery();
        connection.Execute("COMMIT");
        return deleted;
    }

    /// <summary>A row key (32 bytes) as a handle: base64url without padding, as <see cref="SessionIds.HashText(string)"/> writes it.</summary>
    private static string HandleOf(byte[] key) => SessionIds.HashText(key);

    /// <summary>The row key a handle names, or <see langword="null"/> when it is not a handle.</summary>
    private static byte[]? KeyOf(string? handle) =>
        UserNames.IsHandle(handle) ? Convert.FromBase64String(handle!.Replace('-', '+').Replace('_', '/') + "=") : null;
}
