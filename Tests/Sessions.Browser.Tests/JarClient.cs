using System.Net;

namespace Sessions.Browser.Tests;

/// <summary>An HttpClient with a real cookie jar: cookies are kept, sent and expired as a client following RFC 6265 does.</summary>
public sealed class JarClient : IDisposable
{
    private readonly CookieContainer _jar = new();
    private readonly HttpClient _http;
    private readonly Uri _baseAddress;

    public JarClient(Uri baseAddress)
    {
        _baseAddress = baseAddress;
        _http = new HttpClient(new HttpClientHandler { CookieContainer = _jar, AllowAutoRedirect = false })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The cookie's value as the jar would send it now, or <see langword="null"/> when it has none (or it expired).</summary>
    public string? Cookie(string name) => _jar.GetCookies(_baseAddress)[name]?.Value;

    /// <summary>Puts a cookie in the jar, as an attacker or a replay would.</summary>
    public void SetCookie(string name, string value) => _jar.Add(_baseAddress, new Cookie(name, value, "/"));

    public void Dispose() => _http.Dispose();
}
