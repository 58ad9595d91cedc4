using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// Maps one <see cref="HttpContext"/> onto <see cref="ICookieCarrier"/>; kept in the request's features so every
/// <c>Start</c> of the request finds the same session. Cookies go through the host's own <see cref="HttpResponse.Cookies"/>.
/// </summary>
internal sealed class HttpContextCookieCarrier : ICookieCarrier
{
    private readonly HttpContext _context;

    private HttpContextCookieCarrier(HttpContext context) => _context = context;

    public string? CookieHeader
    {
        get
        {
            var values = _context.Request.Headers.Cookie;
            return values.Count <= 1 ? values.ToString() : string.Join("; ", values.ToArray());
        }
    }

    public string? Host => _context.Request.Headers.Host.ToString();

    public bool IsHttps => _context.Request.IsHttps;

    public Session? Session { get; set; }

    public void WriteCookie(in SessionCookie cookie)
    {
        var response = _context.Response;
        if (response.HasStarted)
            throw new InvalidOperationException("The session cookie cannot be written: the response has already started. Write to the session before writing the response body.");
        response.Cookies.Append(cookie.Name, cookie.Value, new CookieOptions
        {
            Path = cookie.Path,
            Domain = cookie.Domain,
            Expires = cookie.Expires,
            MaxAge = cookie.MaxAgeSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            Secure = cookie.Secure,
            HttpOnly = cookie.HttpOnly,
            SameSite = cookie.SameSite switch
            {
                CookieSameSite.None => SameSiteMode.None,
                CookieSameSite.Lax => SameSiteMode.Lax,
                CookieSameSite.Strict => SameSiteMode.Strict,
                _ => SameSiteMode.Unspecified,
            },
        });
        response.Headers.CacheControl = "no-store";
    }

    /// <summary>The request's carrier, created on first use. With a database that stores copies, the session is committed before the response starts.</summary>
    public static HttpContextCookieCarrier For(HttpContext context, SessionManager sessions)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        if (context.Features.Get<HttpContextCookieCarrier>() is { } carrier)
            return carrier;
        carrier = new HttpContextCookieCarrier(context);
        context.Features.Set(carrier);
        if (!sessions.Database.SharesRecords)
            context.Response.OnStarting(static state => ((HttpContextCookieCarrier)state).CommitAsync(), carrier);
        return carrier;
    }

    /// <summary>The request's carrier if a session was started, else <see langword="null"/>.</summary>
    public static HttpContextCookieCarrier? Find(HttpContext context) => context.Features.Get<HttpContextCookieCarrier>();

    public Task CommitAsync() => Session is { } session ? session.CommitAsync(CancellationToken.None).AsTask() : Task.CompletedTask;
}
