using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Redis;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>How <c>HttpContext.Session</c> is loaded: asynchronously, before the endpoint, and what a failed load answers.</summary>
[TestFixture]
public sealed class SessionFeatureLoadTests
{
    [Test]
    public async Task OnADatabaseThatDoesNotCompleteSynchronously_HttpContextSessionIsLoadedBeforeTheEndpoint()
    {
        // The synchronous native API is refused on this database (it would block on I/O), yet HttpContext.Session's
        // synchronous getters work: the middleware loaded the session with the asynchronous Start first.
        await using var app = await BridgeApp.StartAsync(
            services =>
            {
                services.AddSingleton<ISessionDatabase>(new CopyingMemoryDatabase(asynchronous: true));
                services.AddSessions();
            },
            pipeline =>
            {
                pipeline.UseSessionsAsSessionFeature();
                pipeline.MapGet("/set", (HttpContext context) =>
                {
                    context.Session.SetString("name", "iris");
                    return "ok";
                });
                pipeline.MapGet("/get", (HttpContext context, SessionManager sessions) =>
                {
                    var refused = false;
                    try
                    {
                        sessions.Start(context);
                    }
                    catch (InvalidOperationException e) when (e.Message.Contains("StartAsync", StringComparison.Ordinal))
                    {
                        refused = true;
                    }
                    return $"{refused}|{context.Session.GetString("name")}";
                });
            });
        using var browser = app.Browser(out _);
        (await browser.BodyAsync("/set")).Should().Be("ok");

        (await browser.BodyAsync("/get")).Should().Be("True|iris");
    }

    [Test]
    public async Task ADatabaseThatIsDown_Answers503WithRetryAfter_BeforeTheEndpointRuns()
    {
        var endpointRan = false;
        await using var app = await BridgeApp.StartAsync(
            services =>
            {
                services.AddRedisSessionDatabase($"127.0.0.1:{LoopbackPorts.Free()}", o => o.OperationTimeout = TimeSpan.FromMilliseconds(300));
                services.AddSessions();
            },
            pipeline =>
            {
                pipeline.UseSessionsAsSessionFeature();
                pipeline.MapGet("/get", (HttpContext context) =>
                {
                    endpointRan = true;
                    return context.Session.GetString("name") ?? "(null)";
                });
            });
        using var raw = app.Raw();

        using var response = await raw.GetAsync("/get", $"sid={SessionIds.NewId()}");
        response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(5));
        response.SetCookies().Should().BeEmpty();
        endpointRan.Should().BeFalse();
    }
}
