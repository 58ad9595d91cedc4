using System.Net;
using System.Runtime.CompilerServices;

namespace Sessions.HttpListener;

/// <summary>
/// Maps one <see cref="HttpListenerContext"/> onto <see cref="ICookieCarrier"/>. HttpListener has no per-request item bag,
/// so the carrier is attached to the context in a <see cref="ConditionalWeakTable{TKey, TValue}"/>: every <c>Start</c> of
/// the request finds the same session, and the carrier goes away with the context.
/// </summary>
/// <remarks>
/// The raw <c>Cookie</c> header goes to the core's parser, not to <see cref="HttpListenerRequest.Cookies"/> (RFC 2965 rules,
/// platform-dependent comma handling); the cookie is written as one RFC 6265 <c>Set-Cookie</c> header, not through
/// <see cref="System.Net.Cookie"/>, whose legacy format differs between Windows and the managed implementation.
/// </remarks>
internal sealed class HttpListenerCookieCarrier : ICookieCarrier
{
    private static readonly ConditionalWeakTable<HttpListenerContext, HttpListenerCookieCarrier> Carriers = new();
    private static readonly ConditionalWeakTable<HttpListenerContext, HttpListenerCookieCarrier>.CreateValueCallback Create =
        static context => new HttpListenerCookieCarrier(context);

    private readonly HttpListenerContext _context;
    private string? _cookieHeader;
    private bool _cookieHeaderRead;

    private HttpListenerCookieCarrier(HttpListenerContext context) => _context = context;

    public string? CookieHeader
    {
        get
        {
            if (!_cookieHeaderRead)
            {
                // Several Cookie headers arrive as several values; join them as one header, as the core expects.
                var values = _context.Request.Headers.GetValues("Cookie");
                _cookieHeader = values is null || values.Length == 0 ? null : values.Length == 1 ? values[0] : string.Join("; ", values);
                _cookieHeaderRead = true;
            }
            return _cookieHeader;
        }
    }

    public string? Host => _context.Request.Headers["Host"];

    public bool IsHttps => _context.Request.IsSecureConnection;

    public Session? Session { get; set; }

    public void WriteCookie(in SessionCookie cookie)
    {
        var headers = _context.Response.Headers;
        // Add, not Set: one Set-Cookie header per cookie (a Destroy then a new session in one request writes two).
        headers.Add("Set-Cookie", SetCookieHeader.Format(cookie));
        headers.Set("Cache-Control", "no-store");
    }

    /// <summary>The request's carrier, created on first use.</summary>
    public static HttpListenerCookieCarrier For(HttpListenerContext context)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        return Carriers.GetValue(context, Create);
    }

    /// <summary>The request's carrier if a session was started, else <see langword="null"/>.</summary>
    public static HttpListenerCookieCarrier? Find(HttpListenerContext context) =>
        context is not null && Carriers.TryGetValue(context, out var carrier) ? carrier : null;
}
