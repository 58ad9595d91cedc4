using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// Runs the pipeline, then commits the request's sessions (one per manager used) if the response has not started (a response that started
/// was committed just before, in <c>Response.OnStarting</c>); neither commit is cancelled when the client goes away. A database failure while loading or committing answers
/// 503 with Retry-After (see <see cref="SessionsMiddlewareOptions"/>), a session ended by another request 409, each
/// logged once (see <see cref="SessionFailureResponses"/>); any other failure propagates.
/// </summary>
internal sealed class SessionsMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context).ConfigureAwait(false);
            // One carrier per manager used in the request (keyed managers): each session is committed.
            for (var carrier = HttpContextCookieCarrier.Find(context); carrier is { CommitFailed: false }; carrier = carrier.Next)
            {
                if (carrier.Session is { } session)
                    await session.CommitAsync(CancellationToken.None).ConfigureAwait(false); // kept even if the client went away
            }
        }
        catch (Exception e) when (SessionFailureResponses.Handles(e) && !context.Response.HasStarted)
        {
            if (HttpContextCookieCarrier.Find(context) is { } carrier)
                carrier.AnswerFailure(e);
            else
                SessionFailureResponses.Answer(context, e);
        }
    }
}
