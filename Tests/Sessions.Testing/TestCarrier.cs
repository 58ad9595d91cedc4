namespace Sessions.Testing;

/// <summary>
/// An in-process <see cref="ICookieCarrier"/> for core tests: a request's <c>Cookie</c> header, host and scheme in,
/// the <c>Set-Cookie</c> headers the core wrote out. <see cref="NextRequest"/> plays a browser that keeps the cookie.
/// </summary>
public sealed class TestCarrier : ICookieCarrier
{
    public TestCarrier(string? cookieHeader = null, string? host = "localhost", bool isHttps = false)
    {
        CookieHeader = cookieHeader;
        Host = host;
        IsHttps = isHttps;
    }

    public string? CookieHeader { get; set; }

    public string? Host { get; set; }

    public bool IsHttps { get; set; }

    public Session? Session { get; set; }

    /// <summary>Every cookie written, in order.</summary>
    public List<SessionCookie> Written { get; } = [];

    /// <summary>The formatted <c>Set-Cookie</c> headers, in order.</summary>
    public IEnumerable<string> SetCookieHeaders => Written.Select(c => c.ToString());

    /// <summary>Whether a cookie write marked the response <c>Cache-Control: no-store</c> (whatever the application set).</summary>
    public bool NoStore { get; private set; }

    /// <summary>How many times the core marked the response private (<c>Vary: Cookie</c>, <c>Cache-Control: no-store</c> unless set).</summary>
    public int PrivateMarks { get; private set; }

    /// <summary>The field the last <see cref="MarkPrivate"/> added to <c>Vary</c>.</summary>
    public string? VaryOn { get; private set; }

    /// <inheritdoc />
    public void MarkPrivate(string varyOn)
    {
        PrivateMarks++;
        VaryOn = varyOn;
    }

    /// <summary>The request's headers other than <c>Cookie</c> (names case-insensitive), each as the host joins it.</summary>
    public Dictionary<string, string> RequestHeaders { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <inheritdoc />
    public string? RequestHeader(string name) =>
        string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase) ? CookieHeader : RequestHeaders.TryGetValue(name, out var value) ? value : null;

    /// <summary>Every response header set through <see cref="WriteHeader"/>, in order (a name may repeat).</summary>
    public List<KeyValuePair<string, string>> WrittenHeaders { get; } = [];

    /// <summary>The last value written to the response header <paramref name="name"/>, or <see langword="null"/>.</summary>
    public string? ResponseHeader(string name) =>
        WrittenHeaders.LastOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <inheritdoc />
    public void WriteHeader(string name, string value)
    {
        if (ResponseStarted)
            throw new InvalidOperationException("The response has already started.");
        WrittenHeaders.Add(new(name, value));
    }

    /// <summary>Set to make <see cref="WriteCookie"/> throw as a host does once the response started.</summary>
    public bool ResponseStarted { get; set; }

    /// <inheritdoc />
    public bool HasStarted => ResponseStarted;

    /// <inheritdoc />
    public CancellationToken RequestAborted { get; set; }

    /// <summary>The callbacks registered to run before the response starts.</summary>
    public List<(Func<object, ValueTask> Callback, object State)> StartingCallbacks { get; } = [];

    /// <inheritdoc />
    public void OnResponseStarting(Func<object, ValueTask> callback, object state) => StartingCallbacks.Add((callback, state));

    /// <summary>Plays the host starting the response: runs the registered callbacks in order, then marks the response started.</summary>
    public async Task StartResponseAsync()
    {
        foreach (var (callback, state) in StartingCallbacks)
            await callback(state);
        ResponseStarted = true;
    }

    public void WriteCookie(in SessionCookie cookie)
    {
        if (ResponseStarted)
            throw new InvalidOperationException("The response has already started.");
        Written.Add(cookie);
        NoStore = true;
    }

    /// <summary>
    /// The next request of a browser that applied this response's cookies: the last cookie written wins; a deletion removes it;
    /// with none written, the request's own header is sent again.
    /// </summary>
    public TestCarrier NextRequest()
    {
        if (Written.Count == 0)
            return new TestCarrier(CookieHeader, Host, IsHttps);
        var last = Written[^1];
        return new TestCarrier(last.IsDeletion ? null : $"{last.Name}={last.Value}", Host, IsHttps);
    }
}
