using System.Globalization;
using StackExchange.Redis;

namespace Sessions.Redis;

/// <content>
/// The user index (see <see cref="RedisUserIndex"/>). Round trips: a sign-in adds one command to its commit's pipeline
/// (two when it moves the session from another user); a commit of a signed-in session that moves its deadlines adds one,
/// in the same pipeline; any other request costs what it costs without users. Destroy, renew and UpdateExpiration of a
/// signed-in session add one round trip (the script reports the user, then the index is updated); listing costs two
/// (members, then every member's hash in one pipeline), plus one to drop members found dead; revoking one session costs
/// one; signing out a user everywhere costs two.
/// </content>
public sealed partial class RedisSessionDatabase
{
    private static readonly RedisValue[] ListedFields = ["#u", "#ui", "#a", "#i"];

    private readonly TimeProvider _time;

    /// <inheritdoc />
    /// <exception cref="SessionDatabaseException">Redis failed or timed out.</exception>
    public async ValueTask<IReadOnlyList<UserSessionEntry>> ListUserSessionsAsync(string user, CancellationToken cancellationToken)
    {
        var index = UserIndexKeyOf(user ?? throw new ArgumentNullException(nameof(user)));
        var members = await MembersAsync(index, cancellationToken).ConfigureAwait(false);
        if (members.Length == 0)
            return [];
        var rows = await RunAsync("list a user's sessions", db =>
        {
            var reads = new Task<(RedisValue[] Fields, bool Ended)>[members.Length];
            for (var i = 0; i < members.Length; i++)
                reads[i] = ReadMemberAsync(db, KeyOfHandle(members[i]));
            return Task.WhenAll(reads);
        }, cancellationToken).ConfigureAwait(false);
        var entries = new List<UserSessionEntry>(members.Length);
        List<RedisValue>? dead = null;
        for (var i = 0; i < members.Length; i++)
        {
            var (fields, ended) = rows[i];
            var owner = (string?)fields[0];
            if (owner == user && TryParseTicks(fields[3], out var idle) && idle != 0)
            {
                var idleAt = new DateTimeOffset(idle, TimeSpan.Zero);
                DateTimeOffset? absoluteAt = TryParseTicks(fields[2], out var absolute) && absolute != 0 ? new DateTimeOffset(absolute, TimeSpan.Zero) : null;
                var signedInAt = TryParseTicks(fields[1], out var signedIn) && signedIn != 0 ? new DateTimeOffset(signedIn, TimeSpan.Zero) : idleAt;
                entries.Add(new UserSessionEntry(members[i], signedInAt, absoluteAt, idleAt));
            }
            else if (owner is not null || ended)
            {
                // Signed in as someone else now, or destroyed or renewed (its end marker says so). A member with neither
                // hash nor end marker is a sign-in whose commit has not landed yet (another slot): it is left alone.
                (dead ??= []).Add(members[i]);
            }
        }
        if (dead is not null)
            await RunAsync("list a user's sessions", db => db.SortedSetRemoveAsync(index, dead.ToArray()), CancellationToken.None).ConfigureAwait(false);
        return entries;
    }

    /// <inheritdoc />
    /// <remarks>One round trip: a script that destroys the session only when it is signed in as <paramref name="user"/>, and the removal of its index entry, pipelined.</remarks>
    /// <exception cref="SessionDatabaseException">Redis failed or timed out.</exception>
    public async ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken)
    {
        if (user is null)
            throw new ArgumentNullException(nameof(user));
        if (!UserNames.IsHandle(handle))
            return false;
        var index = UserIndexKeyOf(user);
        return await RunAsync("destroy a user's session", async db =>
        {
            var destroyed = DestroyIfUserAsync(db, handle, user);
            var removed = db.SortedSetRemoveAsync(index, handle);
            await Task.WhenAll(destroyed, removed).ConfigureAwait(false);
            return await destroyed.ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Two round trips: the members, then every destroy and the index cleanup in one pipeline.</remarks>
    /// <exception cref="SessionDatabaseException">Redis failed or timed out.</exception>
    public async ValueTask<int> DestroyUserSessionsAsync(string user, string? exceptHandle, CancellationToken cancellationToken)
    {
        var index = UserIndexKeyOf(user ?? throw new ArgumentNullException(nameof(user)));
        var members = (await MembersAsync(index, cancellationToken).ConfigureAwait(false))
            .Where(m => !string.Equals(m, exceptHandle, StringComparison.Ordinal) && UserNames.IsHandle(m)).ToArray();
        if (members.Length == 0)
            return 0;
        return await RunAsync("destroy a user's sessions", async db =>
        {
            var destroys = members.Select(m => DestroyIfUserAsync(db, m, user)).ToArray();
            var removed = db.SortedSetRemoveAsync(index, members.Select(m => (RedisValue)m).ToArray());
            await Task.WhenAll(destroys.Append<Task>(removed)).ConfigureAwait(false);
            return destroys.Count(d => d.Result);
        }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The key of a user's index: the prefix, <c>user:</c>, then the base64url SHA-256 of the name as a hash tag.</summary>
    internal string UserIndexKeyOf(string user) => _prefix + "user:{" + SessionIds.HashText(user) + "}";

    /// <summary>The session key a handle names (a handle is a session key's tag).</summary>
    private string KeyOfHandle(string handle) => _keyStart + handle + "}";

    /// <summary>What the index holds for a commit: a sign-in's entry, or a signed-in session's moved deadline; else nothing.</summary>
    private IndexUpdate? IndexUpdateOf(string id, SessionRecord? record, SessionChanges changes, DateTimeOffset? absolute, DateTimeOffset? idle)
    {
        var user = changes.BindsUser ? changes.User : record?.User;
        if (user is null || (!changes.BindsUser && !changes.MovesAbsoluteDeadline && changes.IdleDeadline is null))
            return null;
        var idleAt = idle ?? record?.IdleDeadline;
        if (idleAt is null)
            return null;
        var endsAt = absolute is { } a && a < idleAt.Value ? a : idleAt.Value;
        var previous = changes.BindsUser && changes.PreviousUser is { } before && before != user ? before : null;
        return new IndexUpdate(user, HandleOf(id), endsAt.ToUnixTimeMilliseconds(), null, previous);
    }

    /// <summary>A renewed signed-in session's index move, read from the hash the renew took (<paramref name="content"/>: mode, slack, TTL, then field/value pairs).</summary>
    private IndexUpdate? RenewedIndexUpdate(string id, string newId, RedisValue[] content)
    {
        string? user = null;
        long? absolute = null, idle = null;
        for (var i = 3; i + 1 < content.Length; i += 2)
        {
            switch ((string?)content[i])
            {
                case "#u":
                    user = content[i + 1];
                    break;
                case "#am" when long.TryParse((string?)content[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var am):
                    absolute = am;
                    break;
                case "#im" when long.TryParse((string?)content[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var im):
                    idle = im;
                    break;
            }
        }
        if (string.IsNullOrEmpty(user) || idle is null)
            return null;
        var endsAt = absolute is { } a && a < idle.Value ? a : idle.Value;
        return new IndexUpdate(user!, HandleOf(newId), endsAt, HandleOf(id), null);
    }

    /// <summary>The user a destroy or deadline script reported (a bulk string), or <see langword="null"/> for a session signed in as no one.</summary>
    private static string? SignedInUser(RedisResult result) => result.Resp2Type == ResultType.BulkString ? (string?)result : null;

    private static async Task<RedisResult> WithIndexAsync(Task<RedisResult> command, Task<bool> index)
    {
        await Task.WhenAll(command, index).ConfigureAwait(false);
        return await command.ConfigureAwait(false);
    }

    private async Task<string[]> MembersAsync(RedisKey index, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var result = await RunAsync("list a user's sessions", db => EvaluateAsync(db, RedisUserIndex.List, [index], [now]), cancellationToken).ConfigureAwait(false);
        return ((RedisResult[])result!).Select(r => (string)r!).ToArray();
    }

    private static async Task<(RedisValue[] Fields, bool Ended)> ReadMemberAsync(IDatabase db, RedisKey key)
    {
        var fields = db.HashGetAsync(key, ListedFields);
        var ended = db.KeyExistsAsync(EndedKeyOf(key));
        return (await fields.ConfigureAwait(false), await ended.ConfigureAwait(false));
    }

    private async Task<bool> DestroyIfUserAsync(IDatabase db, string handle, string user)
    {
        var key = (RedisKey)KeyOfHandle(handle);
        return (long)await EvaluateAsync(db, RedisUserIndex.DestroyIfUser, [key, EndedKeyOf(key)], [user]).ConfigureAwait(false) == 1;
    }

    /// <summary>Deletes every user index under the prefix (for DestroyAll): the same scan as for sessions, with the index keys' shape.</summary>
    private Task DestroyUserIndexesAsync(IConnectionMultiplexer connection, CancellationToken cancellationToken) =>
        DeleteMatchingAsync(connection, EscapeGlob(_prefix) + "user:{" + new string('?', SessionTagLength) + "}", static _ => true, cancellationToken);

    /// <summary>One index write, sent in the pipeline of the session command it follows.</summary>
    private readonly struct IndexUpdate(string user, string handle, long endsAtMilliseconds, string? previousHandle, string? previousUser)
    {
        public Task<bool> SendAsync(RedisSessionDatabase database, IDatabase db)
        {
            var now = database._time.GetUtcNow().ToUnixTimeMilliseconds();
            RedisValue[] argv = previousHandle is null
                ? [now, database._slackMilliseconds, handle, endsAtMilliseconds]
                : [now, database._slackMilliseconds, handle, endsAtMilliseconds, previousHandle];
            var add = EvaluateAsync(db, RedisUserIndex.Add, [database.UserIndexKeyOf(user)], argv);
            var removed = previousUser is null ? null : db.SortedSetRemoveAsync(database.UserIndexKeyOf(previousUser), handle);
            return CompleteAsync(add, removed);
        }

        private static async Task<bool> CompleteAsync(Task<RedisResult> add, Task<bool>? removed)
        {
            await add.ConfigureAwait(false);
            if (removed is not null)
                await removed.ConfigureAwait(false);
            return true;
        }
    }
}
