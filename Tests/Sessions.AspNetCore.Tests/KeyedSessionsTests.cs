using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>Two <see cref="SessionManager"/>s side by side through keyed services, each with its own cookie and database, over real Kestrel.</summary>
[TestFixture]
public sealed class KeyedSessionsTests
{
    private CopyingMemoryDatabase _adminDatabase = null!;
    private RunningApp _app = null!;

    [SetUp]
    public async Task StartApp()
    {
        _adminDatabase = new CopyingMemoryDatabase(asynchronous: true);
        _app = await BridgeApp.StartAsync(
            services =>
            {
                services.AddSessions();
                services.AddKeyedSingleton<ISessionDatabase>("admin", _adminDatabase);
                services.AddKeyedSessions("admin", config =>
                {
                    config.Cookie = "admin_sid";
                    config.Expires = TimeSpan.FromMinutes(20);
                });
            },
            app =>
            {
                app.UseSessions();
                app.MapGet("/both", async (HttpContext context, SessionManager site, [FromKeyedServices("admin")] SessionManager admin) =>
                {
                    (await site.StartAsync(context)).Set("who", "visitor");
                    (await admin.StartAsync(context)).Set("who", "admin");
                    return "ok";
                });
                app.MapGet("/read", async (HttpContext context) =>
                {
                    var site = await context.GetSessionAsync();
                    var admin = await context.GetSessionAsync("admin");
                    return $"{site.GetString("who", "-")}|{admin.GetString("who", "-")}";
                });
                app.MapGet("/admin/logout", async (HttpContext context, [FromKeyedServices("admin")] SessionManager admin) =>
                    (await admin.DestroyAsync(context)).ToString());
            });
    }

    [TearDown]
    public async Task StopApp() => await _app.DisposeAsync();

    [Test]
    public async Task TwoManagers_SendTwoCookies_AndKeepEachSessionInItsOwnDatabase()
    {
        using var browser = _app.Browser(out var cookies);
        using (var response = await browser.GetAsync("/both", cookieHeader: null))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            var site = response.SetCookieValue("sid");
            var admin = response.SetCookieValue("admin_sid");
            site.Should().NotBe(admin);
            response.SetCookies().Should().ContainSingle(c => c.StartsWith("admin_sid=", StringComparison.Ordinal)).Which.Should().Contain("max-age=1200");
        }

        (await browser.BodyAsync("/read")).Should().Be("visitor|admin");
        (await _adminDatabase.CountAsync(CancellationToken.None)).Should().Be(1);
        var siteDatabase = _app.Services.GetRequiredService<SessionManager>().Database.Should().BeOfType<MemorySessionDatabase>().Subject;
        siteDatabase.Count.Should().Be(1);
        _app.Services.GetRequiredKeyedService<SessionManager>("admin").Database.Should().BeSameAs(_adminDatabase);
    }

    [Test]
    public async Task DestroyingOneManagersSession_LeavesTheOtherAlone()
    {
        using var browser = _app.Browser(out var cookies);
        (await browser.BodyAsync("/both")).Should().Be("ok");

        using (var logout = await browser.GetAsync("/admin/logout", cookieHeader: null))
        {
            (await logout.Content.ReadAsStringAsync()).Should().Be("True");
            logout.SetCookies().Should().ContainSingle().Which.Should().StartWith("admin_sid=;");
        }

        (await browser.BodyAsync("/read")).Should().Be("visitor|-");
        cookies.Sid(_app.BaseAddress).Should().NotBeNull();
    }

    [Test]
    public async Task OneManagersCookie_IsNeverAdoptedByTheOther()
    {
        using var browser = _app.Browser(out _);
        string site;
        using (var response = await browser.GetAsync("/both", cookieHeader: null))
            site = response.SetCookieValue("sid");

        using var raw = _app.Raw();
        (await raw.BodyAsync("/read", $"admin_sid={site}")).Should().Be("-|-");
    }

    [Test]
    public async Task HttpContextSession_CanBeServedByAKeyedManager()
    {
        await using var app = await BridgeApp.StartAsync(
            services => services.AddKeyedSessions("admin", config => config.Cookie = "admin_sid"),
            pipeline =>
            {
                pipeline.UseSessionsAsSessionFeature("admin");
                pipeline.MapGet("/set", (HttpContext context) =>
                {
                    context.Session.SetString("role", "admin");
                    return "ok";
                });
                pipeline.MapGet("/get", async (HttpContext context) =>
                    $"{context.Session.GetString("role")}|{(await context.GetSessionAsync("admin")).GetString("role")}");
            });
        using var browser = app.Browser(out _);
        using (var response = await browser.GetAsync("/set", cookieHeader: null))
            response.SetCookieValue("admin_sid").Should().NotBeEmpty();

        (await browser.BodyAsync("/get")).Should().Be("admin|admin");
    }

    [Test]
    public async Task AnUnknownKey_OrAnInvalidKeyedSetting_FailsNamingIt()
    {
        var services = new ServiceCollection();
        services.AddSessions();
        await using var provider = services.BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = provider };
        var unknown = async () => await context.GetSessionAsync("reports");
        (await unknown.Should().ThrowAsync<InvalidOperationException>()).WithMessage("*'reports'*AddKeyedSessions*");

        var invalid = new ServiceCollection();
        invalid.AddKeyedSessions("admin", config => config.Cookie = "bad;name");
        await using var invalidProvider = invalid.BuildServiceProvider();
        invalidProvider.Invoking(p => p.GetRequiredKeyedService<SessionManager>("admin")).Should().Throw<OptionsValidationException>().WithMessage("*Cookie*");
    }
}
