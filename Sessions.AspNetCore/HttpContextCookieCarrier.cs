using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// Maps one <see cref="HttpContext"/> onto <see cref="ICookieCarrier"/>; kept in the request's features so every
/// <c>Start</c> of the request finds the same session. Cookies go through the host's own <see cref="HttpResponse.Cookies"/>.
/// Each <see cref="SessionManager"/> used in the request (keyed managers side by side) has its own carrier, chained from
/// the first through <see cref="Next"/>; a failed commit of one stops the commits of all.
/// </summary>
internal sealed class HttpContextCookieCarrier : ICookieCarrier
{
    private readonly HttpContext _context;
    private readonly HttpContextCookieCarrier _first;
    private Func<object, ValueTask>? _commit;
    private object? _commitState;
    private bool _commitFailed;

    private HttpContextCookieCarrier(HttpContext context, SessionManager owner, HttpContextCookieCarrier? first)
    {
        _context = context;
        Owner = owner;
        _first = first ?? this;
    }

    /// <summary>The manager whose session this carrier keeps.</summary>
    public SessionManager Owner { get; }

    /// <summary>The carrier of the next manager used in the request, if any.</summary>
    public HttpContextCookieCarrier? Next { get; private set; }

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

    public bool HasStarted => _context.Response.HasStarted;

    public CancellationToken RequestAborted => _context.RequestAborted;

    /// <summary>Whether a commit failed (database down, or the session ended meanwhile) and the response became an error.</summary>
    public bool CommitFailed
    {
        get => _first._commitFailed;
        private set => _first._commitFailed = value;
    }

    public void OnResponseStarting(Func<object, ValueTask> callback, object state)
    {
        _commit = callback;
        _commitState = state;
        _context.Response.OnStarting(static carrier => ((HttpContextCookieCarrier)carrier).CommitBeforeStartAsync(), this);
    }

    /// <summary>
    /// Commits before the status and headers go out. A failure turns the response into a 503 or 409 (see
    /// <see cref="SessionFailureResponses"/>; the application's body, already being written, still follows) and is logged once, here.
    /// </summary>
    private async Task CommitBeforeStartAsync()
    {
        if (CommitFailed)
            return;
        try
        {
            await _commit!(_commitState!).ConfigureAwait(false);
        }
        catch (Exception e) when (SessionFailureResponses.Handles(e))
        {
            AnswerFailure(e);
        }
    }

    /// <summary>Answers a session failure (see <see cref="SessionFailureResponses"/>); the request commits nothing more.</summary>
    public void AnswerFailure(Exception exception)
    {
        CommitFailed = true;
        SessionFailureResponses.Answer(_context, exception);
    }

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

    public string? RequestHeader(string name)
    {
        var values = _context.Request.Headers[name];
        return values.Count == 0 ? null : values.Count == 1 ? values.ToString() : string.Join(", ", values.ToArray());
    }

    public void WriteHeader(string name, string value)
    {
        var response = _context.Response;
        if (response.HasStarted)
            throw new InvalidOperationException($"The response header '{name}' cannot be written: the response has already started. Write to the session before writing the response body.");
        response.Headers[name] = value;
    }

    /// <remarks>
    /// Setting a header from a constant allocates nothing on Kestrel (known headers are fields of the header collection);
    /// only a <c>Vary</c> the application set before the session started is copied to add <paramref name="varyOn"/>.
    /// </remarks>
    public void MarkPrivate(string varyOn)
    {
        var response = _context.Response;
        if (response.HasStarted)
            return;
        var headers = response.Headers;
        var vary = headers.Vary;
        if (vary.Count == 0)
            headers.Vary = varyOn;
        else if (!VariesBy(vary, varyOn))
            headers.Vary = Microsoft.Extensions.Primitives.StringValues.Concat(vary, varyOn);
        if (headers.CacheControl.Count == 0)
            headers.CacheControl = "no-store";
    }

    private static bool VariesBy(Microsoft.Extensions.Primitives.StringValues vary, string field)
    {
        foreach (var value in vary)
        {
            if (VaryHeader.Names(value, field))
                return true;
        }
        return false;
    }

    /// <summary>The request's carrier for <paramref name="manager"/>, created on first use.</summary>
    public static HttpContextCookieCarrier For(HttpContext context, SessionManager manager)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        if (manager is null)
            throw new ArgumentNullException(nameof(manager));
        var carrier = context.Features.Get<HttpContextCookieCarrier>();
        if (carrier is null)
        {
            carrier = new HttpContextCookieCarrier(context, manager, null);
            context.Features.Set(carrier);
            return carrier;
        }
        while (carrier.Owner != manager)
            carrier = carrier.Next ??= new HttpContextCookieCarrier(context, manager, carrier._first);
        return carrier;
    }

    /// <summary>The request's first carrier (follow <see cref="Next"/> for the others) if a session was started, else <see langword="null"/>.</summary>
    public static HttpContextCookieCarrier? Find(HttpContext context) => context.Features.Get<HttpContextCookieCarrier>();
}
