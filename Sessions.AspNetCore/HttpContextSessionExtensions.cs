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

    /// <summary>
    /// Returns the request's session of the keyed <see cref="SessionManager"/> registered with
    /// <see cref="KeyedSessionsServiceCollectionExtensions.AddKeyedSessions"/> under <paramref name="serviceKey"/>, loading it
    /// asynchronously; each manager keeps its own session (and cookie) in the request.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="SessionManager"/> is registered under <paramref name="serviceKey"/>.</exception>
    public static ValueTask<Session> GetSessionAsync(this HttpContext context, string serviceKey)
    {
        if (context is null)
            throw new ArgumentNullException(nameof(context));
        return SessionsOf(context, serviceKey).StartAsync(context, context.RequestAborted);
    }

    /// <summary>The registered manager: the unkeyed one for <see langword="null"/>, else the one registered under <paramref name="serviceKey"/>.</summary>
    internal static SessionManager SessionsOf(HttpContext context, string? serviceKey) =>
        serviceKey is null ? SessionsOf(context)
        : context.RequestServices?.GetKeyedService<SessionManager>(serviceKey)
          ?? throw new InvalidOperationException(
              $"No SessionManager is registered under the key '{serviceKey}': call services.AddKeyedSessions(\"{serviceKey}\", ...) before using its session.");

    internal static SessionManager SessionsOf(HttpContext context) =>
        context.RequestServices?.GetService<SessionManager>()
        ?? throw new InvalidOperationException(
            "No SessionManager is registered: call services.AddSessions(...) (builder.Services.AddSessions()) before using the request's session.");
}
