using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.AspNetCore.Tests;

/// <summary>Test-only endpoints on top of <c>AddSessions</c>/<c>UseSessions</c>, for what the sample's routes do not reach.</summary>
internal static class TestEndpoints
{
    public static void Map(WebApplication app)
    {
        var sessions = app.Services.GetRequiredService<SessionManager>();

        app.MapGet("/write", async context =>
        {
            var key = context.Request.Query["key"].ToString();
            var session = await sessions.StartAsync(context);
            session.Set(key, key);
            await context.Response.WriteAsync("ok");
        });

        app.MapGet("/keys", async context =>
        {
            var session = await sessions.StartAsync(context);
            await context.Response.WriteAsync(string.Join(",", session.GetAll().Keys));
        });

        app.MapGet("/counter", async context =>
        {
            var session = await sessions.StartAsync(context);
            await context.Response.WriteAsync(session.Increment("counter").ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

        app.MapGet("/flash", async context =>
        {
            var session = await sessions.StartAsync(context);
            session.SetFlash("notice", "hello");
            await context.Response.WriteAsync("ok");
        });

        app.MapGet("/destroy", async context =>
            await context.Response.WriteAsync((await sessions.DestroyAsync(context)) ? "destroyed" : "nothing"));

        app.MapGet("/renew", async context =>
            await context.Response.WriteAsync((await sessions.RenewIdAsync(context)) ? "renewed" : "gone"));
    }
}
