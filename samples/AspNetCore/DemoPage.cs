using System.Globalization;
using System.Net;
using Sessions.AspNetCore;

namespace Sessions.Samples.AspNetCore;

/// <summary>
/// A small HTML page under <c>/demo</c>, an extra of the ASP.NET Core sample (outside the route contract): sign in
/// (a POST that renews the session ID, then marks the session authenticated), a welcome flash shown once, a counter
/// button and sign out (Destroy). Tests/Sessions.Browser.Tests drives it in headless Chromium.
/// </summary>
public static class DemoPage
{
    /// <summary>The page's path; its forms post to <c>/demo/signin</c>, <c>/demo/increment</c> and <c>/demo/signout</c>.</summary>
    public const string Path = "/demo";

    /// <summary>The longest name the sign-in form accepts.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Maps the page and its three form targets on the <see cref="SessionManager"/> registered with <c>AddSessions</c>.</summary>
    public static IEndpointRouteBuilder MapSessionsDemo(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var sessions = endpoints.ServiceProvider.GetRequiredService<SessionManager>();

        endpoints.MapGet(Path, async context =>
        {
            var session = await sessions.StartAsync(context, context.RequestAborted);
            // Reading the flash consumes it: the next request (a reload) no longer has it.
            var welcome = session.GetFlashString("welcome");
            var body = session.GetBoolean("authenticated", false)
                ? SignedIn(session.GetString("user", ""), session.GetInt32("counter", 0), welcome)
                : SignInForm;
            await WriteHtmlAsync(context, StatusCodes.Status200OK, body);
        });

        endpoints.MapPost(Path + "/signin", async context =>
        {
            if (!await IsSameOriginAsync(context))
                return;
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var name = form["name"].ToString().Trim();
            if (name.Length is 0 or > MaxNameLength)
            {
                await WriteHtmlAsync(context, StatusCodes.Status400BadRequest, $"<p>The name must hold 1 to {MaxNameLength} characters.</p>");
                return;
            }
            // Authentication goes here. A new ID at every privilege change: an ID planted before sign-in is worth nothing after it.
            await sessions.RenewIdAsync(context, context.RequestAborted);
            var session = await sessions.StartAsync(context, context.RequestAborted);
            session.Set("user", name);
            session.Set("authenticated", true);
            session.SetFlash("welcome", "Welcome, " + name);
            SeeOther(context);
        });

        endpoints.MapPost(Path + "/increment", async context =>
        {
            if (!await IsSameOriginAsync(context))
                return;
            var session = await sessions.StartAsync(context, context.RequestAborted);
            if (session.GetBoolean("authenticated", false))
                session.Increment("counter");
            SeeOther(context);
        });

        endpoints.MapPost(Path + "/signout", async context =>
        {
            if (!await IsSameOriginAsync(context))
                return;
            await sessions.DestroyAsync(context, context.RequestAborted); // the session is gone and the cookie expired
            SeeOther(context);
        });

        return endpoints;
    }

    private static readonly string SignInForm = $"""
        <form method="post" action="/demo/signin">
          <label>Name <input id="name" name="name" required maxlength="{MaxNameLength}" autocomplete="username"></label>
          <button id="signin">Sign in</button>
        </form>
        """;

    private static string SignedIn(string user, int counter, string welcome)
    {
        var flash = welcome.Length == 0 ? "" : $"""<p id="flash" role="status">{WebUtility.HtmlEncode(welcome)}</p>""" + "\n";
        return flash + $"""
            <p>Signed in as <strong id="user">{WebUtility.HtmlEncode(user)}</strong>.</p>
            <p>Counter: <output id="counter">{counter.ToString(CultureInfo.InvariantCulture)}</output></p>
            <form method="post" action="/demo/increment"><button id="increment">Increment</button></form>
            <form method="post" action="/demo/signout"><button id="signout">Sign out</button></form>
            """;
    }

    /// <summary>
    /// Refuses a cross-site form post (403): the browser names the posting page's origin. The cookie's SameSite=Lax already
    /// keeps it off another site's POST; this also stops a sibling site on the same registrable domain.
    /// </summary>
    private static async Task<bool> IsSameOriginAsync(HttpContext context)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || origin == context.Request.Scheme + "://" + context.Request.Host.Value)
            return true;
        await WriteHtmlAsync(context, StatusCodes.Status403Forbidden, "<p>Cross-origin form posts are refused.</p>");
        return false;
    }

    /// <summary>Post/Redirect/Get: the browser loads the page with GET, so a reload never posts the form again.</summary>
    private static void SeeOther(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = Path;
    }

    private static Task WriteHtmlAsync(HttpContext context, int status, string body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store"; // per-session content: never served from a cache
        response.Headers.ContentSecurityPolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        return response.WriteAsync($"""
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Sessions demo</title></head>
            <body>
            <h1>Sessions demo</h1>
            {body}
            </body>
            </html>
            """, context.RequestAborted);
    }
}
