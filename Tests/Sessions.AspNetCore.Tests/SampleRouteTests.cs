using System.Globalization;
using System.Net;
using Sessions.Samples.AspNetCore;

namespace Sessions.AspNetCore.Tests;

/// <summary>The route contract (docs/samples.md), on the ASP.NET Core sample running on Kestrel, driven like a browser.</summary>
[TestFixture]
public sealed class SampleRouteTests
{
    private const string NoName = "The name on the /set was: ";
    private RunningApp _sample = null!;

    [OneTimeSetUp]
    public async Task StartSample() => _sample = await RunningApp.StartAsync(SampleApp.Build(["--urls", "http://127.0.0.1:0"]));

    [OneTimeTearDown]
    public async Task StopSample() => await _sample.DisposeAsync();

    [Test]
    public async Task Root_ListsTheRoutes()
    {
        using var client = _sample.Raw();
        using var response = await client.GetAsync("/", cookieHeader: null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be(Routes.List);
        response.SetCookies().Should().BeEmpty();
    }

    [Test]
    public async Task Set_ThenGet_ReturnsTheName()
    {
        using var browser = _sample.Browser(out var cookies);

        (await browser.BodyAsync("/set")).Should().Be("All ok session setted to: iris");
        (await browser.BodyAsync("/get")).Should().Be("The name on the /set was: iris");
        cookies.Sid(_sample.BaseAddress).Should().MatchRegex("^[A-Za-z0-9_-]{43}$");
    }

    [Test]
    public async Task Set_WritesTheSessionCookieWithTheConfiguredAttributes()
    {
        using var client = _sample.Raw();
        var before = DateTimeOffset.UtcNow;
        using var response = await client.GetAsync("/set", cookieHeader: null);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var header = response.SetCookies().Should().ContainSingle().Subject;
        var attributes = header.Split(';', StringSplitOptions.TrimEntries);
        attributes[0].Should().MatchRegex("^sid=[A-Za-z0-9_-]{43}$");
        attributes.Skip(1).Select(a => a.Split('=')[0].ToLowerInvariant()).Should().BeEquivalentTo(["expires", "max-age", "path", "samesite", "httponly"]);
        attributes.Should().Contain(["max-age=7200", "path=/", "samesite=lax", "httponly"]);
        header.Should().NotContainEquivalentOf("domain=").And.NotContainEquivalentOf("secure");
        var expires = DateTimeOffset.ParseExact(attributes.Single(a => a.StartsWith("expires=", StringComparison.Ordinal))["expires=".Length..], "r", CultureInfo.InvariantCulture);
        expires.Should().BeCloseTo(before + TimeSpan.FromHours(2), TimeSpan.FromSeconds(5));
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
    }

    [Test]
    public async Task ReadOnlyRequests_DoNotSetTheCookie()
    {
        using var client = _sample.Raw();
        using var set = await client.GetAsync("/set", cookieHeader: null);
        var cookie = "sid=" + set.SetCookieValue();

        foreach (var path in new[] { "/get", "/all", "/get_immutable", "/flash/peek?key=none", "/" })
        {
            using var response = await client.GetAsync(path, cookie);
            response.SetCookies().Should().BeEmpty("{0} only reads", path);
            if (path == "/")
                response.Headers.CacheControl.Should().BeNull("/ starts no session");
            else
                response.Headers.CacheControl!.NoStore.Should().BeTrue("{0} read a session: no cache may keep it", path);
        }
        using (var write = await client.GetAsync("/counter", cookie))
            write.SetCookies().Should().BeEmpty("a write to an existing session does not need the cookie again");
        using var cookieless = await client.GetAsync("/get", cookieHeader: null);
        cookieless.SetCookies().Should().BeEmpty();
        (await cookieless.Content.ReadAsStringAsync()).Should().Be(NoName);
    }

    [Test]
    public async Task Delete_RemovesTheName()
    {
        using var browser = _sample.Browser(out _);
        (await browser.BodyAsync("/delete")).Should().Be("deleted: false");
        await browser.BodyAsync("/set");

        (await browser.BodyAsync("/delete")).Should().Be("deleted: true");
        (await browser.BodyAsync("/get")).Should().Be(NoName);
        (await browser.BodyAsync("/delete")).Should().Be("deleted: false");
    }

    [Test]
    public async Task Clear_RemovesEveryValue()
    {
        using var browser = _sample.Browser(out var cookies);
        await browser.BodyAsync("/set");
        await browser.BodyAsync("/counter");
        var sid = cookies.Sid(_sample.BaseAddress);

        (await browser.BodyAsync("/clear")).Should().Be("cleared");

        (await browser.BodyAsync("/get")).Should().Be(NoName);
        (await browser.BodyAsync("/all")).Should().Be("{}");
        cookies.Sid(_sample.BaseAddress).Should().Be(sid);
    }

    [Test]
    public async Task Update_ShiftsTheExpirationAndRewritesTheCookie()
    {
        using var client = _sample.Raw();
        using (var none = await client.GetAsync("/update", cookieHeader: null))
        {
            (await none.Content.ReadAsStringAsync()).Should().Be("updated: false");
            none.SetCookies().Should().BeEmpty();
        }
        using var set = await client.GetAsync("/set", cookieHeader: null);
        var sid = set.SetCookieValue();

        using var update = await client.GetAsync("/update", "sid=" + sid);

        (await update.Content.ReadAsStringAsync()).Should().Be("updated: true");
        update.SetCookieValue().Should().Be(sid);
        update.SetCookies().Single().Should().Contain("max-age=7200");
        update.Headers.CacheControl!.NoStore.Should().BeTrue();
        (await client.BodyAsync("/get", "sid=" + sid)).Should().Be("The name on the /set was: iris");
    }

    [Test]
    public async Task Destroy_ExpiresTheCookie_AndTheNextRequestIsAFreshSession()
    {
        using var browser = _sample.Browser(out var cookies);
        await browser.BodyAsync("/set");
        var sid = cookies.Sid(_sample.BaseAddress);

        using var destroy = await browser.GetAsync("/destroy", cookieHeader: null);

        (await destroy.Content.ReadAsStringAsync()).Should().Be("destroyed: true");
        var deletion = destroy.SetCookies().Should().ContainSingle().Subject;
        deletion.Should().StartWith("sid=;").And.Contain("expires=Thu, 01 Jan 1970 00:00:00 GMT").And.Contain("max-age=0")
            .And.Contain("path=/").And.Contain("samesite=lax").And.Contain("httponly");
        cookies.Sid(_sample.BaseAddress).Should().BeNull();
        (await browser.BodyAsync("/get")).Should().Be(NoName);
        (await browser.BodyAsync("/destroy")).Should().Be("destroyed: false");

        using var raw = _sample.Raw();
        (await raw.BodyAsync("/get", "sid=" + sid)).Should().Be(NoName);
        using var reuse = await raw.GetAsync("/set", "sid=" + sid);
        reuse.SetCookieValue().Should().NotBe(sid, "a destroyed ID is never brought back");
    }

    [Test]
    public async Task Immutable_RemainsEdward()
    {
        using var browser = _sample.Browser(out _);
        (await browser.BodyAsync("/get_immutable")).Should().Be("please navigate to the <a href='/set_immutable'>/set_immutable</a> first");

        (await browser.BodyAsync("/set_immutable")).Should().Be("[]businessModel[0].Name set to: Edward");
        (await browser.BodyAsync("/get_immutable")).Should().Be("[]businessModel[0].Name remains: Edward");
        (await browser.BodyAsync("/get_immutable")).Should().Be("[]businessModel[0].Name remains: Edward");
    }

    [Test]
    public async Task Flash_IsReadableInTheNextReadingRequest_ThenGone()
    {
        using var browser = _sample.Browser(out _);

        (await browser.BodyAsync("/flash/set?key=notice&value=saved")).Should().Be("flash set: notice=saved");
        (await browser.BodyAsync("/flash/peek?key=notice")).Should().Be("saved");
        (await browser.BodyAsync("/flash/peek?key=notice")).Should().Be("saved");
        (await browser.BodyAsync("/flash/get?key=notice")).Should().Be("saved");

        using var gone = await browser.GetAsync("/flash/get?key=notice", cookieHeader: null);
        gone.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await gone.Content.ReadAsStringAsync()).Should().Be("no flash: notice");
    }

    [Test]
    public async Task Flash_WithoutKey_IsABadRequest()
    {
        using var client = _sample.Raw();
        foreach (var path in new[] { "/flash/set?value=v", "/flash/get", "/flash/peek?key=" })
        {
            using var response = await client.GetAsync(path, cookieHeader: null);
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest, path);
            (await response.Content.ReadAsStringAsync()).Should().Be("missing query parameter 'key'");
        }
    }

    [Test]
    public async Task Counter_Increments()
    {
        using var browser = _sample.Browser(out _);

        (await browser.BodyAsync("/counter")).Should().Be("1");
        (await browser.BodyAsync("/counter")).Should().Be("2");
        (await browser.BodyAsync("/counter")).Should().Be("3");
    }

    [Test]
    public async Task Renew_ChangesTheCookie_AndTheOldValueNoLongerWorks()
    {
        using var browser = _sample.Browser(out var cookies);
        await browser.BodyAsync("/set");
        var before = cookies.Sid(_sample.BaseAddress);

        using var renew = await browser.GetAsync("/renew", cookieHeader: null);

        (await renew.Content.ReadAsStringAsync()).Should().Be("renewed: true");
        var after = renew.SetCookieValue();
        after.Should().NotBe(before).And.MatchRegex("^[A-Za-z0-9_-]{43}$");
        renew.Headers.CacheControl!.NoStore.Should().BeTrue();
        cookies.Sid(_sample.BaseAddress).Should().Be(after);
        (await browser.BodyAsync("/get")).Should().Be("The name on the /set was: iris");
        using var raw = _sample.Raw();
        (await raw.BodyAsync("/get", "sid=" + before)).Should().Be(NoName);
    }

    [Test]
    public async Task All_ReturnsTheValuesAsJson()
    {
        using var browser = _sample.Browser(out _);
        (await browser.BodyAsync("/all")).Should().Be("{}");
        await browser.BodyAsync("/set");
        await browser.BodyAsync("/counter");

        using var response = await browser.GetAsync("/all", cookieHeader: null);

        response.Content.Headers.ContentType!.MediaType.Should().Be("application/json");
        (await response.Content.ReadAsStringAsync()).Should().Be("""{"name":"iris","counter":1}""");
    }

    [Test]
    public async Task TwoBrowsers_HaveSeparateSessions()
    {
        using var first = _sample.Browser(out _);
        using var second = _sample.Browser(out _);

        await first.BodyAsync("/set");

        (await second.BodyAsync("/get")).Should().Be(NoName);
        (await first.BodyAsync("/get")).Should().Be("The name on the /set was: iris");
    }

    [TestCase("bogus")]
    [TestCase("redis-ish")]
    public void UnknownStore_IsRejectedWithAClearMessage(string store)
    {
        var act = () => SampleApp.Build(["--urls", "http://127.0.0.1:0", "--store", store]);

        act.Should().Throw<ArgumentException>().WithMessage($"Unknown --store '{store}': this sample supports *memory*");
    }

    [Test]
    public void UnknownStore_ExitsWithCode2AndThePlainMessage()
    {
        var entryPoint = typeof(SampleApp).Assembly.EntryPoint!;
        var error = new StringWriter();
        var previous = Console.Error;
        object? exitCode;
        Console.SetError(error);
        try
        {
            exitCode = entryPoint.Invoke(null, [new[] { "--urls", "http://127.0.0.1:0", "--store=nowhere" }]);
        }
        finally
        {
            Console.SetError(previous);
        }

        exitCode.Should().Be(2);
        error.ToString().Should().StartWith("Unknown --store 'nowhere': this sample supports");
    }
}
