using System.Security.Cryptography;
using System.Text;

namespace Sessions.Redis;

/// <summary>
/// The Lua scripts, each run atomically on the node that holds the session's hash. Field layout of the hash:
/// <c>v</c>+key (a value) and <c>f</c>+key (a flash), each stored as <c>ORDER:</c> followed by the
/// <see cref="SessionValueCodec"/> bytes (ORDER is the insertion rank, so the order survives a reload although Redis
/// hashes keep none); <c>#a</c> absolute deadline and <c>#i</c> idle deadline (UTC ticks, <c>#a</c> empty for none),
/// <c>#v</c> version, <c>#n</c> the last insertion rank handed out, <c>#s</c> the stored size of the values and flashes,
/// <c>#c</c> the token of the change set that created the session.
/// </summary>
internal static class RedisScripts
{
    /// <summary>
    /// Applies one request's changes. KEYS[1] the session key. ARGV: isNew, cleared, flashesCleared, absolute ticks,
    /// idle ticks, PEXPIREAT milliseconds, size limit, creation token (new sessions), then the deleted fields (count,
    /// names), then the set fields (count, name/payload pairs). Returns 1 when applied, 0 when refused (a new session
    /// whose key exists, unless it is this change set's own earlier, timed-out create; or an existing session whose key
    /// is gone: destroyed, renewed or expired, so it is never recreated), -1 over the size limit.
    /// Nothing is written before every check passed.
    /// </summary>
    public static readonly RedisScript Commit = new("""
        local key = KEYS[1]
        local i = 9
        local n = tonumber(ARGV[i])
        i = i + n + 1
        local sets = tonumber(ARGV[i])
        local first = i + 1
        -- One read: the metadata and the current value of every field this commit deletes or sets.
        local fields = {'#i', '#s', '#c', '#v', '#n'}
        for j = 1, n do fields[#fields + 1] = ARGV[9 + j] end
        for j = 0, sets - 1 do fields[#fields + 1] = ARGV[first + 2 * j] end
        local current = redis.call('HMGET', key, unpack(fields))
        local exists = current[1] ~= false
        if ARGV[1] == '1' then
          if exists and current[3] ~= ARGV[8] then return 0 end
        elseif not exists then
          return 0
        end
        local size = tonumber(current[2] or '0') or 0
        local version = tonumber(current[4] or '0') or 0
        local counter = tonumber(current[5] or '0') or 0
        local old = {}
        for k = 6, #fields do old[fields[k]] = current[k] end
        local removed = {}
        if ARGV[2] == '1' or ARGV[3] == '1' then
          for _, f in ipairs(redis.call('HKEYS', key)) do
            local c = string.sub(f, 1, 1)
            if (c == 'v' and ARGV[2] == '1') or (c == 'f' and ARGV[3] == '1') then removed[f] = redis.call('HSTRLEN', key, f) end
          end
        end
        for j = 1, n do
          local f = ARGV[9 + j]
          if old[f] then removed[f] = string.len(old[f]) end
        end
        local projected = size
        for _, length in pairs(removed) do projected = projected - length end
        local writes = {}
        for j = 0, sets - 1 do
          local f = ARGV[first + 2 * j]
          local order = nil
          if not removed[f] and old[f] then
            projected = projected - string.len(old[f])
            order = string.match(old[f], '^(%d+):')
          end
          if not order then
            counter = counter + 1
            order = tostring(counter)
          end
          local stored = order .. ':' .. ARGV[first + 2 * j + 1]
          projected = projected + string.len(stored)
          writes[#writes + 1] = f
          writes[#writes + 1] = stored
        end
        if projected > tonumber(ARGV[7]) then return -1 end
        local deletes = {}
        for f in pairs(removed) do deletes[#deletes + 1] = f end
        if #deletes > 0 then redis.call('HDEL', key, unpack(deletes)) end
        if projected < 0 then projected = 0 end
        writes[#writes + 1] = '#a'
        writes[#writes + 1] = ARGV[4]
        writes[#writes + 1] = '#i'
        writes[#writes + 1] = ARGV[5]
        writes[#writes + 1] = '#s'
        writes[#writes + 1] = projected
        writes[#writes + 1] = '#v'
        writes[#writes + 1] = version + 1
        writes[#writes + 1] = '#n'
        writes[#writes + 1] = counter
        if ARGV[1] == '1' then
          writes[#writes + 1] = '#c'
          writes[#writes + 1] = ARGV[8]
        end
        redis.call('HSET', key, unpack(writes))
        redis.call('PEXPIREAT', key, ARGV[6])
        return 1
        """);

    /// <summary>Moves the deadlines of an existing session. KEYS[1] the key; ARGV: absolute ticks, idle ticks, PEXPIREAT milliseconds. Returns 1, or 0 when the key is gone.</summary>
    public static readonly RedisScript UpdateExpiration = new("""
        local key = KEYS[1]
        if redis.call('EXISTS', key) == 0 then return 0 end
        redis.call('HSET', key, '#a', ARGV[1], '#i', ARGV[2])
        redis.call('PEXPIREAT', key, ARGV[3])
        return 1
        """);
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
