namespace Sessions.Redis;

/// <summary>
/// The per-user index: one sorted set per user, named the key prefix, <c>user:</c>, then the base64url SHA-256 of the user
/// name as a hash tag (so the name itself is not in the keyspace). Members are the sessions' handles (the tag of each
/// session key); each score is the session's end in Unix milliseconds, as its last sign-in or deadline move wrote it.
/// </summary>
/// <remarks>
/// <para>
/// In a Redis Cluster a user's set and a session's hash live in different slots, so no script touches both: the index is
/// kept by single-key scripts sent in the same pipeline as the session's own command, never by a multi-key script. The
/// set's own expiry is its highest score plus the expiry slack, so it never outlives its sessions, and every write and
/// every listing first drops the members whose score has passed: sessions that expired by TTL leave no trace after the
/// user's next sign-in or listing, and the whole set goes when its last session would have.
/// </para>
/// <para>
/// Scores only rise (a member's score is replaced only by a later one): two requests of one session may send their
/// deadline moves in either order, and an index entry ending before its session would drop a live session from the
/// listing. A score later than the session's end (a shortened lifetime) is harmless: listing reads each member's hash
/// and drops those that are gone or signed in as another user.
/// </para>
/// </remarks>
internal static class RedisUserIndex
{
    /// <summary>
    /// Adds or moves one member. KEYS[1] the user's set. ARGV: 1 now (Unix ms), 2 expiry slack ms, 3 the member, 4 its
    /// score, 5 (optional) a member to remove first (the old handle of a renewed session). Drops passed members, then
    /// sets the key's expiry to the highest score plus the slack. Returns the number of members left.
    /// </summary>
    public static readonly RedisScript Add = new("""
        local key = KEYS[1]
        if ARGV[5] then redis.call('ZREM', key, ARGV[5]) end
        local old = tonumber(redis.call('ZSCORE', key, ARGV[3]))
        if not old or old < tonumber(ARGV[4]) then redis.call('ZADD', key, ARGV[4], ARGV[3]) end
        redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
        local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
        if #last == 0 then return 0 end
        redis.call('PEXPIREAT', key, string.format('%d', tonumber(last[2]) + tonumber(ARGV[2])))
        return redis.call('ZCARD', key)
        """);

    /// <summary>KEYS[1] the user's set; ARGV[1] now (Unix ms). Drops passed members and returns the rest.</summary>
    public static readonly RedisScript List = new("""
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        return redis.call('ZRANGE', KEYS[1], 0, -1)
        """);

    /// <summary>
    /// Destroys a session only when it is signed in as ARGV[1], as <see cref="RedisScripts.Destroy"/> does (KEYS[1] the
    /// key, KEYS[2] its end marker). Returns 1 when destroyed, else 0.
    /// </summary>
    public static readonly RedisScript DestroyIfUser = new("""
        if redis.call('HGET', KEYS[1], '#u') ~= ARGV[1] then return 0 end
        local ttl = redis.call('PTTL', KEYS[1])
        redis.call('DEL', KEYS[1])
        if ttl > 0 then redis.call('SET', KEYS[2], '1', 'PX', ttl) end
        return 1
        """);

    /// <summary>Every script of the index.</summary>
    public static IReadOnlyList<RedisScript> Scripts => [Add, List, DestroyIfUser];
}
