namespace Sessions.Benchmarks;

/// <summary>A reusable carrier: what a host adapter hands the core for one request, without host overhead.</summary>
internal sealed class BenchCarrier : ICookieCarrier
{
    public string? CookieHeader { get; private set; }

    public string? Host => "localhost";

    public bool IsHttps => false;

    public Session? Session { get; set; }

    public bool HasStarted => false;

    public CancellationToken RequestAborted => default;

    // The caller commits explicitly, as an application on a host without a pipeline does.
    public void OnResponseStarting(Func<object, ValueTask> callback, object state)
    {
    }

    public void MarkPrivate(string varyOn)
    {
    }

    public string? RequestHeader(string name) => name == "Cookie" ? CookieHeader : null;

    public void WriteHeader(string name, string value)
    {
    }

    public int CookiesWritten { get; private set; }

    public void WriteCookie(in SessionCookie cookie) => CookiesWritten++;

    /// <summary>Starts a new request carrying <paramref name="cookieHeader"/>.</summary>
    public BenchCarrier Next(string? cookieHeader)
    {
        CookieHeader = cookieHeader;
        Session = null;
        return this;
    }
}
