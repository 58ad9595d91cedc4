using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sessions.AspNetCore;
using Sessions.HttpListener;
using Sessions.Owin;
using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// What each adapter allocates per request on top of the core: the same <c>Start</c> of an existing session is measured
/// with <see cref="GC.GetAllocatedBytesForCurrentThread"/> through the adapter and through a prebuilt core carrier,
/// after warm-up. The numbers are printed; the bounds catch a regression (LINQ, closures, per-request delegates).
/// Starting a session also marks the response private (<c>Vary: Cookie</c>, <c>Cache-Control: no-store</c>): two response
/// headers, whose cost is the host's header store (nothing on Kestrel, two arrays in an OWIN dictionary, and on
/// HttpListener the <c>WebHeaderCollection</c> entries, including the collection itself when no header was set before).
/// </summary>
[NonParallelizable]
public sealed class AdapterAllocationTests
{
    private const int Rounds = 8;

    [Test]
    public void Owin_adapter_allocates_only_its_carrier_on_start()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid" });
        var id = EstablishSession(sessions);
        long adapter = 0, core = 0;
        for (var round = 0; round < Rounds; round++)
        {
            // The host's part, built before measuring: the environment, its header dictionaries, its callback list.
            var callbacks = new List<(Action<object>, object)>(4);
            var environment = new Dictionary<string, object>(16, StringComparer.Ordinal)
            {
                ["owin.RequestHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
                {
                    ["Cookie"] = ["sid=" + id],
                    ["Host"] = ["127.0.0.1"],
                },
                ["owin.ResponseHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
                ["owin.RequestScheme"] = "http",
                ["server.OnSendingHeaders"] = (Action<Action<object>, object>)((callback, state) => callbacks.Add((callback, state))),
            };
            var carrier = new TestCarrier("sid=" + id, "127.0.0.1");

            var before = GC.GetAllocatedBytesForCurrentThread();
            var viaAdapter = sessions.Start(environment);
            var middle = GC.GetAllocatedBytesForCurrentThread();
            var viaCore = sessions.Start(carrier);
            var after = GC.GetAllocatedBytesForCurrentThread();

            viaAdapter.GetString("name").Should().Be("iris");
            viaCore.GetString("name").Should().Be("iris");
            callbacks.Should().ContainSingle("the adapter registers one OnSendingHeaders callback");
            adapter = middle - before;
            core = after - middle;
        }
        TestContext.Out.WriteLine($"OWIN Start of an existing session: adapter path {adapter} B, core path {core} B, adapter adds {adapter - core} B");
        // 48 B carrier, 2 x 32 B one-value header arrays, and the response header dictionary's first buckets (the host's, paid by any header).
        (adapter - core).Should().BeLessThanOrEqualTo(256, "the carrier and the two private-response headers are all the adapter adds");
    }

    [Test]
    public async Task Owin_adapter_adds_only_the_body_wrapper_with_a_database_that_stores_copies()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = new CopyingMemoryDatabase() });
        var establish = new TestCarrier(null, "127.0.0.1");
        var first = await sessions.StartAsync(establish);
        first.Set("name", "iris");
        await first.CommitAsync();
        var id = establish.Written.Should().ContainSingle().Subject.Value;
        long adapter = 0, core = 0;
        for (var round = 0; round < Rounds; round++)
            (adapter, core) = MeasureCopying(sessions, id);
        TestContext.Out.WriteLine($"OWIN StartAsync of an existing session on a copying database: adapter path {adapter} B, core path {core} B, adapter adds {adapter - core} B");
        (adapter - core).Should().BeLessThanOrEqualTo(256, "the carrier, the body wrapper and the two private-response headers are all the adapter adds");
    }

    /// <summary>One StartAsync through the OWIN adapter and one through a core carrier; the database completes synchronously, so this stays on one thread.</summary>
    private static (long Adapter, long Core) MeasureCopying(SessionManager sessions, string id)
    {
        var callbacks = new List<(Action<object>, object)>(4);
        var environment = new Dictionary<string, object>(16, StringComparer.Ordinal)
        {
            ["owin.RequestHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
            {
                ["Cookie"] = ["sid=" + id],
                ["Host"] = ["127.0.0.1"],
            },
            ["owin.ResponseHeaders"] = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase),
            ["owin.ResponseBody"] = Stream.Null,
            ["owin.RequestScheme"] = "http",
            ["server.OnSendingHeaders"] = (Action<Action<object>, object>)((callback, state) => callbacks.Add((callback, state))),
        };
        var carrier = new TestCarrier("sid=" + id, "127.0.0.1");

        var before = GC.GetAllocatedBytesForCurrentThread();
        var viaAdapter = sessions.StartAsync(environment);
        var middle = GC.GetAllocatedBytesForCurrentThread();
        var viaCore = sessions.StartAsync(carrier);
        var after = GC.GetAllocatedBytesForCurrentThread();

        viaAdapter.IsCompletedSuccessfully.Should().BeTrue();
        viaCore.IsCompletedSuccessfully.Should().BeTrue();
        viaAdapter.Result.GetString("name").Should().Be("iris");
        viaCore.Result.GetString("name").Should().Be("iris");
        environment["owin.ResponseBody"].Should().NotBeSameAs(Stream.Null, "the body is wrapped so the commit precedes the headers");
        return (middle - before, after - middle);
    }

    [Test]
    public async Task HttpListener_adapter_allocates_only_its_carrier_on_start()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid" });
        var id = EstablishSession(sessions);
        var port = LoopbackPorts.Free();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        long adapter = 0, core = 0;
        for (var round = 0; round < Rounds; round++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/get");
            request.Headers.TryAddWithoutValidation("Cookie", "sid=" + id).Should().BeTrue();
            var sending = client.SendAsync(request);
            var context = await listener.GetContextAsync();
            var carrier = new TestCarrier("sid=" + id, "127.0.0.1");
            (adapter, core) = Measure(sessions, context, carrier);
            context.Response.Close();
            (await sending).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        TestContext.Out.WriteLine($"HttpListener Start of an existing session: adapter path {adapter} B, core path {core} B, adapter adds {adapter - core} B");
        // WebHeaderCollection.GetValues would add 368 B (it re-parses the values); Get returns the stored string. The two
        // private-response headers cost about 1.5 KB here, most of it the response's header collection, created by its first header.
        (adapter - core).Should().BeLessThanOrEqualTo(1600, "the carrier and the two private-response headers are all the adapter adds (the ConditionalWeakTable entry is a GC handle)");
    }

    [Test]
    public async Task AspNetCore_adapter_allocates_only_its_carrier_on_start()
    {
        using var sessions = new SessionManager(new SessionConfig { Cookie = "sid" });
        var id = EstablishSession(sessions);
        var port = LoopbackPorts.Free();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        await using var web = builder.Build();
        long adapter = 0, core = 0;
        web.Run((HttpContext context) =>
        {
            var carrier = new TestCarrier("sid=" + id, "127.0.0.1");
            var before = GC.GetAllocatedBytesForCurrentThread();
            var viaAdapter = sessions.Start(context);
            var middle = GC.GetAllocatedBytesForCurrentThread();
            var viaCore = sessions.Start(carrier);
            var after = GC.GetAllocatedBytesForCurrentThread();
            viaAdapter.GetString("name").Should().Be("iris");
            viaCore.GetString("name").Should().Be("iris");
            (adapter, core) = (middle - before, after - middle);
            return Task.CompletedTask;
        });
        await web.StartAsync();
        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        for (var round = 0; round < Rounds; round++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/get");
            request.Headers.TryAddWithoutValidation("Cookie", "sid=" + id).Should().BeTrue();
            using var response = await client.SendAsync(request);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            response.Headers.Vary.Should().Equal("Cookie");
            response.Headers.CacheControl!.NoStore.Should().BeTrue();
        }
        await web.StopAsync();
        TestContext.Out.WriteLine($"ASP.NET Core Start of an existing session: adapter path {adapter} B, core path {core} B, adapter adds {adapter - core} B");
        // Kestrel keeps Vary and Cache-Control in fields of its header collection: setting them from constants allocates nothing.
        (adapter - core).Should().BeLessThanOrEqualTo(128, "the carrier and its feature entry are all the adapter adds");
    }

    private static (long Adapter, long Core) Measure(SessionManager sessions, HttpListenerContext context, TestCarrier carrier)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var viaAdapter = sessions.Start(context);
        var middle = GC.GetAllocatedBytesForCurrentThread();
        var viaCore = sessions.Start(carrier);
        var after = GC.GetAllocatedBytesForCurrentThread();
        viaAdapter.GetString("name").Should().Be("iris");
        viaCore.GetString("name").Should().Be("iris");
        sessions.Start(context).Should().BeSameAs(viaAdapter, "the second Start of a request returns the same session");
        return (middle - before, after - middle);
    }

    private static string EstablishSession(SessionManager sessions)
    {
        var carrier = new TestCarrier(null, "127.0.0.1");
        sessions.Start(carrier).Set("name", "iris");
        return carrier.Written.Should().ContainSingle().Subject.Value;
    }
}
