using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// Commits the request's session after the rest of the pipeline (it is also committed before the response starts, as
/// soon as a session is started). A commit failure propagates: a write is never reported as saved when it was not.
/// </summary>
internal sealed class SessionsMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context).ConfigureAwait(false);
        if (HttpContextCookieCarrier.Find(context) is { } carrier)
            await carrier.CommitAsync().ConfigureAwait(false);
    }
}
