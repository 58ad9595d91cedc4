using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.AspNetCore.Tests;

/// <summary>
/// <c>HttpContext.Session</c> served by this library (<c>UseSessionsAsSessionFeature()</c>): code written against ASP.NET
/// Core's <see cref="ISession"/> and its extension methods, over real HTTP with a cookie-keeping client, on the memory
/// database, a real redis-server and SQLite.
/// </summary>
[TestFixture("memory")]
[TestFixture("redis")]
[TestFixture("sqlite")]
[NonParallelizable]
public sealed class SessionFeatureTests(string database)
{
    private static readonly byte[] Binary = [0xFF, 0x00, 0x01, 0xFE];
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
        },
        app =>
        {
            app.UseSessionsAsSessionFeature();
            Map(app);
        });

    [TearDown]
    public async Task StopApp() => await _app.DisposeAsync();

    [Test]
    public async Task SetString_SetInt32_AndBytes_InOneRequest_ReadBackInTheNext()
    {
        using var browser = _app.Browser(out var cookies);
        using (var set = await browser.GetAsync("/set", cookieHeader: null))
        {
            set.StatusCode.Should().Be(HttpStatusCode.OK);
            set.SetCookieValue().Should().NotBeEmpty();
        }

        (await browser.BodyAsync("/get")).Should().Be("iris|42|FF0001FE|EFBFBF616263|True|name,count,bytes,marked");
        cookies.Sid(_app.BaseAddress).Should().NotBeNull();
    }

    [Test]
    public async Task TryGetValue_Remove_Clear_AndKeys()
    {
        using var browser = _app.Browser(out _);
        (await browser.BodyAsync("/set")).Should().Be("ok");

        (await browser.BodyAsync("/remove?key=count")).Should().Be("True");
        (await browser.BodyAsync("/get")).Should().Be("iris|(null)|FF0001FE|EFBFBF616263|True|name,bytes,marked");
        (await browser.BodyAsync("/remove?key=count")).Should().Be("False", "TryGetValue finds nothing once removed");
        (await browser.BodyAsync("/clear")).Should().Be("ok");
        (await browser.BodyAsync("/get")).Should().Be("(null)|(null)|(null)|(null)|True|");
    }

    [Test]
    public async Task Id_IsStableAcrossRequests_AndIsNotTheCookieValue()
    {
        using var browser = _app.Browser(out var cookies);
        (await browser.BodyAsync("/set")).Should().Be("ok");
        var sid = cookies.Sid(_app.BaseAddress)!;

        var id = await browser.BodyAsync("/id");
        id.Should().NotBeEmpty().And.NotBe(sid).And.NotContain(sid);
        (await browser.BodyAsync("/id")).Should().Be(id);
        id.Should().Be(SessionIds.HashText(sid));
    }

    [Test]
    public async Task LoadAsync_ThenCommitAsync_StoresTheSession_AndSendsItsCookie_BeforeTheBody()
    {
        using var browser = _app.Browser(out _);
        using (var response = await browser.GetAsync("/commit", cookieHeader: null))
        {
            (await response.Content.ReadAsStringAsync()).Should().Be("cookie sent: True");
            response.SetCookieValue().Should().NotBeEmpty();
        }

        (await browser.BodyAsync("/get?key=committed")).Should().StartWith("yes|");
    }

    [Test]
    public async Task ARequestThatOnlyReads_StoresNothing_AndSendsNoCookie()
    {
        using var browser = _app.Browser(out var cookies);
        using var response = await browser.GetAsync("/get", cookieHeader: null);
        (await response.Content.ReadAsStringAsync()).Should().Be("(null)|(null)|(null)|(null)|True|");
        response.SetCookies().Should().BeEmpty();
        cookies.Sid(_app.BaseAddress).Should().BeNull();
    }

    [Test]
    public async Task ValuesCrossTheBridge_BothWays()
    {
        using var browser = _app.Browser(out _);
        (await browser.BodyAsync("/native/set")).Should().Be("ok");
        // Native values read through HttpContext.Session as the UTF-8 of their text; GetInt32 reads only what SetInt32 wrote.
        (await browser.BodyAsync("/bridge/read-native")).Should().Be("7|true|edward|(null)");

        (await browser.BodyAsync("/set")).Should().Be("ok");
        // Text set through the bridge is a plain string natively; binary is marked (U+FFFF, then base64).
        (await browser.BodyAsync("/native/read-bridge")).Should().Be("iris|True|True");
    }

    [Test]
    public async Task AnyBytes_RoundTripExactly_ThroughTheDatabase()
    {
        // Text, binary, and the edge cases of the mapping: empty, NUL, a BOM, U+FFFF first, an encoded lone surrogate.
        var random = new Random(20261202);
        List<byte[]> cases = [[], [0], [0xEF, 0xBB, 0xBF, 0x41], [0xEF, 0xBF, 0xBF], [0xEF, 0xBF, 0xBF, 0x41], [0xED, 0xA0, 0x80], [0xC3, 0xA9], "\uFFFF"u8.ToArray()];
        for (var i = 0; i < 24; i++)
        {
            var bytes = new byte[random.Next(1, 64)];
            random.NextBytes(bytes);
            cases.Add(bytes);
        }
        using var browser = _app.Browser(out _);
        for (var i = 0; i < cases.Count; i++)
        {
            using var content = new ByteArrayContent(cases[i]);
            using (var stored = await browser.PostAsync($"/bytes?key=k{i}", content))
                stored.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        for (var i = 0; i < cases.Count; i++)
            (await browser.BodyAsync($"/bytes?key=k{i}")).Should().Be(Convert.ToHexString(cases[i]), "case {0} reads back as it was set", i);
    }

    private static void Map(WebApplication app)
    {
        app.MapPost("/bytes", async (HttpContext context, string key) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            context.Session.Set(key, body.ToArray());
            return "ok";
        });
        app.MapGet("/bytes", (HttpContext context, string key) => context.Session.TryGetValue(key, out var value) ? Convert.ToHexString(value) : "(missing)");
        app.MapGet("/set", (HttpContext context) =>
        {
            context.Session.SetString("name", "iris");
            context.Session.SetInt32("count", 42);
            context.Session.Set("bytes", Binary);
            context.Session.Set("marked", "\uFFFFabc"u8.ToArray()); // valid UTF-8 that starts like a marked value
            return "ok";
        });
        app.MapGet("/get", (HttpContext context, string? key) =>
        {
            var session = context.Session;
            if (key is not null)
                return (session.GetString(key) ?? "(null)") + "|";
            var bytes = session.TryGetValue("bytes", out var raw) ? Convert.ToHexString(raw) : "(null)";
            var marked = session.TryGetValue("marked", out var markedRaw) ? Convert.ToHexString(markedRaw) : "(null)";
            return $"{session.GetString("name") ?? "(null)"}|{session.GetInt32("count")?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(null)"}|{bytes}|{marked}|{session.IsAvailable}|{string.Join(",", session.Keys)}";
        });
        app.MapGet("/remove", (HttpContext context, string key) =>
        {
            var existed = context.Session.TryGetValue(key, out _);
            context.Session.Remove(key);
            return existed.ToString();
        });
        app.MapGet("/clear", (HttpContext context) =>
        {
            context.Session.Clear();
            return "ok";
        });
        app.MapGet("/id", (HttpContext context) => context.Session.Id);
        app.MapGet("/commit", async context =>
        {
            await context.Session.LoadAsync();
            context.Session.SetString("committed", "yes");
            await context.Session.CommitAsync();
            var sent = context.Response.Headers.SetCookie.Any(c => c!.StartsWith("sid=", StringComparison.Ordinal));
            await context.Response.WriteAsync("cookie sent: " + sent);
        });
        app.MapGet("/native/set", async (HttpContext context) =>
        {
            var session = await context.GetSessionAsync();
            session.Set("n", 7);
            session.Set("flag", true);
            session.Set("name", "edward");
            return "ok";
        });
        app.MapGet("/bridge/read-native", (HttpContext context) =>
            $"{context.Session.GetString("n")}|{context.Session.GetString("flag")}|{context.Session.GetString("name")}|{context.Session.GetInt32("n")?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(null)"}");
        app.MapGet("/native/read-bridge", async (HttpContext context) =>
        {
            var session = await context.GetSessionAsync();
            return $"{session.GetString("name")}|{session.GetString("bytes").StartsWith('\uFFFF')}|{session.GetString("marked").StartsWith('\uFFFF')}";
        });
    }
}
