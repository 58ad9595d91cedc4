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

    /// <inheritdoc />
    public void MarkPrivate()
    {
        PrivateMarks++;
    }

    /// <summary>Set to make <see cref="WriteCookie"/> throw as a host does once the response started.</summary>
    public bool ResponseStarted { get; set; }

    /// <inheritdoc />
    public bool HasStarted => ResponseStarted;

    /// <inheritdoc />
    public CancellationToken RequestAborted { get; set; }

    /// <summary>The callbacks registered to run before the response starts.</summary>
    public List<(Func<object, Task> Callback, object State)> StartingCallbacks { get; } = [];

    /// <inheritdoc />
    public void OnResponseStarting(Func<object, Task> callback, object state) => StartingCallbacks.Add((callback, state));

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
