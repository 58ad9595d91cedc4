using System.Text.RegularExpressions;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The samples with <c>--transport header</c>, on every host and store: the session ID travels only in
/// <c>X-Session-Token</c>, as an API client keeps it. The client sends no cookie and no response carries a
/// <c>Set-Cookie</c>; the route contract answers as in cookie mode, identically on every host.
/// </summary>
[TestFixtureSource(typeof(SampleHost), nameof(SampleHost.HostsAndStores))]
[Parallelizable(ParallelScope.Self)]
public sealed class HeaderTransportHostTests(string hostName, string store)
{
    private const string Header = "X-Session-Token";
    private static readonly Regex Id = new("^[A-Za-z0-9_-]{43}$", RegexOptions.CultureInvariant);
    private SampleHost _host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => _host = await SampleHost.StartAsync(hostName, store, "--transport", "header");

    [OneTimeTearDown]
    public async Task StopHost() => await _host.DisposeAsync();

    [Test]
    public async Task Route_contract_runs_on_the_header_alone_and_every_host_answers_alike()
    {
        using var client = new TokenClient(_host.BaseAddress);
        var transcript = new List<string>();
        foreach (var path in new[]
        {
            "/get", "/update", "/destroy", "/renew", "/set", "/get", "/counter", "/counter", "/all", "/update", "/delete",
            "/set_immutable", "/get_immutable", "/flash/set?key=k&value=v", "/flash/peek?key=k", "/flash/get?key=k",
            "/flash/get?key=k", "/renew", "/get", "/clear", "/all", "/destroy", "/get", "/destroy",
        })
        {
            var reply = await client.GetAsync(path);
            reply.SetCookies.Should().BeEmpty("{0} in header mode never sets a cookie", path);
            transcript.Add($"{path} -> {reply.Status} {reply.Body} | token: {Normalize(reply.Token)} | cache-control: {reply.CacheControl ?? "-"} | vary: {reply.Vary ?? "-"}");
        }

        transcript.Should().Equal(
            "/get -> 200 The name on the /set was:  | token: - | cache-control: no-store | vary: X-Session-Token",
            "/update -> 200 updated: false | token: - | cache-control: no-store | vary: X-Session-Token",
            "/destroy -> 200 destroyed: false | token: - | cache-control: no-store | vary: X-Session-Token",
            "/renew -> 200 renewed: true | token: - | cache-control: no-store | vary: X-Session-Token",
            "/set -> 200 All ok session setted to: iris | token: <id> | cache-control: no-store | vary: X-Session-Token",
            "/get -> 200 The name on the /set was: iris | token: - | cache-control: no-store | vary: X-Session-Token",
            "/counter -> 200 1 | token: - | cache-control: no-store | vary: X-Session-Token",
            "/counter -> 200 2 | token: - | cache-control: no-store | vary: X-Session-Token",
            "/all -> 200 {\"name\":\"iris\",\"counter\":2} | token: - | cache-control: no-store | vary: X-Session-Token",
            "/update -> 200 updated: true | token: <id> | cache-control: no-store | vary: X-Session-Token",
            "/delete -> 200 deleted: true | token: - | cache-control: no-store | vary: X-Session-Token",
            "/set_immutable -> 200 []businessModel[0].Name set to: Edward | token: - | cache-control: no-store | vary: X-Session-Token",
            "/get_immutable -> 200 []businessModel[0].Name remains: Edward | token: - | cache-control: no-store | vary: X-Session-Token",
            "/flash/set?key=k&value=v -> 200 flash set: k=v | token: - | cache-control: no-store | vary: X-Session-Token",
            "/flash/peek?key=k -> 200 v | token: - | cache-control: no-store | vary: X-Session-Token",
            "/flash/get?key=k -> 200 v | token: - | cache-control: no-store | vary: X-Session-Token",
            "/flash/get?key=k -> 404 no flash: k | token: - | cache-control: no-store | vary: X-Session-Token",
            "/renew -> 200 renewed: true | token: <id> | cache-control: no-store | vary: X-Session-Token",
            "/get -> 200 The name on the /set was:  | token: - | cache-control: no-store | vary: X-Session-Token",
            "/clear -> 200 cleared | token: - | cache-control: no-store | vary: X-Session-Token",
            "/all -> 200 {} | token: - | cache-control: no-store | vary: X-Session-Token",
            "/destroy -> 200 destroyed: true | token: <empty> | cache-control: no-store | vary: X-Session-Token",
            "/get -> 200 The name on the /set was:  | token: - | cache-control: no-store | vary: X-Session-Token",
            "/destroy -> 200 destroyed: false | token: - | cache-control: no-store | vary: X-Session-Token");
    }

    [Test]
    public async Task Renew_answers_a_new_id_in_the_header_and_the_old_one_finds_nothing()
    {
        using var client = new TokenClient(_host.BaseAddress);
        await client.GetAsync("/set");
        var old = client.Token!;

        var renewed = await client.GetAsync("/renew");
        renewed.Body.Should().Be("renewed: true");
        renewed.Token.Should().MatchRegex(Id.ToString()).And.NotBe(old);
        renewed.CacheControl.Should().Be("no-store", "the response carries a session ID");
        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris", "the data moved to the new ID");

        var stale = await client.SendAsync("/get", old);
        stale.Body.Should().Be("The name on the /set was: ");
        stale.Token.Should().BeNull("reading with an unknown ID issues nothing");
    }

    [Test]
    public async Task Destroy_answers_an_empty_header_and_the_id_is_dead()
    {
        using var client = new TokenClient(_host.BaseAddress);
        await client.GetAsync("/set");
        var id = client.Token!;

        var destroyed = await client.SendAsync("/destroy", id);
        destroyed.Body.Should().Be("destroyed: true");
        destroyed.Token.Should().BeEmpty("a destroyed session is answered with an empty header");
        destroyed.SetCookies.Should().BeEmpty();

        (await client.SendAsync("/get", id)).Body.Should().Be("The name on the /set was: ");
        (await client.SendAsync("/destroy", id)).Body.Should().Be("destroyed: false");
    }

    [Test]
    public async Task An_unknown_id_is_never_adopted()
    {
        using var client = new TokenClient(_host.BaseAddress);
        var planted = new string('A', 43);
        var reply = await client.SendAsync("/set", planted);
        reply.Body.Should().Be("All ok session setted to: iris");
        reply.Token.Should().MatchRegex(Id.ToString()).And.NotBe(planted, "a fixated ID must not become a session");
        reply.CacheControl.Should().Be("no-store");
        (await client.SendAsync("/get", planted)).Body.Should().Be("The name on the /set was: ");
    }

    [Test]
    public async Task A_cookie_is_neither_read_nor_written_in_header_mode()
    {
        using var cookieClient = new SampleClient(_host.BaseAddress);
        using var client = new TokenClient(_host.BaseAddress);
        await client.GetAsync("/set");

        // The valid ID sent as a cookie names nothing in header mode.
        var reply = await cookieClient.SendAsync(HttpMethod.Get, "/get", "sid=" + client.Token);
        reply.Body.Should().Be("The name on the /set was: ");
        reply.SetCookies.Should().BeEmpty();
        reply.Vary.Should().Be(Header);
    }

    [Test]
    public async Task Several_values_are_tried_like_duplicate_cookies()
    {
        using var client = new TokenClient(_host.BaseAddress);
        await client.GetAsync("/set");
        var id = client.Token!;

        // Decoys (malformed, unknown) before the real ID, as one comma list: the live one is found, nothing is issued.
        var reply = await client.SendAsync("/get", "not-an-id, " + new string('B', 43) + ", " + id);
        reply.Body.Should().Be("The name on the /set was: iris");
        reply.Token.Should().BeNull();
    }

    private static string Normalize(string? token) => token is null ? "-" : token.Length == 0 ? "<empty>" : Id.IsMatch(token) ? "<id>" : token;

    /// <summary>What one response carries: the Reply fields plus the session header (<see langword="null"/> when absent).</summary>
    private sealed record TokenReply(int Status, string Body, string? Token, IReadOnlyList<string> SetCookies, string? CacheControl, string? Vary);

    /// <summary>An API client: keeps the token from X-Session-Token replies (an empty one clears it) and sends it back; never a cookie.</summary>
    private sealed class TokenClient(Uri baseAddress) : IDisposable
    {
        private readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = baseAddress };

        public string? Token { get; private set; }

        public async Task<TokenReply> GetAsync(string path)
        {
            var reply = await SendAsync(path, Token);
            if (reply.Token is { } token)
                Token = token.Length == 0 ? null : token;
            return reply;
        }

        public async Task<TokenReply> SendAsync(string path, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
                request.Headers.TryAddWithoutValidation(Header, token).Should().BeTrue();
            using var response = await _http.SendAsync(request);
            return new TokenReply(
                (int)response.StatusCode,
                await response.Content.ReadAsStringAsync(),
                response.Headers.TryGetValues(Header, out var tokens) ? string.Join(", ", tokens) : null,
                response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.ToList() : [],
                response.Headers.TryGetValues("Cache-Control", out var cache) ? string.Join(", ", cache) : null,
                response.Headers.TryGetValues("Vary", out var vary) ? string.Join(", ", vary) : null);
        }

        public void Dispose() => _http.Dispose();
    }
}

/// <summary>The samples' <c>--transport</c> option refuses what it does not know, as <c>--store</c> does.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SampleTransportOptionTests
{
    [TestCase("AspNetCore")]
    [TestCase("HttpListener")]
    [TestCase("Owin")]
    public async Task An_unknown_transport_exits_with_code_2_naming_it(string name)
    {
        var (exitCode, output) = await SampleProcess.RunToExitAsync(name, "--transport", "carrier-pigeon");

        exitCode.Should().Be(2, output);
        output.Should().Contain("Unknown --transport 'carrier-pigeon'").And.Contain("cookie, header");
    }
}
