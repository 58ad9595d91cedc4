using System.Net;

namespace Sessions.HttpListener;

/// <summary>
/// How the HttpListener adapter reads requests that reach it through a reverse proxy. Give them to the manager once, before
/// serving: <c>sessions.UseHttpListenerOptions(new HttpListenerSessionOptions { KnownProxies = { IPAddress.Parse("10.0.0.2") } });</c>
/// </summary>
public sealed class HttpListenerSessionOptions
{
    /// <summary>
    /// The addresses of the reverse proxies (TLS terminators, load balancers) that connect to this listener directly and
    /// whose <c>X-Forwarded-Proto</c> is believed: a request whose connection comes from one of them, and whose header's
    /// last value (the one that proxy appended) is <c>https</c>, counts as HTTPS, so the session cookie gets <c>Secure</c>
    /// under <see cref="CookieSecureMode.SameAsRequest"/>. Empty by default: any client can send the header, so it is never
    /// trusted from an address not listed. IPv4-mapped IPv6 addresses compare as IPv4.
    /// </summary>
    public IList<IPAddress> KnownProxies { get; } = new List<IPAddress>();
}
