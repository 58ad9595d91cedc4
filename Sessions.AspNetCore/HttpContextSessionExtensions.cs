using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.AspNetCore;

/// <summary>The request's session straight from an <see cref="HttpContext"/>: <c>var session = await context.GetSessionAsync();</c>.</summary>
public static class HttpContextSessionExtensions
{
    /// <summary>
    /// Returns the request's session from the <see cref="SessionManager"/> registered with
    /// <see cref="SessionsServiceCollectionExtensions.AddSessions(IServiceCollection, Action{SessionConfig}?)"/>, loading it
    /// asynchronously and cancelled with <see cref="HttpContext.RequestAborted"/>; see <see cref="SessionManager.StartAsync"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="SessionManager"/> is registered (<c>services.AddSessions(...)</c> was not called).</exception>
    public static ValueTask<Session> GetSessionAsync(this HttpContext context)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        return SessionsOf(context).StartAsync(context, context.RequestAborted);
    }

    internal static SessionManager SessionsOf(HttpContext context) =>
        context.RequestServices?.GetService<SessionManager>()
        ?? throw new InvalidOperationException(
            "No SessionManager is registered: call services.AddSessions(...) (builder.Services.AddSessions()) before using the request's session.");
}
