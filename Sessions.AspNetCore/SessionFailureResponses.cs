using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.AspNetCore;

/// <summary>
/// What a request answers when its session could not be loaded or committed, while the response has not started:
/// a <see cref="SessionDatabaseException"/> (the store is down or slow) answers <c>503 Service Unavailable</c> with
/// <c>Retry-After</c>; a <see cref="SessionEndedException"/> (another request destroyed or renewed the session meanwhile)
/// answers <c>409 Conflict</c>. Both carry <c>Cache-Control: no-store</c> and no cookie, and are logged once. Nothing is
/// reported as saved when it was not, and no other session is used instead.
/// </summary>
internal static partial class SessionFailureResponses
{
    /// <summary>Whether <paramref name="exception"/> is a session failure this policy answers.</summary>
    public static bool Handles(Exception exception) => exception is SessionDatabaseException or SessionEndedException;

    public static void Answer(HttpContext context, Exception exception)
    {
        var services = context.RequestServices;
        var logger = services?.GetService<ILoggerFactory>()?.CreateLogger("Sessions.AspNetCore");
        var response = context.Response;
        if (exception is SessionDatabaseException)
        {
            if (logger is not null)
                DatabaseUnavailable(logger, exception);
            if (response.HasStarted)
                return;
            var options = services?.GetService<IOptions<SessionsMiddlewareOptions>>()?.Value ?? new SessionsMiddlewareOptions();
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.Headers.RetryAfter = ((long)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            if (logger is not null)
                SessionEnded(logger);
            if (response.HasStarted)
                return;
            response.StatusCode = StatusCodes.Status409Conflict;
        }
        response.Headers.CacheControl = "no-store";
        response.Headers.Remove("Set-Cookie");
    }

    [LoggerMessage(EventId = 1, EventName = "SessionDatabaseUnavailable", Level = LogLevel.Error,
        Message = "The session database failed; the request was answered 503 Service Unavailable and nothing was stored.")]
    private static partial void DatabaseUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "SessionEnded", Level = LogLevel.Information,
        Message = "The request's session was ended by another request (destroyed or renewed) before its changes were stored; the request was answered 409 Conflict.")]
    private static partial void SessionEnded(ILogger logger);
}
