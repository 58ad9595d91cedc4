using System.Net;
using Sessions.HttpListener;
using Sessions.Owin;
using Sessions.Samples.Owin;
using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Behind a TLS-terminating proxy the session cookie must get <c>Secure</c>, yet a client must not be able to claim HTTPS
/// with a forged <c>X-Forwarded-Proto</c>: HttpListener and OWIN believe the header only from a configured known proxy.
/// Over real HTTP on loopback, so the connection's address (127.0.0.1) is the one the adapters see.
/// </summary>
[TestFixture("HttpListener")]
[TestFixture("Owin")]
[Parallelizable(ParallelScope.Self)]
public sealed class ForwardedSchemeTests(string hostName)
{
    [Test]
    public async Task Forged_forwarded_proto_is_not_trusted_by_default()
    {
        var cookie = await SetCookieAsync(knownProxies: null, "https");
        cookie.Should().NotContainEquivalentOf("secure", "no proxy is known: any client can send X-Forwarded-Proto");
    }

    [Test]
    public async Task Forwarded_proto_from_a_known_proxy_makes_the_cookie_secure()
    {
        var cookie = await SetCookieAsync([IPAddress.Loopback], "https");
        cookie.Should().EndWith("; secure; samesite=lax; httponly");
    }

    [Test]
    public async Task Forged_forwarded_proto_from_an_address_that_is_not_a_known_proxy_is_ignored()
    {
        var cookie = await SetCookieAsync([IPAddress.Parse("10.0.0.1"), IPAddress.IPv6Loopback], "https");
        cookie.Should().NotContainEquivalentOf("secure", "127.0.0.1 is not a known proxy");
    }

    [Test]
    public async Task Forged_https_before_a_known_proxys_own_http_value_is_ignored()
    {
        var cookie = await SetCookieAsync([IPAddress.Loopback], "https, http");
        cookie.Should().NotContainEquivalentOf("secure", "the known proxy appended the last value: the request reached it over HTTP");
    }

    [Test]
    public async Task A_known_proxy_without_the_header_changes_nothing()
    {
        var cookie = await SetCookieAsync([IPAddress.Loopback], forwardedProto: null);
        cookie.Should().NotContainEquivalentOf("secure");
    }

    /// <summary>Starts the host with its adapter and the given known proxies, sends one request that writes the session, returns its Set-Cookie.</summary>
    private async Task<string> SetCookieAsync(IPAddress[]? knownProxies, string? forwardedProto)
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid" });
        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        await using var server = Start(url, sessions, knownProxies);
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/set");
        if (forwardedProto is not null)
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", forwardedProto).Should().BeTrue();
        using var response = await client.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        return response.Headers.GetValues("Set-Cookie").Should().ContainSingle().Subject;
    }

    private IAsyncDisposable Start(string url, SessionManager sessions, IPAddress[]? knownProxies) => hostName switch
    {
        "HttpListener" => StartHttpListener(url, sessions, knownProxies),
        _ => StartOwin(url, sessions, knownProxies),
    };

    private static IAsyncDisposable StartHttpListener(string url, SessionManager sessions, IPAddress[]? knownProxies)
    {
        if (knownProxies is not null)
        {
            var options = new HttpListenerSessionOptions();
            foreach (var proxy in knownProxies)
                options.KnownProxies.Add(proxy);
            sessions.UseHttpListenerOptions(options);
        }
        return RawListener.Start(url, async context =>
        {
            sessions.Start(context).Set("name", "iris");
            await sessions.CommitAsync(context);
        });
    }

    private static IAsyncDisposable StartOwin(string url, SessionManager sessions, IPAddress[]? knownProxies)
    {
        var options = new OwinSessionOptions();
        foreach (var proxy in knownProxies ?? [])
            options.KnownProxies.Add(proxy);
        var app = SessionsOwinMiddleware.Create(sessions, options)(environment =>
        {
            sessions.Start(environment).Set("name", "iris");
            return Task.CompletedTask;
        });
        return OwinHttpListenerHost.Start([url], app, owned: null);
    }

}
