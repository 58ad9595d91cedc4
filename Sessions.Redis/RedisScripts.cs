using System.Security.Cryptography;
using System.Text;

namespace Sessions.Redis;

/// <summary>
/// The Lua scripts, each run atomically on the node that holds the session's hash. Field layout of the hash:
/// <c>v</c>+key (a value) and <c>f</c>+key (a flash), each stored as <c>ORDER:</c> followed by the
/// <see cref="SessionValueCodec"/> bytes (ORDER is the insertion rank, so the order survives a reload although Redis
/// hashes keep none); <c>#a</c> absolute deadline and <c>#i</c> idle deadline (UTC ticks, <c>#a</c> empty for none),
/// <c>#am</c> and <c>#im</c> the same deadlines in Unix milliseconds (the scripts compute the key's expiry from these, so
/// no tick count ever goes through Lua's double arithmetic), <c>#n</c> the last insertion rank handed
/// out, <c>#s</c> the payload of the values and flashes as <see cref="SessionValueCodec.PayloadSize"/> counts it (key
/// bytes plus codec bytes; the ORDER prefix is not counted), <c>#c</c> the token of the change set that created the session,
/// <c>#u</c> the user the session is signed in as and <c>#ui</c> when (UTC ticks), both absent when it is not (see
/// <see cref="RedisUserIndex"/>).
/// </summary>
/// <remarks>
/// Next to a session key lives, for a while, its end marker: the same name followed by <c>:ended</c> (the same hash tag, so
/// the same cluster slot). Destroy and renew leave it with the session's remaining TTL, so that a create retried after
/// either (its first attempt applied, its reply lost) cannot bring the session back. Only creates read it.
/// <para>
/// Destroy and Place take two more arguments, last, and a create's commit takes them in its tail: a pub/sub channel and a
/// message, which they <c>PUBLISH</c> once their change is made, in the same atomic step (see <see cref="RedisSessionEvents"/>);
/// an empty message publishes nothing.
/// </para>
/// </remarks>
internal static class RedisScripts
{
    /// <summary>What follows a session key's name in the name of its end marker.</summary>
    public const string EndedSuffix = ":ended";

    /// <summary>
    /// Applies one request's changes. KEYS[1] the session key and, for a create only, KEYS[2] its end marker. ARGV: 1 six
    /// flags, each '1' or '0': new, cleared, flashes cleared, moves the absolute deadline, signs in, unloaded; 2 idle ticks
    /// and 3 idle Unix ms (both empty when the idle deadline does not move), 4 expiry slack ms, 5 payload limit, then the
    /// deleted fields (count, names), then the set fields (count, then name and stored payload for each: its payload size
    /// is the name's bytes less the v/f, plus the payload's), then, only where its flag says so: a moved absolute
    /// deadline's ticks and Unix ms (both empty for none); a create's token, event channel and message
    /// (published only when this run created the key, not on a retried create); a sign-in's user and ticks; for a session
    /// the request did not load (<see cref="SessionChanges.RequiresLiveAt"/>), that instant in Unix ms and the key limit.
    /// Every argument a request does not need is left out, because each one costs the client and the server on every
    /// commit. Returns 1 when applied, 0 when refused (a new
    /// session whose key exists, unless it is this change set's own earlier, timed-out create, or whose end marker
    /// exists; or an existing session whose key is gone: destroyed, renewed or expired, so it is never recreated; or, for
    /// an unloaded session, one past a deadline), -1 when the merged session would grow past the payload limit, -3 past
    /// the key limit, and {-2, field} when a plain value would replace an immutable one. An unloaded session's commit that
    /// moved the idle deadline of a signed-in session returns {user, end in Unix ms} instead of 1 (its index entry follows). Nothing is
    /// written before every check passed.
    /// Only the deadlines the request moved are written, and the size, rank counter and token only when they change (no
    /// version is kept: nothing reads it; a <c>#v</c> field left by an earlier layout is ignored); the key's expiry is then
    /// recomputed from the stored and new deadlines (the earlier of the two, plus the slack). The script reads everything it
    /// needs with one <c>HMGET</c> and writes with one <c>HSET</c>, and makes no table or string it can do without: its
    /// own work is most of the server's CPU per commit.
    /// </summary>
    public static readonly RedisScript Commit = new("""
        local key = KEYS[1]
        local tonumber, byte, find = tonumber, string.byte, string.find
        local isNew, cleared, flashesCleared, movesAbsolute, signsIn, unloaded = byte(ARGV[1], 1, 6)
        isNew, cleared, flashesCleared, movesAbsolute = isNew == 49, cleared == 49, flashesCleared == 49, movesAbsolute == 49
        local movesIdle = ARGV[2] ~= ''
        local n = tonumber(ARGV[6])
        local sets = tonumber(ARGV[7 + n])
        local first = 8 + n
        local tail = first + 2 * sets
        local absoluteTicks, absoluteMs, token, channel, message, user, signedIn, liveAt, maxKeys
        if movesAbsolute then absoluteTicks, absoluteMs = ARGV[tail], ARGV[tail + 1]; tail = tail + 2 end
        if isNew then token, channel, message = ARGV[tail], ARGV[tail + 1], ARGV[tail + 2]; tail = tail + 3 end
        if signsIn == 49 then user, signedIn = ARGV[tail], ARGV[tail + 1]; tail = tail + 2 end
        if unloaded == 49 then liveAt, maxKeys = tonumber(ARGV[tail]), ARGV[tail + 1] end
        -- One read: the metadata this commit needs (the token only for a create, the user only for an unloaded session),
        -- then the current value of every field it deletes, then of every field it sets.
        local fields = {'#i', '#im', '#am', '#s', '#n'}
        local m = 5
        if isNew then m = m + 1; fields[m] = '#c' end
        local tokenAt = m
        if liveAt then m = m + 1; fields[m] = '#u' end
        for j = 1, n do fields[m + j] = ARGV[6 + j] end
        for j = 0, sets - 1 do fields[m + n + 1 + j] = ARGV[first + 2 * j] end
        local current = redis.call('HMGET', key, unpack(fields))
        local exists = current[1]
        if isNew then
          if exists then
            if current[tokenAt] ~= token then return 0 end
          elseif redis.call('EXISTS', KEYS[2]) == 1 then
            return 0
          end
        elseif not exists then
          return 0
        end
        local im, am = tonumber(current[2]), tonumber(current[3])
        if liveAt then
          if not im or im <= liveAt or (am and am <= liveAt) then return 0 end
          -- As for a loaded session: the idle deadline is stored once it moves by a tenth of the idle timeout.
          local idle = tonumber(ARGV[3])
          movesIdle = idle - im >= (idle - liveAt) / 10
        end
        local size = tonumber(current[4]) or 0
        local storedCounter = tonumber(current[5])
        local counter = storedCounter or 0
        local projected = size
        -- What a stored field counts: its key's bytes (the name without its v/f) and the codec bytes (after ORDER:).
        local removed, deletes = nil, nil
        if n > 0 or cleared or flashesCleared then
          removed, deletes = {}, {}
          if cleared or flashesCleared then
            local all = redis.call('HGETALL', key)
            for k = 1, #all, 2 do
              local c = string.sub(all[k], 1, 1)
              if (c == 'v' and cleared) or (c == 'f' and flashesCleared) then
                removed[all[k]] = true
                projected = projected - (#all[k] - 1 + #all[k + 1] - (find(all[k + 1], ':', 1, true) or 0))
                deletes[#deletes + 1] = all[k]
              end
            end
          end
          for j = 1, n do
            local f, old = ARGV[6 + j], current[m + j]
            if old and not removed[f] then
              removed[f] = true
              projected = projected - (#f - 1 + #old - (find(old, ':', 1, true) or 0))
              deletes[#deletes + 1] = f
            end
          end
        end
        local writes = {}
        local added = 0
        for j = 0, sets - 1 do
          local a = first + 2 * j
          local f = ARGV[a]
          local old = current[m + n + 1 + j]
          local order = nil
          if old and not (removed and removed[f]) then
            local colon = find(old, ':', 1, true)
            if colon then
              order = string.sub(old, 1, colon - 1)
              if liveAt and byte(f, 1) == 118 and byte(old, colon + 1) == 105 and byte(ARGV[a + 1], 1) ~= 105 then return {-2, f} end
            end
            projected = projected - (#f - 1 + #old - (colon or 0))
          else
            added = added + 1
          end
          if not order then
            counter = counter + 1
            order = string.format('%d', counter)
          end
          projected = projected + #f - 1 + #ARGV[a + 1]
          writes[#writes + 1] = f
          writes[#writes + 1] = order .. ':' .. ARGV[a + 1]
        end
        -- A commit that does not grow the payload passes even over the limit (a limit lowered since), so it can shrink it.
        if projected > size and projected > tonumber(ARGV[5]) then return -1 end
        if liveAt and added > 0 then
          -- The keys a load would have counted: every field but the metadata, less those this commit removes.
          local held = redis.call('HLEN', key)
          for _, m in ipairs(redis.call('HMGET', key, '#a', '#am', '#i', '#im', '#v', '#n', '#s', '#c', '#u', '#ui')) do
            if m then held = held - 1 end
          end
          if deletes then held = held - #deletes end
          if held + added > tonumber(maxKeys) then return -3 end
        end
        if deletes and #deletes > 0 then redis.call('HDEL', key, unpack(deletes)) end
        if projected < 0 then projected = 0 end
        if movesAbsolute then
          writes[#writes + 1] = '#a'
          writes[#writes + 1] = absoluteTicks
          writes[#writes + 1] = '#am'
          writes[#writes + 1] = absoluteMs
          am = tonumber(absoluteMs)
        end
        if movesIdle then
          writes[#writes + 1] = '#i'
          writes[#writes + 1] = ARGV[2]
          writes[#writes + 1] = '#im'
          writes[#writes + 1] = ARGV[3]
          im = tonumber(ARGV[3])
        end
        -- Only what changes is written: an unchanged size or rank counter, or the token of a retried create, is left as is.
        if projected ~= size or not current[4] then
          writes[#writes + 1] = '#s'
          writes[#writes + 1] = string.format('%d', projected)
        end
        if counter ~= storedCounter then
          writes[#writes + 1] = '#n'
          writes[#writes + 1] = string.format('%d', counter)
        end
        if not exists then
          writes[#writes + 1] = '#c'
          writes[#writes + 1] = token
        end
        if user then
          writes[#writes + 1] = '#u'
          writes[#writes + 1] = user
          writes[#writes + 1] = '#ui'
          writes[#writes + 1] = signedIn
        end
        if #writes > 0 then redis.call('HSET', key, unpack(writes)) end
        local at = nil
        if movesAbsolute or movesIdle then
          -- Milliseconds since 1970 stay far below 2^53: exact in Lua's doubles.
          at = im
          if am and (not at or am < at) then at = am end
          if at then redis.call('PEXPIREAT', key, string.format('%d', at + tonumber(ARGV[4]))) end
        end
        if not exists and message ~= '' then redis.call('PUBLISH', channel, message) end -- not exists: a create, so message is set
        if liveAt and movesIdle and current[m] then return {current[m], string.format('%d', at)} end
        return 1
        """);

    /// <summary>
    /// Applies several requests' changes, each as <see cref="Commit"/> does, in one run (see <see cref="RedisCommitBatcher"/>).
    /// KEYS: each commit's keys in turn; ARGV: for each commit, its key count, its argument count, then its arguments.
    /// Returns one answer per commit, in order: what <see cref="Commit"/> returns, or {error message} when a Redis
    /// command failed inside that commit (caught there, so the others go on; a commit writes nothing before its checks
    /// passed, and its writes are its last commands).
    /// </summary>
    public static readonly RedisScript CommitMany = new("local function commit(k, o)\n"
        + Commit.Text.Replace("KEYS[", "KEYS[k + ").Replace("ARGV[", "ARGV[o + ") // each commit reads its own slice, in place
        + """

        end
        local answers, k, o = {}, 0, 0
        while o < #ARGV do
          local keyCount, argCount = tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2])
          local ok, answer = pcall(commit, k, o + 2)
          if not ok then answer = {type(answer) == 'table' and answer.err or tostring(answer)} end
          answers[#answers + 1] = answer
          k, o = k + keyCount, o + 2 + argCount
        end
        return answers
        """);

    /// <summary>
    /// Moves the deadlines of an existing session. KEYS[1] the key; ARGV: absolute ticks, absolute Unix ms (both empty for
    /// none), idle ticks, idle Unix ms, PEXPIREAT milliseconds. Returns 0 when the key is gone; else the user the session
    /// is signed in as (its index entry moves too), or 1.
    /// </summary>
    public static readonly RedisScript UpdateExpiration = new("""
        local key = KEYS[1]
        if redis.call('EXISTS', key) == 0 then return 0 end
        redis.call('HSET', key, '#a', ARGV[1], '#am', ARGV[2], '#i', ARGV[3], '#im', ARGV[4])
        redis.call('PEXPIREAT', key, ARGV[5])
        return redis.call('HGET', key, '#u') or 1
        """);

    /// <summary>
    /// Destroys a session. KEYS[1] the key, KEYS[2] its end marker, which it leaves for the session's remaining TTL.
    /// ARGV: the event channel and message. Returns 0 when the key did not exist; else the user the session was signed in
    /// as (its index entry goes too), or 1.
    /// </summary>
    public static readonly RedisScript Destroy = new("""
        local user = redis.call('HGET', KEYS[1], '#u')
        local ttl = redis.call('PTTL', KEYS[1])
        if redis.call('DEL', KEYS[1]) == 0 then return 0 end
        if ttl > 0 then redis.call('SET', KEYS[2], '1', 'PX', ttl) end
        if ARGV[#ARGV] ~= '' then redis.call('PUBLISH', ARGV[#ARGV - 1], ARGV[#ARGV]) end
        return user or 1
        """);

    /// <summary>
    /// The first step of a renew: takes a whole session off its key. KEYS[1] the key, KEYS[2] its end marker, which it
    /// leaves for the session's remaining TTL. Returns nil when the key holds no session; else the key's PTTL followed by
    /// the hash's fields and values, and the key is gone.
    /// </summary>
    public static readonly RedisScript Take = new("""
        if redis.call('HEXISTS', KEYS[1], '#i') == 0 then return false end
        local ttl = redis.call('PTTL', KEYS[1])
        local all = redis.call('HGETALL', KEYS[1])
        redis.call('DEL', KEYS[1])
        if ttl > 0 then redis.call('SET', KEYS[2], '1', 'PX', ttl) end
        local reply = {ttl}
        for k = 1, #all do reply[k + 1] = all[k] end
        return reply
        """);

    /// <summary>
    /// The second step of a renew: writes a taken session under a key. KEYS[1] the key, KEYS[2] its end marker. ARGV: 1 the
    /// mode (<c>new</c>: under the new ID, only when neither the key nor its end marker exists, leaving out the creation
    /// token; <c>restore</c>: back under the old ID, only when the key is absent, removing the end marker), 2 expiry slack
    /// ms, 3 the PTTL it was taken with (used only when the hash lacks its millisecond deadlines), then field/value pairs,
    /// then the event channel and message.
    /// The key expires at the earlier stored deadline plus the slack, as it did before it was taken. Returns 1, or 0 when
    /// refused.
    /// </summary>
    public static readonly RedisScript Place = new("""
        local restore = ARGV[1] == 'restore'
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        if not restore and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
        local writes = {}
        local am, im
        for k = 4, #ARGV - 2, 2 do
          local f = ARGV[k]
          if f == '#am' then am = ARGV[k + 1] elseif f == '#im' then im = ARGV[k + 1] end
          if restore or f ~= '#c' then
            writes[#writes + 1] = f
            writes[#writes + 1] = ARGV[k + 1]
          end
        end
        if #writes == 0 then return 0 end
        redis.call('HSET', KEYS[1], unpack(writes))
        local at = tonumber(im)
        local absolute = tonumber(am)
        if absolute and (not at or absolute < at) then at = absolute end
        if at then
          redis.call('PEXPIREAT', KEYS[1], string.format('%d', at + tonumber(ARGV[2])))
        elseif tonumber(ARGV[3]) > 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[3])
        end
        if restore then redis.call('DEL', KEYS[2]) end
        if ARGV[#ARGV] ~= '' then redis.call('PUBLISH', ARGV[#ARGV - 1], ARGV[#ARGV]) end
        return 1
        """);

    /// <summary>Every script, for tests that preload the script cache and for the health check.</summary>
    public static IReadOnlyList<RedisScript> All => [Commit, CommitMany, UpdateExpiration, Destroy, Take, Place, .. RedisUserIndex.Scripts];
}

/// <summary>A Lua script and its SHA-1, for <c>EVALSHA</c> with an <c>EVAL</c> fallback.</summary>
internal sealed class RedisScript
{
    public RedisScript(string text)
    {
        Text = text.Replace("\r\n", "\n");
        using var sha1 = SHA1.Create(); // the script cache's name for the script, not a security use
        Hash = sha1.ComputeHash(Encoding.UTF8.GetBytes(Text));
    }

    /// <summary>The script.</summary>
    public string Text { get; }

    /// <summary>Its SHA-1, the name Redis's script cache knows it by.</summary>
    public byte[] Hash { get; }
}
