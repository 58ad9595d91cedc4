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
/// carries <c>Cache-Control: no-store</c> and no cookie, and is logged once: the core logs the failures it raises, and
/// this logs only those it did not (a limit a write ran into). Nothing is reported as saved when it was not, and no
/// other session is used instead.
/// </summary>
internal static class SessionFailureResponses
{
    /// <summary>Whether <paramref name="exception"/> is a session failure this policy answers.</summary>
    public static bool Handles(Exception exception) => SessionFailures.StatusCode(exception) is not null;

    public static void Answer(HttpContext context, Exception exception)
    {
        var status = SessionFailures.StatusCode(exception) ?? StatusCodes.Status500InternalServerError;
        var services = context.RequestServices;
        var logger = services?.GetService<SessionManager>()?.Telemetry.Logger ?? services?.GetService<ILoggerFactory>()?.CreateLogger<SessionManager>();
        if (logger is not null)
            SessionLog.Failure(logger, exception, fingerprint: HttpContextCookieCarrier.Find(context)?.Session is { IsNew: false } session ? session.Fingerprint : SessionLog.None);
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
}
