using Microsoft.Playwright;
using Sessions.Hosts.Tests;
using static Microsoft.Playwright.Assertions;

namespace Sessions.Browser.Tests;

/// <summary>
/// The ASP.NET Core sample's <c>/demo</c> page in headless Chromium, the sample running as its own process on the
/// in-memory store (<c>dotnet Sessions.Samples.AspNetCore.dll --urls http://127.0.0.1:PORT</c>). What only a browser
/// proves: the cookie as the browser stored it (HttpOnly, SameSite, Path, no Secure on http, the expiry), that the
/// page's scripts cannot read it, that it changes at sign-in, that a flash survives exactly one real navigation and that
/// sign-out removes the cookie from the browser. Each test has its own browser context (its own cookie jar).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class DemoPageBrowserTests
{
    private static readonly TimeSpan ConfiguredExpires = TimeSpan.FromHours(2); // the sample keeps SessionConfig.Expires' default

    private Chromium _chromium = null!;
    private SampleProcess _sample = null!;
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    [OneTimeSetUp]
    public async Task StartBrowserAndSample()
    {
        _chromium = await Chromium.LaunchAsync();
        _sample = await SampleProcess.StartAsync("AspNetCore");
    }

    [OneTimeTearDown]
    public async Task StopBrowserAndSample()
    {
        _sample?.Dispose(); // killed by PID and waited for
        if (_chromium is not null)
            await _chromium.DisposeAsync();
    }

    [SetUp]
    public async Task OpenPage()
    {
        _context = await NewContextAsync();
        _page = await _context.NewPageAsync();
    }

    [TearDown]
    public async Task ClosePage() => await _context.DisposeAsync();

    [Test]
    public async Task The_browser_stores_an_HttpOnly_SameSite_Lax_host_only_cookie_on_path_slash_without_Secure_for_the_configured_two_hours()
    {
        await _page.GotoAsync(DemoPath);
        (await _context.CookiesAsync()).Should().BeEmpty("showing the sign-in form stores nothing, so no cookie is sent");

        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await SignInAsync("Ada");
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var cookie = await SessionCookieAsync();
        TestContext.Out.WriteLine("The browser stored: " + await Chromium.DescribeAsync(_page, cookie));
        cookie.HttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be(SameSiteAttribute.Lax);
        cookie.Path.Should().Be("/");
        cookie.Secure.Should().BeFalse("the page is served over http, and the cookie is Secure only on https requests");
        cookie.Domain.Should().Be("127.0.0.1", "a host-only cookie (no Domain attribute)");
        var stored = (await Chromium.StoredCookiesAsync(_page)).Should().ContainSingle().Subject;
        stored.Session.Should().BeFalse("a persistent cookie");
        stored.Expires.Should().BeInRange(before + ConfiguredExpires.TotalSeconds - 1, after + ConfiguredExpires.TotalSeconds + 1,
            "it expires with the session's absolute lifetime (SessionConfig.Expires, 2 hours)");
        var scriptSees = await _page.EvaluateAsync<string>("document.cookie");
        TestContext.Out.WriteLine($"document.cookie on the page: '{scriptSees}'");
        scriptSees.Should().BeEmpty("an HttpOnly cookie is out of the page's scripts' reach");
    }

    [Test]
    public async Task Signing_in_moves_the_session_to_a_new_cookie_value_and_the_old_one_is_dead()
    {
        (await TextAsync(await _page.GotoAsync("/counter"))).Should().Be("1", "a session before signing in");
        var anonymous = await SessionCookieAsync();
        TestContext.Out.WriteLine("Before sign-in: " + await Chromium.DescribeAsync(_page, anonymous));

        await SignInAsync("Ada");

        var signedIn = await SessionCookieAsync();
        TestContext.Out.WriteLine("After sign-in:  " + await Chromium.DescribeAsync(_page, signedIn));
        signedIn.Value.Should().NotBe(anonymous.Value, "RenewId gives the signed-in session a new ID");
        (await _page.TextContentAsync("#counter")).Should().Be("1", "the session's values moved to the new ID");

        // Another browser holding the pre-sign-in cookie (a planted or stolen ID) has no session at all.
        await using var other = await NewContextAsync();
        await other.AddCookiesAsync([new Cookie { Name = "sid", Value = anonymous.Value, Domain = "127.0.0.1", Path = "/" }]);
        var page = await other.NewPageAsync();
        (await TextAsync(await page.GotoAsync("/all"))).Should().Be("{}");
        await page.GotoAsync(DemoPath);
        (await page.Locator("#signin").CountAsync()).Should().Be(1, "the old ID is not signed in");
    }

    [Test]
    public async Task The_welcome_flash_is_shown_once_and_a_reload_no_longer_shows_it()
    {
        await SignInAsync("Ada <b>&");

        (await _page.TextContentAsync("#flash")).Should().Be("Welcome, Ada <b>&");
        (await _page.TextContentAsync("#user")).Should().Be("Ada <b>&");
        (await _page.Locator("b").CountAsync()).Should().Be(0, "the name is shown as text, never as markup");
        TestContext.Out.WriteLine("After sign-in the page shows: " + await _page.TextContentAsync("#flash"));

        await _page.ReloadAsync();

        (await _page.Locator("#flash").CountAsync()).Should().Be(0, "the flash was consumed by the page that showed it");
        (await _page.TextContentAsync("#user")).Should().Be("Ada <b>&", "the user stays signed in");
        TestContext.Out.WriteLine("After a reload: no #flash element; still signed in as " + await _page.TextContentAsync("#user"));
        var peek = await _page.GotoAsync("/flash/peek?key=welcome");
        peek!.Status.Should().Be(404);
        (await TextAsync(peek)).Should().Be("no flash: welcome");
    }

    [Test]
    public async Task The_counter_increments_across_clicks()
    {
        await SignInAsync("Ada");
        (await _page.TextContentAsync("#counter")).Should().Be("0");

        for (var expected = 1; expected <= 3; expected++)
        {
            await _page.ClickAsync("#increment");
            await Expect(_page.Locator("#counter")).ToHaveTextAsync(expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await _page.ReloadAsync();
        (await _page.TextContentAsync("#counter")).Should().Be("3", "a reload shows the page again (post/redirect/get), it does not post again");
        (await TextAsync(await _page.GotoAsync("/all"))).Should().Be("""{"user":"Ada","authenticated":true,"counter":3}""");
    }

    [Test]
    public async Task Signing_out_removes_the_cookie_from_the_browser_and_ends_the_session()
    {
        await SignInAsync("Ada");
        var cookie = await SessionCookieAsync();

        await _page.ClickAsync("#signout");
        await Expect(_page.Locator("#signin")).ToBeVisibleAsync(); // the page the sign-out redirects to

        var left = await _context.CookiesAsync();
        TestContext.Out.WriteLine($"Cookies in the browser after sign-out: {left.Count}");
        left.Should().BeEmpty("Destroy expires the cookie and the browser drops it");
        (await _page.Locator("#signin").CountAsync()).Should().Be(1, "the page shows the sign-in form again");
        (await _context.CookiesAsync()).Should().BeEmpty("showing the sign-in form stores nothing");

        await using var other = await NewContextAsync();
        await other.AddCookiesAsync([new Cookie { Name = "sid", Value = cookie.Value, Domain = "127.0.0.1", Path = "/" }]);
        var page = await other.NewPageAsync();
        (await TextAsync(await page.GotoAsync("/all"))).Should().Be("{}", "the destroyed session is gone from the store too");
    }

    [Test]
    public async Task A_form_post_from_another_origin_of_the_same_site_is_refused()
    {
        await SignInAsync("Ada");
        // Another port of 127.0.0.1: another origin but the same site, so the SameSite=Lax cookie goes with its POST.
        // The browser's router serves that page; no server listens there.
        var attacker = $"http://127.0.0.1:{Sessions.Testing.LoopbackPorts.Free()}/attacker";
        var target = new Uri(_sample.BaseAddress, DemoPath + "/increment").ToString();
        await _context.RouteAsync(attacker, route => route.FulfillAsync(new()
        {
            ContentType = "text/html",
            Body = $"""<form method="post" action="{target}"><button id="go">Go</button></form>""",
        }));
        var page = await _context.NewPageAsync();
        await page.GotoAsync(attacker);

        var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#go"), target);

        var headers = await response.Request.AllHeadersAsync();
        TestContext.Out.WriteLine($"Cross-origin POST: Origin {headers.GetValueOrDefault("origin")}, " +
            $"cookie sent: {headers.GetValueOrDefault("cookie", "").Contains("sid=", StringComparison.Ordinal)}, answer {response.Status}");
        headers.Should().ContainKey("cookie", "the cookie is SameSite=Lax and the post is same-site");
        response.Status.Should().Be(403);
        await _page.ReloadAsync();
        (await _page.TextContentAsync("#counter")).Should().Be("0", "the refused post changed nothing");
    }

    private const string DemoPath = Sessions.Samples.AspNetCore.DemoPage.Path;

    private Task<IBrowserContext> NewContextAsync() => NewContextAsync(_chromium, _sample.BaseAddress);

    internal static async Task<IBrowserContext> NewContextAsync(Chromium chromium, Uri baseAddress)
    {
        var context = await chromium.Browser.NewContextAsync(new() { BaseURL = baseAddress.ToString() });
        context.SetDefaultTimeout(15_000);
        SetDefaultExpectTimeout(15_000); // a shared machine may be slow; a failing wait still fails
        return context;
    }

    private Task SignInAsync(string name) => SignInAsync(_page, name);

    /// <summary>Fills the form and submits it with a click, waiting for the page the POST redirects to (it names the user).</summary>
    internal static async Task SignInAsync(IPage page, string name)
    {
        await page.GotoAsync(DemoPath);
        await page.FillAsync("#name", name);
        await page.ClickAsync("#signin");
        await Expect(page.Locator("#user")).ToHaveTextAsync(name);
    }

    private async Task<BrowserContextCookiesResult> SessionCookieAsync()
    {
        var cookies = await _context.CookiesAsync();
        cookies.Should().ContainSingle("the sample sets one cookie, the session's").Which.Name.Should().Be("sid");
        return cookies[0];
    }

    private static async Task<string> TextAsync(IResponse? response)
    {
        response.Should().NotBeNull();
        return await response!.TextAsync();
    }
}
