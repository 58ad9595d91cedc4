using Microsoft.AspNetCore.Http;

namespace Sessions.AspNetCore;

/// <summary>
/// The request's session as a minimal-API parameter: <c>app.MapGet("/", (RequestSession s) =&gt; s.Session.GetString("name", ""))</c>.
/// Bound through <see cref="BindAsync"/> from the <see cref="SessionManager"/> registered with <c>AddSessions</c>.
/// </summary>
public sealed class RequestSession : IBindableFromHttpContext<RequestSession>
{
    private RequestSession(Session session) => Session = session;

    /// <summary>The request's session.</summary>
    public Session Session { get; }

    /// <summary>Loads the request's session; see <see cref="HttpContextSessionExtensions.GetSessionAsync(HttpContext)"/>.</summary>
    /// <param name="context">The request.</param>
    /// <param name="parameter">The parameter being bound (unused).</param>
    /// <exception cref="InvalidOperationException">No <see cref="SessionManager"/> is registered (<c>services.AddSessions(...)</c> was not called).</exception>
    public static async ValueTask<RequestSession?> BindAsync(HttpContext context, System.Reflection.ParameterInfo parameter) =>
        new(await context.GetSessionAsync().ConfigureAwait(false));

}
