using System.Net;

namespace Sessions.Owin;

/// <summary>
/// The options of <see cref="SessionsOwinMiddleware.Create(SessionManager, OwinSessionOptions)"/>:
/// <c>app.Use(SessionsOwinMiddleware.Create(sessions, new OwinSessionOptions { KnownProxies = { IPAddress.Parse("10.0.0.2") } }));</c>
/// </summary>
public sealed class OwinSessionOptions
{
    /// <summary>The <c>Retry-After</c> of the 503 answered when the session database fails (default 5 seconds, whole seconds rounded up).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The addresses of the reverse proxies (TLS terminators, load balancers) that connect to this server directly and
    /// whose <c>X-Forwarded-Proto</c> is believed: a request whose <c>server.RemoteIpAddress</c> is one of them, and whose
    /// header's last value (the one that proxy appended) is <c>https</c>, counts as HTTPS, so the session cookie gets
    /// <c>Secure</c> under <see cref="CookieSecureMode.SameAsRequest"/>. Empty by default: any client can send the header,
    /// so it is never trusted from an address not listed. IPv4-mapped IPv6 addresses compare as IPv4. Only requests that
    /// pass through this middleware see the option.
    /// </summary>
    public IList<IPAddress> KnownProxies { get; } = new List<IPAddress>();
}
