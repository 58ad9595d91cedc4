namespace Sessions;

/// <summary>
/// What the core needs from one HTTP request and its response: the request's raw <c>Cookie</c> header (and any other
/// request header, for <see cref="SessionTransport.Header"/>), the host and scheme, a way to write one <c>Set-Cookie</c>
/// (and to set a response header), and a slot that keeps the request's session.
/// Each host adapter maps its own request/response onto this interface; the core never sees a host type.
/// </summary>
/// <remarks>
/// The core parses the raw header itself (see <see cref="CookieHeaderParser"/>) so every host applies identical rules
/// to odd input (duplicates, quotes, commas, oversized headers). Deleting a cookie is a <see cref="WriteCookie"/>
/// of <see cref="SessionCookie.IsDeletion"/> cookie (empty value, <c>Max-Age=0</c>, an expiry in the past).
/// </remarks>
public interface ICookieCarrier
{
    /// <summary>The request's <c>Cookie</c> header, several headers joined with <c>"; "</c>, or <see langword="null"/> when absent.</summary>
    string? CookieHeader { get; }

    /// <summary>The request's <c>Host</c> header (it may carry a port), or <see langword="null"/> when absent.</summary>
    string? Host { get; }

    /// <summary>Whether the request arrived over HTTPS, as the host determines it (including a trusted forwarded scheme).</summary>
    bool IsHttps { get; }

    /// <summary>
    /// Appends one <c>Set-Cookie</c> header for <paramref name="cookie"/> to the response and marks the response
    /// <c>Cache-Control: no-store</c>, so no shared cache stores a response that carries a session ID.
    /// </summary>
    /// <exception cref="InvalidOperationException">The response has already started and headers can no longer change.</exception>
    void WriteCookie(in SessionCookie cookie);

    /// <summary>
    /// The request header <paramref name="name"/> (matched case-insensitively), several fields joined with <c>", "</c>
    /// as HTTP combines them, or <see langword="null"/> when absent.
    /// </summary>
    string? RequestHeader(string name);

    /// <summary>Sets the response header <paramref name="name"/> to <paramref name="value"/> (possibly empty), replacing any value it had.</summary>
    /// <exception cref="InvalidOperationException">The response has already started and headers can no longer change.</exception>
    void WriteHeader(string name, string value);

    /// <summary>
    /// Marks the response as built from the request's session, so that no shared cache stores one user's page and serves it
    /// to another (the class of Django's CVE-2014-1418): adds <paramref name="varyOn"/> (the request field that carries the
    /// session: <c>Cookie</c>, or the session header) to <c>Vary</c> and, unless the response already carries a
    /// <c>Cache-Control</c> (the application's choice wins), sets <c>Cache-Control: no-store</c>. The core calls it once per
    /// request, when the request's session is started; it does nothing once the response has started.
    /// </summary>
    void MarkPrivate(string varyOn);

    /// <summary>Whether the response has started: its status and headers are on their way and can no longer change.</summary>
    bool HasStarted { get; }

    /// <summary>
    /// The request's cancellation (the client went away); loads and other database calls made for the request honour it.
    /// The host's own commit does not: the changes of a request whose client left are still stored.
    /// </summary>
    CancellationToken RequestAborted { get; }

    /// <summary>
    /// Asks the host to run <paramref name="callback"/> (and await it) just before the response starts, that is before the
    /// status and headers go out, so the core can commit the session and write its cookie. The core registers at most one
    /// callback per request, and only for a database that stores copies. A host without such a hook (HttpListener) keeps
    /// the callback for the application's explicit commit. The callback's task is awaited once (it may be pooled).
    /// </summary>
    void OnResponseStarting(Func<object, ValueTask> callback, object state);

    /// <summary>The session started for this request, kept so that <c>Start</c> is idempotent within one request.</summary>
    Session? Session { get; set; }
}
