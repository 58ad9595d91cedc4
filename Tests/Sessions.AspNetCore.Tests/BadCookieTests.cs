using System.Net;
using Sessions.Samples.AspNetCore;

namespace Sessions.AspNetCore.Tests;

/// <summary>Cookies a browser would not send, over real HTTP to the sample: each gives a fresh session and a 200, never an adoption.</summary>
[TestFixture]
public sealed class BadCookieTests
{
    private const string NoName = "The name on the /set was: ";
    private RunningApp _sample = null!;

    [OneTimeSetUp]
    public async Task StartSample() => _sample = await RunningApp.StartAsync(SampleApp.Build(["--urls", "http://127.0.0.1:0"]));

    [OneTimeTearDown]
    public async Task StopSample() => await _sample.DisposeAsync();

    private static IEnumerable<TestCaseData> BadCookies()
    {
        yield return new TestCaseData("sid=").SetArgDisplayNames("empty");
        yield return new TestCaseData("sid=not a valid id!").SetArgDisplayNames("malformed");
        yield return new TestCaseData("sid=short").SetArgDisplayNames("too short");
        yield return new TestCaseData("sid=" + new string('A', 6000)).SetArgDisplayNames("oversized");
        yield return new TestCaseData("sid=" + SessionIds.NewId()).SetArgDisplayNames("unknown");
        yield return new TestCaseData($"sid={SessionIds.NewId()}; sid={SessionIds.NewId()}; sid=%00%01").SetArgDisplayNames("duplicates, all unknown");
        yield return new TestCaseData("sid=\"" + SessionIds.NewId() + "\"").SetArgDisplayNames("quoted unknown");
        yield return new TestCaseData("sid=../../etc/passwd").SetArgDisplayNames("path");
        yield return new TestCaseData("=; ;;sid; sid==; other=1").SetArgDisplayNames("garbage pairs");
    }

    [TestCaseSource(nameof(BadCookies))]
    public async Task BadCookie_GivesAFreshSessionAnd200(string cookieHeader)
    {
        using var client = _sample.Raw();

        (await client.BodyAsync("/get", cookieHeader)).Should().Be(NoName);

        using var set = await client.GetAsync("/set", cookieHeader);
        set.StatusCode.Should().Be(HttpStatusCode.OK);
        var issued = set.SetCookieValue();
        issued.Should().MatchRegex("^[A-Za-z0-9_-]{43}$");
        cookieHeader.Should().NotContain(issued, "a presented value is never adopted");
        (await client.BodyAsync("/get", "sid=" + issued)).Should().Be("The name on the /set was: iris");
    }

    [Test]
    public async Task DuplicateNames_AdoptTheOneThatNamesALiveSession()
    {
        using var client = _sample.Raw();
        using var set = await client.GetAsync("/set", cookieHeader: null);
        var live = set.SetCookieValue();

        (await client.BodyAsync("/get", $"sid={SessionIds.NewId()}; sid={live}")).Should().Be("The name on the /set was: iris");
        (await client.BodyAsync("/get", $"sid=bad!; other=x; sid=\"{live}\"")).Should().Be("The name on the /set was: iris");
    }

    [Test]
    public async Task UnrelatedCookies_AreNeverTouched()
    {
        using var client = _sample.Raw();

        using var set = await client.GetAsync("/set", "theme=dark; lang=en");

        set.SetCookies().Should().ContainSingle().Which.Should().StartWith("sid=");
    }

    [Test]
    public async Task CookieHeaderOverKestrelsLimit_IsRejectedByKestrelNotTheApp()
    {
        using var client = _sample.Raw();

        using var response = await client.GetAsync("/get", "sid=" + new string('A', 40 * 1024));

        response.StatusCode.Should().Be(HttpStatusCode.RequestHeaderFieldsTooLarge);
    }
}
