namespace Sessions;

/// <summary>
/// The ID in a request header and, when issued or renewed, in the same response header (<see cref="SessionTransport.Header"/>):
/// for API clients, which keep the token themselves. No cookie is read or written.
/// </summary>
/// <remarks>
/// The request header is read as the host joins repeated fields, with commas (RFC 9110 section 5.3), and every
/// comma-separated value is a candidate, as every value of a repeated cookie is: the first that names a live session
/// wins, at most <see cref="SessionManager.MaxCookieLookups"/> are looked up, malformed ones are skipped without a lookup.
/// An ID never holds a comma, so splitting on it cannot cut a real one.
/// </remarks>
internal sealed class HeaderTransport : SessionTransport
{
    // Headers HTTP or this library already gives a meaning: carrying the ID in one would break either.
    private static readonly string[] Reserved =
    [
        "Cookie", "Set-Cookie", "Cache-Control", "Vary", "Host", "Authorization", "Content-Length", "Content-Type",
        "Transfer-Encoding", "Connection", "Expires", "Pragma",
    ];

    private readonly string _name;

    public HeaderTransport(string name)
    {
        if (string.IsNullOrEmpty(name) || !CookieText.IsToken(name))
            throw new ArgumentException($"'{name}' is not a valid header name: it must be non-empty and hold no whitespace, control characters or separators.", nameof(name));
        foreach (var reserved in Reserved)
        {
            if (string.Equals(name, reserved, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"The header '{name}' already has a meaning in HTTP; carry the session ID in a header of its own, such as {DefaultHeaderName}.", nameof(name));
        }
        _name = name;
    }

    internal override string Name(SessionConfig config) => _name;

    internal override string VaryOn(SessionConfig config) => _name;

    internal override string? Read(ICookieCarrier carrier, SessionConfig config) => carrier.RequestHeader(_name);

    internal override bool TryNext(ReadOnlySpan<char> source, string name, scoped ref int position, out ReadOnlySpan<char> value)
    {
        if (source.Length == 0 || position > source.Length)
        {
            value = default;
            return false;
        }
        var rest = source.Slice(position);
        var end = rest.IndexOf(',');
        value = CookieHeaderParser.Trim(end < 0 ? rest : rest.Slice(0, end));
        position += end < 0 ? rest.Length + 1 : end + 1; // past the end once the last value is read
        return true;
    }

    internal override IssuedId Prepare(SessionManager manager, ICookieCarrier carrier, string value, DateTimeOffset? absoluteDeadline, bool persistent)
    {
        var length = _name.Length + 2 + value.Length; // "name: value"
        if (length > manager.Config.MaxCookieBytes)
            throw new SessionLimitExceededException($"The session header would be {length} bytes, more than SessionConfig.MaxCookieBytes ({manager.Config.MaxCookieBytes}); check the encoder's output.");
        return new IssuedId(value);
    }

    internal override void Write(ICookieCarrier carrier, in IssuedId issued)
    {
        carrier.WriteHeader(_name, issued.Value);
        carrier.WriteHeader("Cache-Control", "no-store"); // the response carries a session ID: no cache may keep it
    }

    internal override void Clear(SessionManager manager, ICookieCarrier carrier) => carrier.WriteHeader(_name, string.Empty);
}
