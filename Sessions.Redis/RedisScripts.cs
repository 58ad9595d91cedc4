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
        local exists = redis.call('EXISTS', key) == 1
        if ARGV[1] == '1' then
          if exists and redis.call('HGET', key, '#c') ~= ARGV[8] then return 0 end
        elseif not exists then
          return 0
        end
        local size = tonumber(redis.call('HGET', key, '#s') or '0') or 0
        local removed = {}
        if ARGV[2] == '1' or ARGV[3] == '1' then
          for _, f in ipairs(redis.call('HKEYS', key)) do
            local c = string.sub(f, 1, 1)
            if (c == 'v' and ARGV[2] == '1') or (c == 'f' and ARGV[3] == '1') then removed[f] = true end
          end
        end
        local i = 9
        local n = tonumber(ARGV[i])
        for j = 1, n do removed[ARGV[i + j]] = true end
        i = i + n + 1
        local sets = tonumber(ARGV[i])
        local first = i + 1
        local projected = size
        for f in pairs(removed) do projected = projected - redis.call('HSTRLEN', key, f) end
        for j = 0, sets - 1 do
          local f = ARGV[first + 2 * j]
          if not removed[f] then projected = projected - redis.call('HSTRLEN', key, f) end
          projected = projected + string.len(ARGV[first + 2 * j + 1]) + 21
        end
        if projected > tonumber(ARGV[7]) then return -1 end
        for f in pairs(removed) do
          local length = redis.call('HSTRLEN', key, f)
          if length > 0 then
            size = size - length
            redis.call('HDEL', key, f)
          end
        end
        for j = 0, sets - 1 do
          local f = ARGV[first + 2 * j]
          local current = redis.call('HGET', key, f)
          local order = nil
          if current then
            size = size - string.len(current)
            order = string.match(current, '^(%d+):')
          end
          if not order then order = redis.call('HINCRBY', key, '#n', 1) end
          local stored = order .. ':' .. ARGV[first + 2 * j + 1]
          size = size + string.len(stored)
          redis.call('HSET', key, f, stored)
        end
        if size < 0 then size = 0 end
        redis.call('HSET', key, '#a', ARGV[4], '#i', ARGV[5], '#s', size)
        if ARGV[1] == '1' then redis.call('HSET', key, '#c', ARGV[8]) end
        redis.call('HINCRBY', key, '#v', 1)
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
