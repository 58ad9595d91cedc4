using System.Security.Cryptography;

namespace Sessions;

/// <summary>Session ID generation and the format gate every presented ID passes before any database call.</summary>
public static class SessionIds
{
    /// <summary>The shortest ID accepted (22 base64url characters carry 132 bits).</summary>
    public const int MinLength = 22;

    /// <summary>The longest ID accepted.</summary>
    public const int MaxLength = 128;

    /// <summary>The length of a default ID: 32 random bytes in base64url without padding.</summary>
    public const int DefaultLength = 43;

    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#if !NET6_0_OR_GREATER
    private static readonly RandomNumberGenerator Random = RandomNumberGenerator.Create();
#endif
#if NET8_0_OR_GREATER
    private static readonly System.Buffers.SearchValues<char> IdCharacters = System.Buffers.SearchValues.Create(Alphabet);
#endif

    /// <summary>A new ID: 256 bits from the operating system's CSPRNG, as 43 base64url characters.</summary>
    public static string NewId()
    {
#if NET6_0_OR_GREATER
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[DefaultLength];
        Encode(bytes, chars);
        return new string(chars);
#else
        var bytes = new byte[32];
        Random.GetBytes(bytes);
        var chars = new char[DefaultLength];
        Encode(bytes, chars);
        return new string(chars);
#endif
    }

    /// <summary>Whether <paramref name="id"/> has the shape of an ID: base64url characters only, between <see cref="MinLength"/> and <see cref="MaxLength"/> long.</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> id)
    {
        if (id.Length < MinLength || id.Length > MaxLength)
            return false;
#if NET8_0_OR_GREATER
        return !id.ContainsAnyExcept(IdCharacters);
#else
        foreach (var c in id)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return false;
        }
        return true;
#endif
    }

    /// <summary>
    /// The SHA-256 of an ID's UTF-8 bytes (32 bytes): the name a database should store a session under, so that what it
    /// holds (a key, a row, a log line) is never a usable session ID.
    /// </summary>
    public static byte[] Hash(string id)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        var bytes = System.Text.Encoding.UTF8.GetBytes(id);
#if NET
        return SHA256.HashData(bytes);
#else
        using var sha = SHA256.Create();
        return sha.ComputeHash(bytes);
#endif
    }

    /// <summary><see cref="Hash"/> as 43 base64url characters (no padding), for databases whose keys are text.</summary>
    public static string HashText(string id) => HashText(id, "", "");

    /// <summary><see cref="HashText(string)"/> between <paramref name="prefix"/> and <paramref name="suffix"/>, built as one string (a database's key name).</summary>
    internal static string HashText(string id, string prefix, string suffix)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        var length = prefix.Length + DefaultLength + suffix.Length;
#if NET
        if (id.Length <= MaxLength && length <= 256)
        {
            // Every database names the session by this on every call: hashed on the stack, one allocation (the string).
            Span<byte> utf8 = stackalloc byte[MaxLength * 3];
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(utf8[..System.Text.Encoding.UTF8.GetBytes(id, utf8)], hash);
            Span<char> text = stackalloc char[length];
            Surround(hash, prefix, suffix, text);
            return new string(text);
        }
#endif
        var chars = new char[length];
        Surround(Hash(id), prefix, suffix, chars);
        return new string(chars);
    }

    private static void Surround(ReadOnlySpan<byte> hash, string prefix, string suffix, Span<char> text)
    {
        prefix.AsSpan().CopyTo(text);
        Encode(hash, text.Slice(prefix.Length, DefaultLength));
        suffix.AsSpan().CopyTo(text.Slice(prefix.Length + DefaultLength));
    }

    /// <summary>A stored <see cref="Hash"/> (32 bytes) as <see cref="HashText(string)"/> writes it, for databases that store the bytes and report events by hash.</summary>
    /// <exception cref="ArgumentException"><paramref name="hash"/> is not 32 bytes.</exception>
    public static string HashText(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != 32)
            throw new ArgumentException($"A session ID hash is 32 bytes (SHA-256), not {hash.Length}.", nameof(hash));
#if NET
        Span<char> chars = stackalloc char[DefaultLength];
#else
        var chars = new char[DefaultLength];
#endif
        Encode(hash, chars);
        return new string(chars);
    }

    // 32 bytes -> 43 chars: ten full 3-byte groups, then 2 bytes into 3 chars (any length of 3n + 2 bytes works so).
    internal static void Encode(ReadOnlySpan<byte> source, Span<char> chars)
    {
        int i = 0, o = 0;
        for (; i + 3 <= source.Length; i += 3)
        {
            var group = (source[i] << 16) | (source[i + 1] << 8) | source[i + 2];
            chars[o++] = Alphabet[(group >> 18) & 63];
            chars[o++] = Alphabet[(group >> 12) & 63];
            chars[o++] = Alphabet[(group >> 6) & 63];
            chars[o++] = Alphabet[group & 63];
        }
        var last = (source[i] << 16) | (source[i + 1] << 8);
        chars[o++] = Alphabet[(last >> 18) & 63];
        chars[o++] = Alphabet[(last >> 12) & 63];
        chars[o] = Alphabet[(last >> 6) & 63];
    }
}
