namespace Sessions.Owin;

/// <summary>
/// Maps one OWIN 1.0 environment dictionary onto <see cref="ICookieCarrier"/>. The carrier lives in the environment
/// under <see cref="EnvironmentKey"/>, so every <c>Start</c> of the request finds the same session.
/// </summary>
/// <remarks>
/// It registers one <c>server.OnSendingHeaders</c> callback, which only notes that the headers are going out, so a late
/// cookie write or session write throws instead of being silently lost; it never waits for anything. With a database
/// that stores copies the core asks for a commit before the response starts (<see cref="OnResponseStarting"/>).
/// </remarks>
internal sealed class OwinCookieCarrier : ICookieCarrier
{
    /// <summary>The environment key of the request's carrier (namespaced, per the OWIN key guidelines).</summary>
    public const string EnvironmentKey = "sessions.CookieCarrier";

    private static readonly Action<object> OnSendingHeaders = static state => ((OwinCookieCarrier)state).HeadersSending();

    private readonly IDictionary<string, object> _environment;
    private bool _headersSent;
    private Task? _pendingCommit;

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

    /// <remarks>
    /// <c>owin.RequestScheme</c>, or <c>X-Forwarded-Proto</c> from a proxy listed in <see cref="OwinSessionOptions.KnownProxies"/>
    /// (never from any other address: a client can send the header).
    /// </remarks>
    public bool IsHttps =>
        (_environment.TryGetValue(OwinKeys.RequestScheme, out var scheme) && string.Equals(scheme as string, "https", StringComparison.OrdinalIgnoreCase)) ||
        (_environment.TryGetValue(OwinKeys.KnownProxies, out var trusted) && trusted is System.Net.IPAddress[] { Length: > 0 } proxies &&
         RequestHeader("X-Forwarded-Proto") is { Length: > 0 } forwarded &&
         ForwardedScheme.IsHttps(proxies, RemoteAddress(), forwarded.Length == 1 ? forwarded[0] : string.Join(",", forwarded)));

    private System.Net.IPAddress? RemoteAddress() =>
        _environment.TryGetValue(OwinKeys.RemoteIpAddress, out var value) && value is string text && System.Net.IPAddress.TryParse(text, out var address) ? address : null;

    public Session? Session { get; set; }

    public bool HasStarted => _headersSent;

    public CancellationToken RequestAborted =>
        _environment.TryGetValue(OwinKeys.CallCancelled, out var value) && value is CancellationToken token ? token : CancellationToken.None;

    /// <summary>
    /// OWIN's <c>server.OnSendingHeaders</c> callbacks cannot await, so the commit runs from the response body instead:
    /// <c>owin.ResponseBody</c> is replaced with a <see cref="CommitBeforeBodyStream"/> whose first asynchronous write or
    /// flush awaits it; the middleware commits a response with no body.
    /// </summary>
    public void OnResponseStarting(Func<object, ValueTask> callback, object state)
    {
        if (_environment.TryGetValue(OwinKeys.ResponseBody, out var body) && body is Stream stream and not CommitBeforeBodyStream)
            _environment[OwinKeys.ResponseBody] = new CommitBeforeBodyStream(this, stream);
    }

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

    string? ICookieCarrier.RequestHeader(string name)
    {
        var values = RequestHeader(name);
        return values is null || values.Length == 0 ? null : values.Length == 1 ? values[0] : string.Join(", ", values);
    }

    public void WriteHeader(string name, string value)
    {
        if (_headersSent)
            throw new InvalidOperationException($"The response header '{name}' cannot be written: the response headers have been sent. Write to the session before writing the response body.");
        if (!_environment.TryGetValue(OwinKeys.ResponseHeaders, out var headers) || headers is not IDictionary<string, string[]> dictionary)
            throw new InvalidOperationException($"The OWIN environment has no '{OwinKeys.ResponseHeaders}' dictionary.");
        dictionary[name] = [value];
    }

    public void MarkPrivate(string varyOn)
    {
        if (_headersSent || !_environment.TryGetValue(OwinKeys.ResponseHeaders, out var value) || value is not IDictionary<string, string[]> headers)
            return;
        if (!headers.TryGetValue("Vary", out var vary) || vary is not { Length: > 0 })
        {
            headers["Vary"] = [varyOn];
        }
        else if (!VaryHeader.Names(string.Join(",", vary), varyOn))
        {
            var values = new string[vary.Length + 1];
            Array.Copy(vary, values, vary.Length);
            values[vary.Length] = varyOn;
            headers["Vary"] = values;
        }
        if (!headers.TryGetValue("Cache-Control", out var cacheControl) || cacheControl is not { Length: > 0 })
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
    /// Commits what changed since the last commit, after any commit still running (one a synchronous write of the body
    /// started and could not wait for). A failure propagates, so a write is never reported as saved when it was not.
    /// </summary>
    public ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        if (_pendingCommit is { } pending)
        {
            _pendingCommit = null;
            return CommitAfterAsync(pending, cancellationToken);
        }
        return Session is { } session ? session.CommitAsync(cancellationToken) : default;
    }

    /// <summary>Keeps a commit that nobody awaits yet; the next <see cref="CommitAsync"/> (the middleware's at the latest) awaits it first.</summary>
    public void SetPendingCommit(Task commit) => _pendingCommit = commit;

    private async ValueTask CommitAfterAsync(Task pending, CancellationToken cancellationToken)
    {
        await pending.ConfigureAwait(false); // its failure is this commit's failure, reported once (its changes stay pending)
        if (Session is { } session)
            await session.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The host is sending the headers: from now on a cookie can no longer be written. Nothing is committed or awaited
    /// here (OnSendingHeaders callbacks are synchronous): with a database that stores copies the commit already
    /// completed in <see cref="CommitBeforeBodyStream"/> or in the middleware, before the host was let send them.
    /// </summary>
    private void HeadersSending() => _headersSent = true;

    private string[]? RequestHeader(string name) =>
        _environment.TryGetValue(OwinKeys.RequestHeaders, out var value) && value is IDictionary<string, string[]> headers &&
        headers.TryGetValue(name, out var values) ? values : null;
}
