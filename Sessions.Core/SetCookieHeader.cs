using System.Globalization;
using System.Text;

namespace Sessions;

/// <summary>
/// Formats a <see cref="SessionCookie"/> as an RFC 6265 <c>Set-Cookie</c> header value: <c>Expires</c> in IMF-fixdate,
/// lower-case attribute names in the order ASP.NET Core writes them, so every host emits the same bytes.
/// Hosts without a cookie API of their own (HttpListener, OWIN) write this string as is.
/// </summary>
public static class SetCookieHeader
{
    /// <summary>Formats <paramref name="cookie"/>, for example <c>sid=abc; expires=Fri, 27 Nov 2026 22:00:00 GMT; max-age=7200; path=/; samesite=lax; httponly</c>.</summary>
    public static string Format(in SessionCookie cookie)
    {
        var text = new StringBuilder(160);
        text.Append(cookie.Name).Append('=').Append(cookie.Value);
        if (cookie.Expires is { } expires)
            text.Append("; expires=").Append(expires.UtcDateTime.ToString("r", CultureInfo.InvariantCulture));
        if (cookie.MaxAgeSeconds is { } maxAge)
            text.Append("; max-age=").Append(maxAge.ToString(CultureInfo.InvariantCulture));
        if (cookie.Domain is { } domain)
            text.Append("; domain=").Append(domain);
        text.Append("; path=").Append(cookie.Path);
        if (cookie.Secure)
            text.Append("; secure");
        switch (cookie.SameSite)
        {
            case CookieSameSite.None: text.Append("; samesite=none"); break;
            case CookieSameSite.Lax: text.Append("; samesite=lax"); break;
            case CookieSameSite.Strict: text.Append("; samesite=strict"); break;
        }
        if (cookie.HttpOnly)
            text.Append("; httponly");
        return text.ToString();
    }
}
