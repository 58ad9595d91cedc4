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

    private static readonly Func<HttpListenerResponse, bool>? SentHeaders = BindSentHeaders();

    private readonly HttpListenerContext _context;
    private IPAddress[]? _knownProxies;
    private HttpListenerCookieCarrier(HttpListenerContext context) => _context = context;

    /// <remarks>
    /// One <c>Cookie</c> field (the usual case) is returned as stored by <c>Headers.Get</c>, without allocating. Several
    /// fields are joined with <c>"; "</c>, as a browser joins cookies: <c>Get</c> would join them with <c>,</c>, which the
    /// core's parser rightly takes as part of a value, and <c>GetValues(string)</c> would split each field on commas,
    /// letting a value such as <c>x,sid=...</c> plant a session. So when the joined text holds a comma (several fields,
    /// or one whose values hold a comma) the fields are read as received, by index. (.NET's managed HttpListener keeps
    /// only the last field of a repeated header, so there this finds one field.)
    /// </remarks>
    public string? CookieHeader
    {
        get
        {
            var headers = _context.Request.Headers;
            var joined = headers.Get("Cookie");
            return joined is null || joined.IndexOf(',') < 0 ? joined : CookieFields(headers) ?? joined;
        }
    }

    /// <summary>The <c>Cookie</c> fields as received, joined with <c>"; "</c>; <see langword="null"/> when there is none.</summary>
    private static string? CookieFields(System.Collections.Specialized.NameValueCollection headers)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            if (!string.Equals(headers.GetKey(i), "Cookie", StringComparison.OrdinalIgnoreCase))
                continue;
            var fields = headers.GetValues(i); // by index: the fields as received, not split on commas
            return fields is null || fields.Length == 0 ? null : fields.Length == 1 ? fields[0] : string.Join("; ", fields);
        }
        return null;
    }

    public string? Host => _context.Request.Headers["Host"];

    /// <remarks>
    /// The connection's scheme, or <c>X-Forwarded-Proto</c> from a proxy listed in <see cref="HttpListenerSessionOptions.KnownProxies"/>
    /// (never from any other address: a client can send the header).
    /// </remarks>
    public bool IsHttps
    {
        get
        {
            var request = _context.Request;
            return request.IsSecureConnection ||
                (_knownProxies is { Length: > 0 } proxies && request.Headers.Get("X-Forwarded-Proto") is { } forwarded &&
                 ForwardedScheme.IsHttps(proxies, request.RemoteEndPoint?.Address, forwarded));
        }
    }

    public Session? Session { get; set; }

    /// <remarks>
    /// HttpListener has no public "headers sent" flag; its response keeps one internally (<c>SentHeaders</c>), read here
    /// through a delegate bound once. On a runtime without it this reports <see langword="false"/> and a late cookie is
    /// lost instead of refused (docs/hosts.md says so).
    /// </remarks>
    public bool HasStarted => HasSentHeaders(_context.Response);

    /// <summary>Whether <paramref name="response"/> has sent its status and headers (<see langword="false"/> when the runtime cannot tell).</summary>
    public static bool HasSentHeaders(HttpListenerResponse response) => SentHeaders is { } sent && sent(response);

    /// <summary>HttpListener gives no per-request cancellation: <see cref="CancellationToken.None"/>.</summary>
    public CancellationToken RequestAborted => CancellationToken.None;

    /// <summary>HttpListener has no hook before the response starts: the application commits (<c>sessions.CommitAsync(context)</c>) before writing the body.</summary>
    public void OnResponseStarting(Func<object, ValueTask> callback, object state)
    {
    }

    public void WriteCookie(in SessionCookie cookie)
    {
        if (HasStarted)
            throw new InvalidOperationException("The session cookie cannot be written: the response has already started. Write to the session, and commit it, before writing the response body.");
        var headers = _context.Response.Headers;
        // Add, not Set: one Set-Cookie header per cookie (a Destroy then a new session in one request writes two).
        headers.Add("Set-Cookie", SetCookieHeader.Format(cookie));
        headers.Set("Cache-Control", "no-store");
    }

    /// <remarks>Several fields come back joined with <c>,</c> (<c>Headers.Get</c>), as HTTP combines them.</remarks>
    public string? RequestHeader(string name) => _context.Request.Headers.Get(name);

    public void WriteHeader(string name, string value)
    {
        if (HasStarted)
            throw new InvalidOperationException($"The response header '{name}' cannot be written: the response has already started. Write to the session, and commit it, before writing the response body.");
        _context.Response.Headers.Set(name, value);
    }

    public void MarkPrivate(string varyOn)
    {
        if (HasStarted)
            return;
        var headers = _context.Response.Headers;
        var vary = headers.Get("Vary");
        if (vary is null)
            headers.Set("Vary", varyOn);
        else if (!VaryHeader.Names(vary, varyOn))
            headers.Set("Vary", vary + ", " + varyOn);
        if (headers.Get("Cache-Control") is null)
            headers.Set("Cache-Control", "no-store");
    }

    private static Func<HttpListenerResponse, bool>? BindSentHeaders()
    {
        var getter = typeof(HttpListenerResponse).GetProperty("SentHeaders", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetGetMethod(nonPublic: true);
        return getter is not null && getter.ReturnType == typeof(bool)
            ? (Func<HttpListenerResponse, bool>)Delegate.CreateDelegate(typeof(Func<HttpListenerResponse, bool>), getter)
            : null;
    }

    /// <summary>The request's carrier, created on first use, trusting <paramref name="knownProxies"/>' forwarded scheme.</summary>
    public static HttpListenerCookieCarrier For(HttpListenerContext context, IPAddress[]? knownProxies)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        var carrier = Carriers.GetValue(context, Create);
        carrier._knownProxies = knownProxies;
        return carrier;
    }

    /// <summary>The request's carrier if a session was started, else <see langword="null"/>.</summary>
    public static HttpListenerCookieCarrier? Find(HttpListenerContext context) =>
        context is not null && Carriers.TryGetValue(context, out var carrier) ? carrier : null;
}
