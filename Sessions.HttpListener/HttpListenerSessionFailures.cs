using System.Globalization;
using System.Net;

namespace Sessions.HttpListener;

/// <summary>
/// The answer to a session failure on a raw HttpListener, the same as the ASP.NET Core and OWIN middleware give:
/// a <see cref="SessionDatabaseException"/> (the store is down or slow) or a full database answers
/// <c>503 Service Unavailable</c> with <c>Retry-After</c>; a <see cref="SessionEndedException"/> (another request destroyed
/// or renewed the session meanwhile) answers <c>409 Conflict</c>; a <see cref="SessionLimitExceededException"/> (keys,
/// payload, cookie size) answers <c>413 Content Too Large</c>; each with <c>Cache-Control: no-store</c> and no cookie.
/// <code>
/// try { await HandleAsync(context); }
/// catch (Exception e) when (context.Response.TryAnswerSessionFailure(e)) { }
/// </code>
/// </summary>
public static class HttpListenerSessionFailures
{
    /// <summary>
    /// Answers <paramref name="exception"/> when it is a session failure and the response has not started; returns
    /// whether it did (use it as an exception filter). Other exceptions, or a response already started, return <see langword="false"/>.
    /// </summary>
    /// <param name="response">The request's response.</param>
    /// <param name="exception">What the request failed with.</param>
    /// <param name="retryAfter">The <c>Retry-After</c> of a 503 (default 5 seconds, whole seconds rounded up).</param>
    public static bool TryAnswerSessionFailure(this HttpListenerResponse response, Exception exception, TimeSpan? retryAfter = null)
    {
        if (response is null)
            throw new ArgumentNullException(nameof(response));
        if (SessionFailures.StatusCode(exception) is not { } status || HttpListenerCookieCarrier.HasSentHeaders(response))
            return false;
        response.Headers.Remove("Set-Cookie");
        response.Headers.Set("Cache-Control", "no-store");
        response.StatusCode = status;
        if (SessionFailures.HasRetryAfter(status))
            response.Headers.Set("Retry-After", ((long)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(5)).TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        return true;
    }
}
