using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Sessions.AspNetCore;
using Sessions.Samples.AspNetCore;

namespace Sessions.Browser.Tests;

/// <summary>
/// The same demo page on a configuration with a negative <see cref="SessionConfig.Expires"/>, in process on Kestrel
/// (127.0.0.1, a port of the OS's choosing): the browser keeps the cookie as a browser-session cookie, with no expiry.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class BrowserSessionCookieTests
{
    private Chromium _chromium = null!;
    private WebApplication _app = null!;
    private Uri _baseAddress = null!;

    [OneTimeSetUp]
    public async Task StartBrowserAndApp()
    {
        _chromium = await Chromium.LaunchAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSessions(config => config.Expires = TimeSpan.FromSeconds(-1));
        _app = builder.Build();
        _app.UseSessions();
        _app.MapSessionsDemo();
        await _app.StartAsync();
        _baseAddress = new Uri(_app.Urls.Single() + "/"); // the port Kestrel bound
    }

    [OneTimeTearDown]
    public async Task StopBrowserAndApp()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        if (_chromium is not null)
            await _chromium.DisposeAsync();
    }

    [Test]
    public async Task A_negative_Expires_gives_a_cookie_the_browser_drops_when_it_closes()
    {
        await using var context = await DemoPageBrowserTests.NewContextAsync(_chromium, _baseAddress);
        var page = await context.NewPageAsync();

        await DemoPageBrowserTests.SignInAsync(page, "Ada");

        var cookies = await context.CookiesAsync();
        cookies.Should().ContainSingle();
        var cookie = cookies[0];
        TestContext.Out.WriteLine("The browser stored: " + await Chromium.DescribeAsync(page, cookie));
        cookie.Name.Should().Be(SessionConfig.DefaultCookieName);
        cookie.Expires.Should().Be(-1, "no Expires or Max-Age: a browser-session cookie");
        (await Chromium.StoredCookiesAsync(page)).Should().ContainSingle().Which.Session.Should().BeTrue("Chromium keeps it for this browser session only");
        cookie.HttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteAttribute.Lax);
        cookie.Secure.Should().BeFalse();
        (await page.TextContentAsync("#flash")).Should().Be("Welcome, Ada");
    }
}
