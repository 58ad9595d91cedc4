using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Sessions.AspNetCore;

/// <summary>
/// Loads the request's session asynchronously (see <see cref="SessionManager.StartAsync"/>) before the rest of the pipeline
/// runs, and installs it as the request's <see cref="ISessionFeature"/>, so <c>HttpContext.Session</c> (and MVC's
/// session TempData) work unchanged and never block on the database.
/// </summary>
internal sealed class SessionFeatureMiddleware(RequestDelegate next, string? serviceKey)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var sessions = HttpContextSessionExtensions.SessionsOf(context, serviceKey);
        var session = await sessions.StartAsync(context, context.RequestAborted).ConfigureAwait(false);
        var previous = context.Features.Get<ISessionFeature>();
        context.Features.Set<ISessionFeature>(new Feature(new HttpContextSession(session)));
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Features.Set(previous);
        }
    }

    private sealed class Feature(ISession session) : ISessionFeature
    {
        public ISession Session { get; set; } = session;
    }
}
