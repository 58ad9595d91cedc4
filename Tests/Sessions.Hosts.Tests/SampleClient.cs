using System.Net.Sockets;
using System.Text;

namespace Sessions.Hosts.Tests;

/// <summary>
/// Talks to a sample over real HTTP. <see cref="HttpClient"/> without a cookie container: the test sets the Cookie
/// header by hand, so every host receives exactly the same bytes. <see cref="SendRawAsync"/> writes the request
/// bytes on a socket for what HttpClient will not send (non-ASCII header bytes, two Cookie header lines).
/// </summary>
public sealed class SampleClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _baseAddress;

    public SampleClient(Uri baseAddress)
    {
        _baseAddress = baseAddress;
        _http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseAddress };
    }

    /// <summary>The cookie a browser keeps: updated from each reply's Set-Cookie (a deletion clears it).</summary>
    public string? Cookie { get; set; }

    /// <summary>GETs <paramref name="path"/> with the kept cookie, and keeps what the reply sets.</summary>
    public async Task<Reply> GetAsync(string path)
    {
        var reply = await SendAsync(HttpMethod.Get, path, Cookie is null ? null : "sid=" + Cookie);
        if (reply.CookieValue is { } value)
            Cookie = value.Length == 0 ? null : value;
        return reply;
    }

    /// <summary>Sends one request with exactly <paramref name="cookieHeader"/> as its Cookie header (none when null); keeps nothing.</summary>
    public async Task<Reply> SendAsync(HttpMethod method, string path, string? cookieHeader)
    {
        using var request = new HttpRequestMessage(method, path);
        if (cookieHeader is not null)
            request.Headers.TryAddWithoutValidation("Cookie", cookieHeader).Should().BeTrue();
        if (method != HttpMethod.Get)
            request.Content = new ByteArrayContent([]); // HttpListener answers 411 to a body-less POST
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return new Reply(
            (int)response.StatusCode,
            response.Content.Headers.TryGetValues("Content-Type", out var types) ? string.Join(", ", types) : null,
            body,
            response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.ToList() : [],
            response.Headers.TryGetValues("Cache-Control", out var cache) ? string.Join(", ", cache) : null,
            response.Content.Headers.TryGetValues("Allow", out var allow) ? string.Join(", ", allow) : null,
            response.Headers.TryGetValues("Retry-After", out var retry) ? string.Join(", ", retry) : null,
            response.Headers.TryGetValues("Vary", out var vary) ? string.Join(", ", vary) : null,
            response.Headers.TryGetValues("X-Content-Type-Options", out var options) ? string.Join(", ", options) : null);
    }

    /// <summary>GETs <paramref name="path"/> over a raw socket with the given header lines (bytes as given), and parses the reply.</summary>
    public async Task<Reply> SendRawAsync(string path, params byte[][] headerLines)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(_baseAddress.Host, _baseAddress.Port);
        var stream = client.GetStream();
        var request = new MemoryStream();
        request.Write(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_baseAddress.Authority}\r\nConnection: close\r\n"));
        foreach (var line in headerLines)
        {
            request.Write(line);
            request.Write("\r\n"u8);
        }
        request.Write("\r\n"u8);
        await stream.WriteAsync(request.ToArray());
        var received = new MemoryStream();
        await stream.CopyToAsync(received);
        return ParseRaw(received.ToArray());
    }

    private static Reply ParseRaw(byte[] bytes)
    {
        var end = IndexOf(bytes, "\r\n\r\n"u8.ToArray());
        end.Should().BeGreaterThan(0, "the response has a header section");
        var head = Encoding.Latin1.GetString(bytes, 0, end).Split("\r\n");
        var status = int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = head.Skip(1).Select(line => (Name: line.Substring(0, line.IndexOf(':')), Value: line.Substring(line.IndexOf(':') + 1).Trim())).ToList();
        string? Header(string name) => headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();
        var body = bytes.AsSpan(end + 4).ToArray();
        if (Header("Transfer-Encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            body = Dechunk(body);
        return new Reply(status, Header("Content-Type"), Encoding.UTF8.GetString(body),
            headers.Where(h => h.Name.Equals("Set-Cookie", StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList(),
            Header("Cache-Control"), Header("Allow"), Header("Retry-After"), Header("Vary"), Header("X-Content-Type-Options"));
    }

    private static byte[] Dechunk(byte[] body)
    {
        var output = new MemoryStream();
        var position = 0;
        while (true)
        {
            var lineEnd = IndexOf(body.AsSpan(position).ToArray(), "\r\n"u8.ToArray()) + position;
            var size = Convert.ToInt32(Encoding.ASCII.GetString(body, position, lineEnd - position).Split(';')[0], 16);
            if (size == 0)
                return output.ToArray();
            output.Write(body, lineEnd + 2, size);
            position = lineEnd + 2 + size + 2;
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    public void Dispose() => _http.Dispose();
}
