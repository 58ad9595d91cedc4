using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sessions.AspNetCore.Tests;

/// <summary><c>context.GetSessionAsync()</c>, the minimal-API <see cref="RequestSession"/> parameter and <c>AddSessions(IConfiguration)</c>.</summary>
[TestFixture]
public sealed class RequestSessionTests
{
    private static void MapNameEndpoints(WebApplication app)
    {
        app.MapGet("/set", async (HttpContext context, string name) =>
        {
            var session = await context.GetSessionAsync();
            session.Set("name", name);
            return "ok";
        });
        app.MapGet("/name", (RequestSession s) => s.Session.GetString("name", ""));
        app.MapGet("/same", async (HttpContext context, RequestSession s) => ReferenceEquals(await context.GetSessionAsync(), s.Session) ? "same" : "different");
    }

    [Test]
    public async Task GetSessionAsync_AndTheRequestSessionParameter_SeeTheSameSession_AcrossACookieRoundTrip()
    {
        await using var running = await RunningApp.StartAsync(MapNameEndpoints);
        using var browser = running.Browser(out var cookies);

        (await browser.BodyAsync("/set?name=iris")).Should().Be("ok");
        cookies.Sid(running.BaseAddress).Should().NotBeNullOrEmpty("the session written through GetSessionAsync issued its cookie");

        (await browser.BodyAsync("/name")).Should().Be("iris");
        (await browser.BodyAsync("/same")).Should().Be("same", "both forms return the request's one session");

        using var stranger = running.Browser(out _);
        (await stranger.BodyAsync("/name")).Should().BeEmpty("another browser has its own session");
    }

    [Test]
    public async Task WithoutAddSessions_GetSessionAsync_AndBindAsync_ThrowAnErrorNamingAddSessions()
    {
        await using var provider = new ServiceCollection().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = provider };

        await FluentActions.Awaiting(async () => await context.GetSessionAsync())
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*AddSessions*");
        await FluentActions.Awaiting(async () => await RequestSession.BindAsync(context, null!))
            .Should().ThrowAsync<InvalidOperationException>().WithMessage("*AddSessions*");
    }

    [Test]
    public async Task WithoutAddSessions_OverKestrel_TheRequestFailsWithAServerError()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/name", (RequestSession s) => s.Session.GetString("name", ""));
        await using var running = await RunningApp.StartAsync(app);
        using var client = running.Raw();

        using var response = await client.GetAsync("/name", cookieHeader: null);

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        response.SetCookies().Should().BeEmpty();
    }

    [Test]
    public async Task AddSessions_FromAConfigurationSection_BindsTheSettings_AndTheAppUsesThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sessions:Cookie"] = "app_sid",
            ["Sessions:Expires"] = "02:00:00",
            ["Sessions:IdleTimeout"] = "00:10:00",
            ["Sessions:SameSite"] = "Strict",
        }).Build();
        await using var running = await StartAsync(services => services.AddSessions(configuration.GetSection("Sessions")));

        var config = running.Services.GetRequiredService<IOptions<SessionConfig>>().Value;
        config.Cookie.Should().Be("app_sid");
        config.Expires.Should().Be(TimeSpan.FromHours(2));
        config.IdleTimeout.Should().Be(TimeSpan.FromMinutes(10));

        using var raw = running.Raw();
        using var response = await raw.GetAsync("/set?name=iris", cookieHeader: null);
        response.SetCookies().Should().ContainSingle().Which.Should().StartWith("app_sid=").And.Contain("max-age=7200").And.Contain("samesite=strict");
        var cookie = "app_sid=" + response.SetCookieValue("app_sid");
        (await raw.BodyAsync("/name", cookie)).Should().Be("iris");
    }

    [Test]
    public async Task AddSessions_FromConfiguration_ThenTheAction_TheActionWins()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sessions:Cookie"] = "from_config" }).Build();
        await using var running = await StartAsync(services => services.AddSessions(configuration.GetSection("Sessions"), c => c.Cookie = "from_code"));

        running.Services.GetRequiredService<IOptions<SessionConfig>>().Value.Cookie.Should().Be("from_code");
    }

    [TestCase("Sessions:IdleTimeout", "-00:05:00", "*SessionConfig.IdleTimeout*")]
    [TestCase("Sessions:Cookie", "bad;name", "*SessionConfig.Cookie*")]
    [TestCase("Sessions:MaxKeys", "0", "*SessionConfig.MaxKeys*")]
    public async Task AddSessions_FromConfiguration_InvalidValues_FailAtStartUp_NamingTheField(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        await using var app = Build(services => services.AddSessions(configuration.GetSection("Sessions")));

        var act = () => app.StartAsync();

        (await act.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Match(message);
    }

    [Test]
    public async Task AddSessions_FromConfiguration_AMisspeltKey_FailsAtStartUp_NamingIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sessions:IdelTimeout"] = "00:10:00" }).Build();
        await using var app = Build(services => services.AddSessions(configuration.GetSection("Sessions")));

        var act = () => app.StartAsync();

        (await act.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("IdelTimeout");
    }

    private static WebApplication Build(Action<IServiceCollection> services)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        services(builder.Services);
        var app = builder.Build();
        app.UseSessions();
        MapNameEndpoints(app);
        return app;
    }

    private static Task<RunningApp> StartAsync(Action<IServiceCollection> services) => RunningApp.StartAsync(Build(services));
}
