using Microsoft.Data.Sqlite;
using Sessions.Testing;

namespace Sessions.Sqlite.Tests;

/// <content>The user index in the file: the migration of version 1 files, and rows that leave the index with their session.</content>
public sealed partial class SqliteSessionDatabaseTests
{
    [Test]
    public async Task Version1File_IsMigrated_ItsSessionsKeepWorking_AndCanSignIn()
    {
        var id = SessionIds.NewId();
        var idle = _time.GetUtcNow() + TimeSpan.FromMinutes(30);
        using (var connection = RawConnection(create: true))
        {
            Execute(connection, "PRAGMA journal_mode = WAL");
            Execute(connection, $"""
                CREATE TABLE session (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, absolute_deadline INTEGER,
                    idle_deadline INTEGER NOT NULL, expires_at INTEGER NOT NULL, version INTEGER NOT NULL);
                CREATE INDEX session_expires_at ON session (expires_at);
                CREATE TABLE session_item (session INTEGER NOT NULL, kind INTEGER NOT NULL, name TEXT NOT NULL,
                    ord INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (session, kind, name)) WITHOUT ROWID;
                PRAGMA application_id = {SqliteSchema.ApplicationId};
                PRAGMA user_version = 1;
                """);
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO session (key, absolute_deadline, idle_deadline, expires_at, version) VALUES ($key, NULL, $idle, $idle, 1)";
            insert.Parameters.AddWithValue("$key", SessionIds.Hash(id));
            insert.Parameters.AddWithValue("$idle", idle.UtcTicks);
            insert.ExecuteNonQuery();
        }

        var manager = Manager(Open());

        var session = await manager.StartAsync(Request(id));
        session.IsNew.Should().BeFalse("a session of the version 1 file is still adopted");
        session.User.Should().BeNull();
        session.SetUser("alice");
        await session.CommitAsync();
        (await manager.ListUserSessionsAsync("alice")).Select(s => s.Handle).Should().Equal(SessionIds.HashText(id));
        ReadPragma("user_version").Should().Be(2L);
        ReadPragma("index_info('session_user')").Should().NotBeNull("the user column is indexed");
    }

    [Test]
    public async Task TenThousandExpiredSessionsOfOneUser_LeaveNothingInTheIndex()
    {
        var database = Open();
        var manager = Manager(database);
        const int count = 10_000;
        for (var batch = 0; batch < count; batch += 500)
        {
            await Task.WhenAll(Enumerable.Range(0, 500).Select(async _ =>
            {
                var session = await manager.StartAsync(new TestCarrier());
                session.SetUser("alice");
                await session.CommitAsync();
            }));
        }
        CountUserRows("alice").Should().Be(count);

        _time.Advance(TimeSpan.FromMinutes(31));
        database.PurgeExpired();

        CountUserRows("alice").Should().Be(0);
        (await manager.ListUserSessionsAsync("alice")).Should().BeEmpty();
    }

    private long CountUserRows(string user)
    {
        using var connection = RawConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM session WHERE user = $user";
        command.Parameters.AddWithValue("$user", user);
        return (long)command.ExecuteScalar()!;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
