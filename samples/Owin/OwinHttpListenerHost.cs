using System.Globalization;
using System.Net;
using AppFunc = System.Func<System.Collections.Generic.IDictionary<string, object>, System.Threading.Tasks.Task>;

namespace Sessions.Samples.Owin;

/// <summary>
/// A minimal OWIN 1.0 host over <see cref="System.Net.HttpListener"/>, for this sample only (no OWIN host package can be
/// restored here). Per request it builds the environment the specification requires (owin.*  request and response keys,
/// case-insensitive header dictionaries) plus <c>server.OnSendingHeaders</c>, whose callbacks run in reverse order of
/// registration just before the status and headers are copied to the response: on the first write or flush of
/// <c>owin.ResponseBody</c>, or when the application's task completes.
/// </summary>
internal static class OwinHttpListenerHost
{
    public static ListenerServer Start(IReadOnlyList<string> urls, AppFunc app, IDisposable? owned) =>
        new(urls, context => ServeAsync(app, context), owned);

    private static async Task ServeAsync(AppFunc app, HttpListenerContext context)
    {
        var request = context.Request;
        var requestHeaders = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        // By index: the header fields as received. GetValues(name) would split them on commas, and a comma inside a
        // cookie value is not a separator (OWIN servers give each field as received).
        for (var i = 0; i < request.Headers.Count; i++)
        {
            if (request.Headers.GetKey(i) is { } name && request.Headers.GetValues(i) is { } values)
                requestHeaders[name] = values;
        }
        var target = request.RawUrl ?? "/";
        var mark = target.IndexOf('?');
        var response = new ResponseState(context.Response);
        var environment = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["owin.Version"] = "1.0",
            ["owin.CallCancelled"] = CancellationToken.None,
            ["owin.RequestMethod"] = request.HttpMethod,
            ["owin.RequestScheme"] = request.IsSecureConnection ? "https" : "http",
            ["owin.RequestPathBase"] = "",
            ["owin.RequestPath"] = Uri.UnescapeDataString(mark < 0 ? target : target.Substring(0, mark)),
            ["owin.RequestQueryString"] = mark < 0 ? "" : target.Substring(mark + 1),
            ["owin.RequestProtocol"] = "HTTP/" + request.ProtocolVersion.ToString(2),
            ["owin.RequestHeaders"] = requestHeaders,
            ["owin.RequestBody"] = request.InputStream,
            ["owin.ResponseHeaders"] = response.Headers,
            ["owin.ResponseBody"] = response.Body,
            ["server.OnSendingHeaders"] = (Action<Action<object>, object>)response.OnSendingHeaders,
            ["server.RemoteIpAddress"] = request.RemoteEndPoint.Address.ToString(),
            ["server.RemotePort"] = request.RemoteEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            ["server.LocalIpAddress"] = request.LocalEndPoint.Address.ToString(),
            ["server.LocalPort"] = request.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            ["server.IsLocal"] = request.IsLocal,
        };
        response.Environment = environment;
        await app(environment).ConfigureAwait(false);
        response.SendHeaders();
    }

    /// <summary>The OWIN response of one request: headers and status until they are sent, then the HttpListener response.</summary>
    private sealed class ResponseState
    {
        private readonly HttpListenerResponse _response;
        private List<(Action<object> Callback, object State)>? _onSendingHeaders;
        private bool _sent;

        public ResponseState(HttpListenerResponse response)
        {
            _response = response;
            Body = new ResponseStream(this, response.OutputStream);
        }

        public Dictionary<string, string[]> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

        public Stream Body { get; }

        public IDictionary<string, object>? Environment { get; set; }

        public void OnSendingHeaders(Action<object> callback, object state)
        {
            if (_sent)
                throw new InvalidOperationException("The response headers have already been sent.");
            (_onSendingHeaders ??= []).Add((callback, state));
        }

        public void SendHeaders()
        {
            if (_sent)
                return;
            if (_onSendingHeaders is { } callbacks)
            {
                for (var i = callbacks.Count - 1; i >= 0; i--)
                    callbacks[i].Callback(callbacks[i].State);
            }
            _sent = true;
            if (Environment!.TryGetValue("owin.ResponseStatusCode", out var status) && status is int code)
                _response.StatusCode = code;
            if (Environment.TryGetValue("owin.ResponseReasonPhrase", out var reason) && reason is string phrase)
                _response.StatusDescription = phrase;
            foreach (var header in Headers)
            {
                if (header.Value is null || header.Value.Length == 0)
                    continue;
                if (string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
                    _response.ContentLength64 = long.Parse(header.Value[0], CultureInfo.InvariantCulture);
                else if (string.Equals(header.Key, "Content-Type", StringComparison.OrdinalIgnoreCase))
                    _response.ContentType = header.Value[0];
                else if (string.Equals(header.Key, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                    _response.SendChunked = true;
                else if (!string.Equals(header.Key, "Keep-Alive", StringComparison.OrdinalIgnoreCase))
                {
                    foreach (var value in header.Value)
                        _response.Headers.Add(header.Key, value); // one header line per value (Set-Cookie!)
                }
            }
        }
    }

    /// <summary><c>owin.ResponseBody</c>: sends the headers before the first byte.</summary>
    private sealed class ResponseStream(ResponseState state, Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
            state.SendHeaders();
            inner.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            state.SendHeaders();
            return inner.FlushAsync(cancellationToken);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            state.SendHeaders();
            inner.Write(buffer, offset, count);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            state.SendHeaders();
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            state.SendHeaders();
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
