using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.AspNetCore;

/// <summary>
/// What a request answers when its session could not be loaded or committed, while the response has not started:
/// a <see cref="SessionDatabaseException"/> (the store is down or slow), or a full memory database, answers
/// <c>503 Service Unavailable</c> with <c>Retry-After</c>; a <see cref="SessionEndedException"/> (another request
/// destroyed or renewed the session meanwhile) answers <c>409 Conflict</c>; a session over a limit
/// (<see cref="SessionLimitExceededException"/>: keys, payload, cookie size) answers <c>413 Content Too Large</c>. Each
/// carries <c>Cache-Control: no-store</c> and no cookie, and is logged once. Nothing is reported as saved when it was
/// not, and no other session is used instead.
/// </summary>
internal static partial class SessionFailureResponses
{
    /// <summary>Whether <paramref name="exception"/> is a session failure this policy answers.</summary>
    public static bool Handles(Exception exception) => SessionFailures.StatusCode(exception) is not null;

    public static void Answer(HttpContext context, Exception exception)
    {
        var status = SessionFailures.StatusCode(exception) ?? StatusCodes.Status500InternalServerError;
        var services = context.RequestServices;
        if (services?.GetService<ILoggerFactory>()?.CreateLogger("Sessions.AspNetCore") is { } logger)
        {
            switch (status)
            {
                case StatusCodes.Status503ServiceUnavailable:
                    DatabaseUnavailable(logger, exception);
                    break;
                case StatusCodes.Status409Conflict:
                    SessionEnded(logger);
                    break;
                default:
                    LimitExceeded(logger, exception.Message);
                    break;
            }
        }
        var response = context.Response;
        if (response.HasStarted)
            return;
        response.StatusCode = status;
        if (SessionFailures.HasRetryAfter(status))
        {
            var options = services?.GetService<IOptions<SessionsMiddlewareOptions>>()?.Value ?? new SessionsMiddlewareOptions();
            response.Headers.RetryAfter = ((long)Math.Ceiling(options.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        response.Headers.CacheControl = "no-store";
        response.Headers.Remove("Set-Cookie");
    }

    [LoggerMessage(EventId = 1, EventName = "SessionDatabaseUnavailable", Level = LogLevel.Error,
        Message = "The session database failed or is full; the request was answered 503 Service Unavailable and nothing was stored.")]
    private static partial void DatabaseUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "SessionEnded", Level = LogLevel.Information,
        Message = "The request's session was ended by another request (destroyed or renewed) before its changes were stored; the request was answered 409 Conflict.")]
    private static partial void SessionEnded(ILogger logger);

    [LoggerMessage(EventId = 3, EventName = "SessionLimitExceeded", Level = LogLevel.Warning,
        Message = "The request's session went over a limit and was not stored; the request was answered 413 Content Too Large: {Reason}")]
    private static partial void LimitExceeded(ILogger logger, string reason);
}
