namespace Sessions;

/// <summary>
/// Where the session ID travels between client and server (<see cref="SessionConfig.Transport"/>): a cookie
/// (<see cref="Cookie"/>, the default, for browsers) or a request/response header (<see cref="Header"/>, for API
/// clients). The rules are the same on both: a session exists only once written, an ID the database does not know is
/// never adopted, a renewed ID is sent back, a destroyed session is answered with a cleared value, and a response that
/// carries an ID is marked <c>Cache-Control: no-store</c>. With one transport the manager never reads or writes the other.
/// </summary>
/// <remarks>
/// A transport reads the candidate values from the request and writes issue, renew and clear to the response, through
/// the host's <see cref="ICookieCarrier"/>; the manager decodes (<see cref="SessionConfig.Encoder"/>), checks and looks
/// the candidates up the same way whichever transport carried them. A new transport is one subclass in this assembly.
/// </remarks>
public abstract class SessionTransport
{
    /// <summary>The header <see cref="Header"/> uses when given no name.</summary>
    public const string DefaultHeaderName = "X-Session-Token";

    private protected SessionTransport()
    {
    }

    /// <summary>The session cookie (<see cref="SessionConfig.Cookie"/> and the cookie attributes of the configuration).</summary>
    public static SessionTransport Cookie { get; } = new CookieTransport();

    /// <summary>
    /// A request header carries the ID, and the response carries a new or renewed ID in the same header (an empty
    /// value once the session is destroyed). No cookie is read or written; the cookie settings are ignored.
    /// </summary>
    /// <param name="name">The header name (default <c>X-Session-Token</c>): an HTTP token that is not a header the
    /// library or HTTP already gives a meaning (<c>Cookie</c>, <c>Set-Cookie</c>, <c>Cache-Control</c>, <c>Vary</c>, ...).</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a usable header name.</exception>
    public static SessionTransport Header(string name = DefaultHeaderName) => new HeaderTransport(name);

    /// <summary>The name of the value: the cookie or header name. <see cref="ISessionIdEncoder"/> receives it, and <c>Vary</c> names the header.</summary>
    internal abstract string Name(SessionConfig config);

    /// <summary>The request field <c>Vary</c> must name, as the response depends on it.</summary>
    internal abstract string VaryOn(SessionConfig config);

    /// <summary>The request text the candidate values are read from (<see cref="TryNext"/>), or <see langword="null"/> when absent.</summary>
    internal abstract string? Read(ICookieCarrier carrier, SessionConfig config);

    /// <summary>
    /// The next value of <paramref name="name"/> in <paramref name="source"/> from <paramref name="position"/>, in order,
    /// possibly empty; every value is returned, however many (the manager bounds the lookups).
    /// </summary>
    internal abstract bool TryNext(ReadOnlySpan<char> source, string name, scoped ref int position, out ReadOnlySpan<char> value);

    /// <summary>
    /// Builds what carries <paramref name="value"/> (the ID, encoded when an encoder is configured) to the client, checking
    /// it fits before anything is stored, so a failure here leaves no session behind.
    /// </summary>
    /// <exception cref="SessionLimitExceededException">The value would exceed <see cref="SessionConfig.MaxCookieBytes"/>.</exception>
    internal abstract IssuedId Prepare(SessionManager manager, ICookieCarrier carrier, string value, DateTimeOffset? absoluteDeadline, bool persistent);

    /// <summary>Writes a prepared ID to the response, marking it <c>Cache-Control: no-store</c>.</summary>
    internal abstract void Write(ICookieCarrier carrier, in IssuedId issued);

    /// <summary>Tells the client its session is gone (an expired cookie, an empty header).</summary>
    internal abstract void Clear(SessionManager manager, ICookieCarrier carrier);
}

/// <summary>An ID ready to go out: the cookie for <see cref="CookieTransport"/>, the header value for the others.</summary>
internal readonly struct IssuedId
{
    public IssuedId(SessionCookie cookie)
    {
        Cookie = cookie;
        Value = cookie.Value;
    }

    public IssuedId(string value)
    {
        Cookie = default;
        Value = value;
    }

    public SessionCookie Cookie { get; }

    public string Value { get; }
}
