using System.Text;
using System.Text.Json;

namespace Sessions.AspNetCore;

/// <summary>
/// How the <c>byte[]</c> values of ASP.NET Core's <see cref="Microsoft.AspNetCore.Http.ISession"/> map onto this library's
/// values, identically on every database (memory, Redis, SQLite, a distributed cache): every value set through
/// <c>HttpContext.Session</c> is stored as a <see cref="string"/>, which every database keeps exactly.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Bytes that are valid UTF-8 (what <c>SetString</c> writes, and TempData's JSON) are stored as that text, so the
/// native API reads them with <see cref="Session.GetString(string)"/> (and <c>"42"</c> with <see cref="Session.GetInt32(string)"/>).</item>
/// <item>Other bytes (<c>SetInt32</c> of most numbers, binary data) are stored as U+FFFF followed by their base64, a
/// string no text value starts with; valid UTF-8 that starts with U+FFFF is stored the same way, so reading is unambiguous.</item>
/// <item>A value set with the native API reads through <c>HttpContext.Session</c> as the UTF-8 bytes of its text: a string
/// as it is, a number in invariant culture, a boolean as <c>true</c>/<c>false</c>, a <c>byte[]</c> as its base64, an object or array as its JSON. So
/// <c>GetString</c> reads any of them; <c>GetInt32</c> (four big-endian bytes) reads only what <c>SetInt32</c> wrote.</item>
/// </list>
/// </remarks>
internal static class SessionBytes
{
    private const char BinaryMark = '\uFFFF';
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The stored form of <paramref name="bytes"/>.</summary>
    public static string ToValue(byte[] bytes)
    {
        try
        {
            var text = StrictUtf8.GetString(bytes);
            if (text.Length == 0 || text[0] != BinaryMark)
                return text;
        }
        catch (DecoderFallbackException)
        {
            // not text: stored marked, as base64
        }
        return BinaryMark + Convert.ToBase64String(bytes);
    }

    /// <summary>The bytes a stored value reads as (see the class remarks); <see langword="false"/> for a stored <see langword="null"/>.</summary>
    public static bool TryFromValue(object? value, out byte[]? bytes)
    {
        switch (value)
        {
            case null:
                bytes = null;
                return false;
            case string text when text.Length > 0 && text[0] == BinaryMark:
                try
                {
                    bytes = Convert.FromBase64String(text.Substring(1));
                    return true;
                }
                catch (FormatException)
                {
                    bytes = Encoding.UTF8.GetBytes(text); // U+FFFF text not written here: read as the text it is
                    return true;
                }
            case string text:
                bytes = Encoding.UTF8.GetBytes(text);
                return true;
            case byte[] raw:
                bytes = Encoding.UTF8.GetBytes(Convert.ToBase64String(raw)); // as a database that stores JSON gives it back
                return true;
            default:
                bytes = ValueConverter.TryToString(value, out var scalar)
                    ? Encoding.UTF8.GetBytes(scalar)
                    : SessionValueCodec.ToJson(value, null);
                return true;
        }
    }
}
