using System.Globalization;
using System.Net;

namespace Sessions.HttpListener;

/// <summary>
/// The answer to a session failure on a raw HttpListener, the same as the ASP.NET Core and OWIN middleware give:
/// a <see cref="SessionDatabaseException"/> (the store is down or slow) answers <c>503 Service Unavailable</c> with
/// <c>Retry-After</c>; a <see cref="SessionEndedException"/> (another request destroyed or renewed the session meanwhile)
/// answers <c>409 Conflict</c>; both with <c>Cache-Control: no-store</c> and no cookie.
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
        if (exception is not (SessionDatabaseException or SessionEndedException) || HttpListenerCookieCarrier.HasSentHeaders(response))
            return false;
        response.Headers.Remove("Set-Cookie");
        response.Headers.Set("Cache-Control", "no-store");
        if (exception is SessionDatabaseException)
        {
            response.StatusCode = 503;
            response.Headers.Set("Retry-After", ((long)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(5)).TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            response.StatusCode = 409;
        }
        return true;
    }
}
