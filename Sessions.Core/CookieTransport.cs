namespace Sessions;

/// <summary>The session cookie (<see cref="SessionTransport.Cookie"/>): the ID in the <c>Cookie</c> request header and a <c>Set-Cookie</c> out.</summary>
internal sealed class CookieTransport : SessionTransport
{
    internal override string Name(SessionConfig config) => config.Cookie;

    internal override string VaryOn(SessionConfig config) => "Cookie";

    internal override string? Read(ICookieCarrier carrier, SessionConfig config) => carrier.CookieHeader;

    internal override bool TryNext(ReadOnlySpan<char> source, string name, scoped ref int position, out ReadOnlySpan<char> value) =>
        CookieHeaderParser.TryNext(source, name, ref position, out value);

    internal override IssuedId Prepare(SessionManager manager, ICookieCarrier carrier, string value, DateTimeOffset? absoluteDeadline, bool persistent)
    {
        var config = manager.Config;
        var now = manager.Time.GetUtcNow();
        var expires = absoluteDeadline;
        if (expires is null && persistent)
            expires = now + SessionConfig.PersistentCookieLifetime;
        long? maxAge = expires is { } at ? Math.Max(1, (long)Math.Ceiling((at - now).TotalSeconds)) : null;
        var cookie = new SessionCookie(config.Cookie, value, config.CookiePath, manager.ResolveDomain(carrier.Host), expires, maxAge,
            IsSecure(config, carrier), config.HttpOnly, config.SameSite);
        var length = SetCookieHeader.Format(cookie).Length;
        if (length > config.MaxCookieBytes)
            throw new SessionLimitExceededException($"The session cookie would be {length} bytes, more than SessionConfig.MaxCookieBytes ({config.MaxCookieBytes}); check the encoder's output.");
        return new IssuedId(cookie);
    }

    internal override void Write(ICookieCarrier carrier, in IssuedId issued) => carrier.WriteCookie(issued.Cookie);

    /// <summary>Expires the cookie: same name, path, domain and attributes, <c>Max-Age=0</c>.</summary>
    internal override void Clear(SessionManager manager, ICookieCarrier carrier)
    {
        var config = manager.Config;
        carrier.WriteCookie(new SessionCookie(config.Cookie, string.Empty, config.CookiePath, manager.ResolveDomain(carrier.Host),
            DateTimeOffset.FromUnixTimeSeconds(0), 0, IsSecure(config, carrier), config.HttpOnly, config.SameSite));
    }

    private static bool IsSecure(SessionConfig config, ICookieCarrier carrier) => config.CookieSecure == CookieSecureMode.Always || carrier.IsHttps;
}
