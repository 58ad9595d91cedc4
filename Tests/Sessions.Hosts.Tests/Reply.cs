using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sessions.Hosts.Tests;

/// <summary>What a test compares of one response: status, content type, body and the session-related headers.</summary>
public sealed record Reply(int Status, string? ContentType, string Body, IReadOnlyList<string> SetCookies, string? CacheControl, string? Allow, string? RetryAfter = null,
    string? Vary = null, string? ContentTypeOptions = null)
{
    /// <summary>The session ID the last Set-Cookie for <c>sid</c> carries (empty for a deletion), or <see langword="null"/>.</summary>
    public string? CookieValue
    {
        get
        {
            for (var i = SetCookies.Count - 1; i >= 0; i--)
            {
                var pair = SetCookies[i].Split(';')[0];
                if (pair.StartsWith("sid=", StringComparison.Ordinal))
                    return pair.Substring(4);
            }
            return null;
        }
    }

    /// <summary>
    /// This reply with host-independent placeholders: IDs become <c>&lt;id&gt;</c>, an <c>expires</c> consistent with
    /// <c>max-age</c> becomes <c>&lt;expires&gt;</c>; everything else (attribute names, order, values) is kept verbatim.
    /// </summary>
    public string Normalized() =>
        $"{Status} | {ContentType ?? "-"} | {Body} | cache-control: {CacheControl ?? "-"} | vary: {Vary ?? "-"} | x-content-type-options: {ContentTypeOptions ?? "-"} | allow: {Allow ?? "-"} | set-cookie: [{string.Join(" || ", SetCookies.Select(NormalizeSetCookie))}]";

    private static readonly Regex Id = new("^[A-Za-z0-9_-]{43}$", RegexOptions.CultureInvariant);

    /// <summary>Normalizes one Set-Cookie header (see <see cref="Normalized"/>).</summary>
    public static string NormalizeSetCookie(string header)
    {
        var parts = header.Split("; ");
        long? maxAge = null;
        foreach (var part in parts)
        {
            if (part.StartsWith("max-age=", StringComparison.Ordinal))
                maxAge = long.Parse(part.Substring(8), CultureInfo.InvariantCulture);
        }
        var text = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            if (i == 0)
            {
                var equals = part.IndexOf('=');
                var value = part.Substring(equals + 1);
                part = part.Substring(0, equals + 1) + (Id.IsMatch(value) ? "<id>" : value);
            }
            else if (part.StartsWith("expires=", StringComparison.Ordinal))
            {
                var expires = DateTimeOffset.ParseExact(part.Substring(8), "r", CultureInfo.InvariantCulture);
                var expected = maxAge == 0 ? DateTimeOffset.UnixEpoch : DateTimeOffset.UtcNow.AddSeconds(maxAge ?? 0);
                part = Math.Abs((expires - expected).TotalSeconds) <= 5 ? "expires=<expires>" : part;
            }
            if (i > 0)
                text.Append("; ");
            text.Append(part);
        }
        return text.ToString();
    }
}
