namespace Sessions;

/// <summary>
/// Transforms the session ID into the cookie value and back, for example to sign or encrypt it
/// (go-sessions' <c>Encode</c>/<c>Decode</c>). A value that fails to decode is treated as absent: the request gets a new session.
/// With <see cref="SessionTransport.Header"/> it transforms the header value the same way, and its <c>cookieName</c>
/// argument is the header name.
/// </summary>
public interface ISessionIdEncoder
{
    /// <summary>The cookie value for <paramref name="sessionId"/>.</summary>
    string Encode(string cookieName, string sessionId);

    /// <summary>Recovers the session ID from a cookie value; <see langword="false"/> when the value is not one this encoder produced.</summary>
    bool TryDecode(string cookieName, string cookieValue, out string sessionId);
}
