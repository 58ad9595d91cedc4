using Sessions.AspNetCore;

namespace Sessions.Samples.AspNetCore;

/// <summary>The sample application: the route contract (docs/samples.md) on ASP.NET Core, built so tests can start it on any port.</summary>
public static class SampleApp
{
    /// <summary>Builds the app from command-line arguments (<c>--urls</c>, <c>--store memory|redis|embedded</c>, <c>--redis</c>, <c>--db</c>, <c>--transport cookie|header</c>).</summary>
    /// <exception cref="ArgumentException">An argument names an unknown store.</exception>
    public static WebApplication Build(string[] args)
    {
        var options = SampleOptions.Parse(args);
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSessions(config =>
        {
            config.Cookie = "sid";
            config.Transport = options.Transport;
            config.MaxSessionsPerUser = options.MaxSessionsPerUser;
            config.Expires = options.Expires;
        });
        if (options.Store != "memory")
            builder.Services.AddSingleton(_ => options.CreateDatabase()!); // created, and disposed at shutdown, by the container
        var app = builder.Build();
        options.PrintEvents(app.Services.GetRequiredService<SessionManager>());
        // No browser sniffs a response (stored session text, a flash) as HTML or script.
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        app.UseSessions();
        Map(app);
        app.MapSessionsDemo(); // an HTML page under /demo, outside the route contract
        return app;
    }

    private static void Map(WebApplication app)
    {
        var sessions = app.Services.GetRequiredService<SessionManager>();

        app.MapGet("/", () => Routes.List);

        app.MapGet("/set", async context =>
        {
            var session = sessions.StartDeferred(context); // writes only: one database call
            session.Set("name", "iris");
            await WriteTextAsync(context, "All ok session setted to: " + session.GetString("name"));
        });

        app.MapGet("/get", async context =>
        {
            var session = await sessions.StartAsync(context);
            await WriteTextAsync(context, "The name on the /set was: " + session.GetString("name", ""));
        });

        app.MapGet("/delete", async context =>
        {
            var session = await sessions.StartAsync(context);
            await WriteTextAsync(context, "deleted: " + (session.Delete("name") ? "true" : "false"));
        });

        app.MapGet("/clear", async context =>
        {
            var session = sessions.StartDeferred(context); // writes only: one database call
            session.Clear();
            await WriteTextAsync(context, "cleared");
        });

        app.MapGet("/update", async context =>
            await WriteTextAsync(context, "updated: " + (await sessions.ShiftExpirationAsync(context) ? "true" : "false")));

        app.MapGet("/destroy", async context =>
            await WriteTextAsync(context, "destroyed: " + (await sessions.DestroyAsync(context) ? "true" : "false")));

        app.MapGet("/set_immutable", async context =>
        {
            var session = sessions.StartDeferred(context); // writes only: one database call
            session.SetImmutable("businessEdit", BusinessModel.Defaults());
            // Changing what Get returned does not change the session: the value is immutable.
            session.Get<List<BusinessModel>>("businessEdit")[0].Name = "Gabriel";
            await WriteTextAsync(context, "[]businessModel[0].Name set to: " + session.Get<List<BusinessModel>>("businessEdit")[0].Name);
        });

        app.MapGet("/get_immutable", async context =>
        {
            var session = await sessions.StartAsync(context);
            if (!session.TryGet<List<BusinessModel>>("businessEdit", out var models))
            {
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.WriteAsync("please navigate to the <a href='/set_immutable'>/set_immutable</a> first");
                return;
            }
            models[0].Name = "Kataras";
            await WriteTextAsync(context, "[]businessModel[0].Name remains: " + session.Get<List<BusinessModel>>("businessEdit")[0].Name);
        });

        app.MapGet("/flash/set", async context =>
        {
            if (await RequireKeyAsync(context) is not { } key)
                return;
            var value = context.Request.Query["value"].ToString();
            var session = sessions.StartDeferred(context);
            session.SetFlash(key, value);
            await WriteTextAsync(context, $"flash set: {key}={value}");
        });

        app.MapGet("/flash/get", async context => await Flash(context, consume: true));
        app.MapGet("/flash/peek", async context => await Flash(context, consume: false));

        app.MapGet("/counter", async context =>
        {
            var session = await sessions.StartAsync(context);
            await WriteTextAsync(context, session.Increment("counter").ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

        app.MapGet("/renew", async context =>
            await WriteTextAsync(context, "renewed: " + (await sessions.RenewIdAsync(context) ? "true" : "false")));

        // Users and devices: the shared route contract's handlers (samples/Shared/UserRoutes.cs).
        foreach (var path in UserRoutes.Paths)
        {
            app.MapGet(path, async context =>
            {
                var result = await UserRoutes.HandleAsync(new ContextSessions(sessions, context), path, context.Request.QueryString.Value?.TrimStart('?'));
                context.Response.StatusCode = result.StatusCode;
                context.Response.ContentType = result.ContentType;
                await context.Response.WriteAsync(result.Body);
            });
        }

        app.MapGet("/all", async context =>
        {
            var session = await sessions.StartAsync(context);
            // The serialiser's defaults, as the stores that keep copies write values: the same names on every store.
            await context.Response.WriteAsJsonAsync(session.GetAll(), System.Text.Json.JsonSerializerOptions.Default);
        });

        async Task Flash(HttpContext context, bool consume)
        {
            if (await RequireKeyAsync(context) is not { } key)
                return;
            var session = await sessions.StartAsync(context);
            var value = consume ? session.GetFlash(key) : session.PeekFlash(key);
            if (value is null)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                await WriteTextAsync(context, "no flash: " + key);
                return;
            }
            await WriteTextAsync(context, value.ToString() ?? "");
        }
    }

    /// <summary>Writes a plain-text body, saying so: stored text is never left to a browser's sniffing.</summary>
    private static Task WriteTextAsync(HttpContext context, string text)
    {
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }

    private static async Task<string?> RequireKeyAsync(HttpContext context)
    {
        var key = context.Request.Query["key"].ToString();
        if (key.Length > 0)
            return key;
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await WriteTextAsync(context, "missing query parameter 'key'");
        return null;
    }
}

/// <summary>The route contract's session operations on one ASP.NET Core request.</summary>
internal readonly struct ContextSessions(SessionManager sessions, HttpContext context) : IRequestSessions
{
    public ValueTask<Session> StartAsync() => sessions.StartAsync(context);
    public Session StartDeferred() => sessions.StartDeferred(context);
    public ValueTask<bool> ShiftExpirationAsync() => sessions.ShiftExpirationAsync(context);
    public ValueTask<bool> DestroyAsync() => sessions.DestroyAsync(context);
    public ValueTask<bool> RenewIdAsync() => sessions.RenewIdAsync(context);
    public SessionManager Manager => sessions;
}

/// <summary>The route list served on <c>/</c> (shared by every sample).</summary>
public static class Routes
{
    /// <summary>One route per line.</summary>
    public const string List = Sessions.Samples.Routes.List;
}
