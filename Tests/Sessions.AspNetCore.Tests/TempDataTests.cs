using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.AspNetCore.Tests;

/// <summary>
/// MVC's session-based TempData (<c>AddSessionStateTempDataProvider()</c>) running unchanged on this library's sessions:
/// a real controller sets a message, redirects, and the next request reads it once, over real Kestrel and a client
/// that keeps cookies, on the memory database, a real redis-server and SQLite.
/// </summary>
[TestFixture("memory")]
[TestFixture("redis")]
[TestFixture("sqlite")]
[NonParallelizable]
public sealed class TempDataTests(string database)
{
    private BridgeDatabases _databases = null!;
    private RunningApp _app = null!;

    [OneTimeSetUp]
    public void StartDatabase() => _databases = new BridgeDatabases(database);

    [OneTimeTearDown]
    public void StopDatabase() => _databases.Dispose();

    [SetUp]
    public async Task StartApp() => _app = await BridgeApp.StartAsync(
        services =>
        {
            _databases.Register(services);
            services.AddSessions();
            services.AddControllersWithViews()
                .AddApplicationPart(typeof(TempDataTestController).Assembly)
                .AddSessionStateTempDataProvider();
        },
        app =>
        {
            app.UseSessionsAsSessionFeature();
            app.MapControllers();
        });

    [TearDown]
    public async Task StopApp() => await _app.DisposeAsync();

    [Test]
    public async Task AMessageSetBeforeARedirect_IsReadOnceAfterIt()
    {
        using var browser = _app.Browser(out var cookies);

        using var posted = await browser.PostAsync("/tempdata/save", new FormUrlEncodedContent([new("message", "saved!")]));
        posted.StatusCode.Should().Be(HttpStatusCode.Redirect);
        posted.Headers.Location!.OriginalString.Should().Be("/tempdata/show");
        posted.SetCookieValue().Should().NotBeEmpty("TempData lives in the session, which the redirect creates");
        cookies.Sid(_app.BaseAddress).Should().NotBeNull();

        (await browser.BodyAsync("/tempdata/show")).Should().Be("saved!");
        (await browser.BodyAsync("/tempdata/show")).Should().Be("(none)", "TempData is read once");
    }

    [Test]
    public async Task KeepAndPeek_KeepTheMessageForTheNextRequest()
    {
        using var browser = _app.Browser(out _);
        using (var posted = await browser.PostAsync("/tempdata/save", new FormUrlEncodedContent([new("message", "kept")])))
            posted.StatusCode.Should().Be(HttpStatusCode.Redirect);

        (await browser.BodyAsync("/tempdata/peek")).Should().Be("kept");
        (await browser.BodyAsync("/tempdata/show")).Should().Be("kept");
        (await browser.BodyAsync("/tempdata/show")).Should().Be("(none)");
    }

    [Test]
    public async Task TwoBrowsers_EachSeeOnlyTheirOwnMessage()
    {
        using var first = _app.Browser(out _);
        using var second = _app.Browser(out _);
        using (await first.PostAsync("/tempdata/save", new FormUrlEncodedContent([new("message", "first's")])))
        using (await second.PostAsync("/tempdata/save", new FormUrlEncodedContent([new("message", "second's")])))
        {
        }

        (await second.BodyAsync("/tempdata/show")).Should().Be("second's");
        (await first.BodyAsync("/tempdata/show")).Should().Be("first's");
    }
}

/// <summary>A controller that uses TempData as an MVC application does (post, redirect, get).</summary>
[Route("tempdata")]
public sealed class TempDataTestController : Controller
{
    /// <summary>Stores the message and redirects to <see cref="Show"/>.</summary>
    [HttpPost("save")]
    public IActionResult Save([FromForm] string message)
    {
        TempData["message"] = message;
        return RedirectToAction(nameof(Show));
    }

    /// <summary>Reads the message (once).</summary>
    [HttpGet("show")]
    public IActionResult Show() => Content(TempData["message"] as string ?? "(none)");

    /// <summary>Reads the message without consuming it.</summary>
    [HttpGet("peek")]
    public IActionResult Peek() => Content(TempData.Peek("message") as string ?? "(none)");
}
