namespace Sessions;

/// <summary>The <c>SameSite</c> attribute of the session cookie.</summary>
public enum CookieSameSite
{
    /// <summary>No attribute is written; the browser's default applies.</summary>
    Unspecified = 0,
    /// <summary><c>SameSite=None</c>: sent on cross-site requests; browsers require <c>Secure</c> with it.</summary>
    None,
    /// <summary><c>SameSite=Lax</c> (the default): sent on top-level navigations, not on cross-site subresource requests.</summary>
    Lax,
    /// <summary><c>SameSite=Strict</c>: never sent on cross-site requests.</summary>
    Strict,
}

/// <summary>When the session cookie carries the <c>Secure</c> attribute.</summary>
public enum CookieSecureMode
{
    /// <summary>Secure when the request arrived over HTTPS (the default).</summary>
    SameAsRequest = 0,
    /// <summary>Always Secure; browsers then keep the cookie only over HTTPS. Required by the <c>__Host-</c> and <c>__Secure-</c> name prefixes.</summary>
    Always,
}
