namespace Sessions.Owin;

/// <summary>
/// Maps one OWIN 1.0 environment dictionary onto <see cref="ICookieCarrier"/>. The carrier lives in the environment
/// under <see cref="EnvironmentKey"/>, so every <c>Start</c> of the request finds the same session.
/// </summary>
/// <remarks>
/// It registers one <c>server.OnSendingHeaders</c> callback: from then on headers can no longer change, so a late cookie
/// write throws instead of being silently lost, and a database that stores copies gets its commit, completed before the
/// headers go out.
/// </remarks>
internal sealed class OwinCookieCarrier : ICookieCarrier
{
    /// <summary>The environment key of the request's carrier (namespaced, per the OWIN key guidelines).</summary>
    public const string EnvironmentKey = "sessions.CookieCarrier";

    private static readonly Action<object> OnSendingHeaders = static state => ((OwinCookieCarrier)state).HeadersSending();

    private readonly IDictionary<string, object> _environment;
    private bool _headersSent;

    private OwinCookieCarrier(IDictionary<string, object> environment) => _environment = environment;

    public string? CookieHeader
    {
        get
        {
            var values = RequestHeader("Cookie");
            return values is null || values.Length == 0 ? null : values.Length == 1 ? values[0] : string.Join("; ", values);
        }
    }

    public string? Host
    {
        get
        {
            var values = RequestHeader("Host");
            return values is null || values.Length == 0 ? null : values[0];
        }
    }

    public bool IsHttps => _environment.TryGetValue(OwinKeys.RequestScheme, out var scheme) &&
        string.Equals(scheme as string, "https", StringComparison.OrdinalIgnoreCase);

    public Session? Session { get; set; }

    public void WriteCookie(in SessionCookie cookie)
    {
        if (_headersSent)
            throw new InvalidOperationException("The session cookie cannot be written: the response headers have been sent. Write to the session before writing the response body.");
        if (!_environment.TryGetValue(OwinKeys.ResponseHeaders, out var value) || value is not IDictionary<string, string[]> headers)
            throw new InvalidOperationException($"The OWIN environment has no '{OwinKeys.ResponseHeaders}' dictionary.");
        var header = SetCookieHeader.Format(cookie);
        // One Set-Cookie value per cookie, appended after any the application already set.
        if (headers.TryGetValue("Set-Cookie", out var existing) && existing is { Length: > 0 })
        {
            var values = new string[existing.Length + 1];
            Array.Copy(existing, values, existing.Length);
            values[existing.Length] = header;
            headers["Set-Cookie"] = values;
        }
        else
        {
            headers["Set-Cookie"] = [header];
        }
        headers["Cache-Control"] = ["no-store"];
    }

    /// <summary>The request's carrier, created on first use.</summary>
    public static OwinCookieCarrier For(IDictionary<string, object> environment)
    {
        if (environment is null)
            throw new ArgumentNullException(nameof(environment));
        if (environment.TryGetValue(EnvironmentKey, out var existing) && existing is OwinCookieCarrier carrier)
            return carrier;
        carrier = new OwinCookieCarrier(environment);
        environment[EnvironmentKey] = carrier;
        if (environment.TryGetValue(OwinKeys.OnSendingHeaders, out var register) && register is Action<Action<object>, object> onSendingHeaders)
            onSendingHeaders(OnSendingHeaders, carrier);
        return carrier;
    }

    /// <summary>The request's carrier if a session was started, else <see langword="null"/>.</summary>
    public static OwinCookieCarrier? Find(IDictionary<string, object> environment) =>
        environment.TryGetValue(EnvironmentKey, out var value) ? value as OwinCookieCarrier : null;

    /// <summary>
    /// Commits what changed since the headers were sent (their commit already completed). A failure propagates, so a
    /// write is never reported as saved when it was not.
    /// </summary>
    public ValueTask CommitAsync(CancellationToken cancellationToken) =>
        Session is { } session ? session.CommitAsync(cancellationToken) : default;

    private void HeadersSending()
    {
        _headersSent = true;
        if (Session is not { } session)
            return;
        // OnSendingHeaders callbacks are synchronous, and once they return the response can reach the client (a body
        // with Content-Length is complete on the wire before the application's task ends): a commit merely started here
        // could land after the client's next request, on another connection or another process sharing the store, had
        // read the old data. So wait for it, as Katana's authentication handlers wait for their session store in this
        // callback. A no-op with the memory database; a failure propagates to the write that sent the headers, before
        // any of the response goes out. The database awaits with ConfigureAwait(false), so this does not deadlock
        // under a synchronization context.
        var commit = session.CommitAsync(CancellationToken.None);
        if (!commit.IsCompletedSuccessfully)
            commit.AsTask().GetAwaiter().GetResult();
    }

    private string[]? RequestHeader(string name) =>
        _environment.TryGetValue(OwinKeys.RequestHeaders, out var value) && value is IDictionary<string, string[]> headers &&
        headers.TryGetValue(name, out var values) ? values : null;
}
