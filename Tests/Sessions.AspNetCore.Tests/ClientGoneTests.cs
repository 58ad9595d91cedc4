using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>
/// Over real HTTP: a request whose client went away (the connection aborted before any answer) still has what it wrote
/// committed by the middleware, on a database that stores copies; the commit is not cancelled with the request.
/// </summary>
public sealed class ClientGoneTests
{
    [Test]
    public async Task AWriteOfARequestWhoseClientWentAway_IsStillCommitted()
    {
        var database = new CopyingMemoryDatabase(asynchronous: true);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ISessionDatabase>(database);
        builder.Services.AddSessions();
        var web = builder.Build();
        // Outside the sessions middleware: once it returns for the aborted request, its commit has run.
        web.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            finally
            {
                if (context.Request.Path == "/write-then-abort")
                    finished.TrySetResult();
            }
        });
        web.UseSessions();
        TestEndpoints.Map(web);
        var sessions = web.Services.GetRequiredService<SessionManager>();
        web.MapGet("/write-then-abort", async context =>
        {
            (await sessions.StartAsync(context)).Set("late", "kept");
            context.Abort(); // the client is gone, and nothing has been answered
            var gone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (context.RequestAborted.Register(() => gone.TrySetResult()))
                await gone.Task; // Kestrel cancels RequestAborted shortly after: the middleware commits after that
        });
        await using var app = await RunningApp.StartAsync(web);
        using var client = app.Raw();
        using var first = await client.GetAsync("/write?key=start", cookieHeader: null);
        var cookie = "sid=" + first.SetCookieValue();

        await FluentActions.Awaiting(() => client.GetAsync("/write-then-abort", cookie)).Should().ThrowAsync<HttpRequestException>();
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(30));

        (await client.BodyAsync("/keys", cookie)).Split(',').Should().BeEquivalentTo("start", "late");
    }
}
