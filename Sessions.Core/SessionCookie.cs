namespace Sessions;

/// <summary>One <c>Set-Cookie</c> the core asks a host to write: every attribute already decided.</summary>
public readonly struct SessionCookie
{
    /// <summary>Creates a cookie description.</summary>
    public SessionCookie(string name, string value, string path, string? domain, DateTimeOffset? expires, long? maxAgeSeconds,
        bool secure, bool httpOnly, CookieSameSite sameSite)
    {
        Name = name;
        Value = value;
        Path = path;
        Domain = domain;
        Expires = expires;
        MaxAgeSeconds = maxAgeSeconds;
        Secure = secure;
        HttpOnly = httpOnly;
        SameSite = sameSite;
    }

    /// <summary>The cookie name.</summary>
    public string Name { get; }
    /// <summary>The cookie value: the session ID, encoded when an encoder is configured; empty for a deletion.</summary>
    public string Value { get; }
    /// <summary>The <c>Path</c> attribute.</summary>
    public string Path { get; }
    /// <summary>The <c>Domain</c> attribute, or <see langword="null"/> for a host-only cookie.</summary>
    public string? Domain { get; }
    /// <summary>The <c>Expires</c> attribute (whole seconds, UTC), or <see langword="null"/> for a browser-session cookie.</summary>
    public DateTimeOffset? Expires { get; }
    /// <summary>The <c>Max-Age</c> attribute in seconds, or <see langword="null"/> for a browser-session cookie.</summary>
    public long? MaxAgeSeconds { get; }
    /// <summary>The <c>Secure</c> attribute.</summary>
    public bool Secure { get; }
    /// <summary>The <c>HttpOnly</c> attribute.</summary>
    public bool HttpOnly { get; }
    /// <summary>The <c>SameSite</c> attribute.</summary>
    public CookieSameSite SameSite { get; }
    /// <summary>Whether this cookie deletes the session cookie (<c>Max-Age=0</c>).</summary>
    public bool IsDeletion => MaxAgeSeconds == 0;

    /// <summary>Formats the cookie as an RFC 6265 <c>Set-Cookie</c> header value, attributes in the order ASP.NET Core writes them.</summary>
    public override string ToString() => SetCookieHeader.Format(this);
}
