using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>Many requests of one session at once, over real HTTP, on the memory database and on one that stores copies.</summary>
[TestFixture("memory")]
[TestFixture("copying")]
public sealed class HttpConcurrencyTests(string database)
{
    private RunningApp _app = null!;

    [SetUp]
    public async Task StartApp() => _app = await RunningApp.StartAsync(TestEndpoints.Map, services =>
    {
        if (database == "copying")
            services.AddSingleton<ISessionDatabase>(new CopyingMemoryDatabase(asynchronous: true));
    });

    [TearDown]
    public async Task StopApp() => await _app.DisposeAsync();

    [Test]
    public async Task ParallelRequestsOnOneSession_WritingDistinctKeys_LoseNothing()
    {
        const int requests = 64;
        using var client = _app.Raw();
        using var first = await client.GetAsync("/write?key=start", cookieHeader: null);
        var cookie = "sid=" + first.SetCookieValue();

        var responses = await Task.WhenAll(Enumerable.Range(0, requests).Select(async i =>
        {
            using var response = await client.GetAsync($"/write?key=k{i}", cookie);
            return (response.StatusCode, Cookies: response.SetCookies().Count);
        }));

        responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK && r.Cookies == 0);
        var keys = (await client.BodyAsync("/keys", cookie)).Split(',');
        keys.Should().HaveCount(requests + 1).And.Contain("start");
        keys.Should().Contain(Enumerable.Range(0, requests).Select(i => $"k{i}"));
    }

    [Test]
    public async Task ParallelIncrements_OnOneSession_AllSucceed()
    {
        const int requests = 32;
        using var client = _app.Raw();
        using var first = await client.GetAsync("/counter", cookieHeader: null);
        var cookie = "sid=" + first.SetCookieValue();

        var statuses = await Task.WhenAll(Enumerable.Range(0, requests).Select(async _ =>
        {
            using var response = await client.GetAsync("/counter", cookie);
            return response.StatusCode;
        }));

        statuses.Should().OnlyContain(s => s == HttpStatusCode.OK);
        var final = int.Parse(await client.BodyAsync("/counter", cookie), System.Globalization.CultureInfo.InvariantCulture);
        // Increments of concurrent requests are per request: the memory database counts every one; a database of copies
        // keeps the last committed value of the key (never less than one more than the first).
        if (database == "memory")
            final.Should().Be(requests + 2);
        else
            final.Should().BeInRange(3, requests + 2);
    }

    [Test]
    public async Task DestroyRacingOtherRequests_NeverFailsWithAServerError()
    {
        using var client = _app.Raw();
        string[] paths = ["/write?key=a", "/keys", "/counter", "/flash", "/renew", "/destroy", "/write?key=b", "/keys"];

        for (var round = 0; round < 8; round++)
        {
            using var first = await client.GetAsync("/write?key=start", cookieHeader: null);
            var sid = first.SetCookieValue();
            var cookie = "sid=" + sid;

            var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
            {
                using var response = await client.GetAsync(paths[i % paths.Length], cookie);
                return (Path: paths[i % paths.Length], response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));

            // A request whose session another request destroyed meanwhile is told so (409), never a server error.
            responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK || r.StatusCode == HttpStatusCode.Conflict, "round {0}: {1}", round,
                string.Join("; ", responses.Where(r => r.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Conflict)).Select(r => $"{r.Path} {r.StatusCode} {r.Body}")));
            responses.Should().Contain(r => r.Body == "destroyed" || r.Body == "renewed", "round {0}: the first /destroy or /renew ends the ID", round);
            (await client.BodyAsync("/keys", cookie)).Should().BeEmpty("round {0}: the destroyed (or renewed) ID is never adopted again", round);
        }
    }
}
