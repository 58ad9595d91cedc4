using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace Sessions.DataProtection;

/// <summary>
/// Encodes the session ID into the cookie with ASP.NET Core Data Protection: authenticated encryption under the
/// application's key ring (rotated and shared across a farm the usual Data Protection way), in base64url so every host
/// writes it verbatim. The protector's purpose includes the cookie name, so a value made for another cookie does not decode.
/// A tampered, truncated, foreign or retired-key value fails to decode and the request gets a new session.
/// </summary>
/// <remarks>
/// In ASP.NET Core: <c>services.AddDataProtection(); services.AddSessions();
/// services.AddOptions&lt;SessionConfig&gt;().Configure&lt;IDataProtectionProvider&gt;((c, p) => c.Encoder = new DataProtectionSessionIdEncoder(p));</c>.
/// Elsewhere, build an <see cref="IDataProtectionProvider"/> from <c>new ServiceCollection().AddDataProtection()</c>.
/// </remarks>
public sealed class DataProtectionSessionIdEncoder : ISessionIdEncoder
{
    /// <summary>The purpose string of the protector, followed by the cookie name.</summary>
    public const string Purpose = "Sessions.SessionId.v1";

    // A protected 128-character ID is about 300 characters; anything far longer is not ours and is refused before decoding.
    private const int MaxEncodedLength = 1024;
    private const int MaxCachedNames = 64;

    private readonly IDataProtectionProvider _provider;
    private readonly ConcurrentDictionary<string, IDataProtector> _protectors = new(StringComparer.Ordinal);

    /// <summary>Creates the encoder over a Data Protection provider.</summary>
    public DataProtectionSessionIdEncoder(IDataProtectionProvider provider) =>
        _provider = provider ?? throw new ArgumentNullException(nameof(provider));

    /// <inheritdoc />
    public string Encode(string cookieName, string sessionId)
    {
        var protectedBytes = Protector(cookieName).Protect(Encoding.UTF8.GetBytes(sessionId));
        return Base64Url.Encode(protectedBytes);
    }

    /// <inheritdoc />
    public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
    {
        sessionId = string.Empty;
        if (cookieValue.Length == 0 || cookieValue.Length > MaxEncodedLength || !Base64Url.TryDecode(cookieValue, out var bytes))
            return false;
        try
        {
            sessionId = Encoding.UTF8.GetString(Protector(cookieName).Unprotect(bytes));
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private IDataProtector Protector(string cookieName)
    {
        // One encoder may serve managers with different cookie names: each name has its own protector, cached by name,
        // so a protector is never paired with another name's purpose. Cookie names come from configuration (a handful);
        // past MaxCachedNames further names are served uncached rather than growing the cache.
        if (_protectors.TryGetValue(cookieName, out var protector))
            return protector;
        protector = _provider.CreateProtector(Purpose, cookieName);
        return _protectors.Count < MaxCachedNames ? _protectors.GetOrAdd(cookieName, protector) : protector;
    }

    private static class Base64Url
    {
        public static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static bool TryDecode(string text, out byte[] bytes)
        {
            bytes = [];
            foreach (var c in text)
            {
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                    return false;
            }
            if (text.Length % 4 == 1)
                return false;
            var padded = text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - text.Length % 4) % 4);
            try
            {
                bytes = Convert.FromBase64String(padded);
                return true;
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }
}
