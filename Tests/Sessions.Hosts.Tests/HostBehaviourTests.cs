using System.Net;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The behaviour every host's sample must show, over real HTTP: the whole route contract with exact
/// status codes, content types and bodies; the same Set-Cookie attributes; flashes, immutability, Destroy and RenewId;
/// and the same outcome for odd Cookie headers. Each test runs once per host and store (memory; Redis and the embedded
/// database, which store copies and so depend on each host's commit path); <see cref="CrossHostTranscriptTests"/>
/// additionally compares the hosts with each other. Every test starts with a fresh client (no cookie), so its sessions
/// are its own even on a store that outlives the fixture.
/// </summary>
[TestFixtureSource(typeof(SampleHost), nameof(SampleHost.HostsAndStores))]
[Parallelizable(ParallelScope.Self)]
public sealed class HostBehaviourTests(string hostName, string store)
{
    private const string SessionCookie = "sid=<id>; expires=<expires>; max-age=7200; path=/; samesite=lax; httponly";
    private const string DeletionCookie = "sid=; expires=<expires>; max-age=0; path=/; samesite=lax; httponly";

    private SampleHost _host = null!;

    [OneTimeSetUp]
    public async Task StartHost() => _host = await SampleHost.StartAsync(hostName, store);

    [OneTimeTearDown]
    public async Task StopHost() => await _host.DisposeAsync();

    private SampleClient NewClient() => new(_host.BaseAddress);

    [Test]
    public async Task Root_lists_the_routes_as_plain_text()
    {
        using var client = NewClient();
        var reply = await client.GetAsync("/");
        reply.Status.Should().Be(200);
        reply.ContentType.Should().Be("text/plain; charset=utf-8");
        reply.Body.Should().Be(Sessions.Samples.AspNetCore.Routes.List);
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task Unknown_path_is_404_with_an_empty_body()
    {
        using var client = NewClient();
        var reply = await client.GetAsync("/nope");
        reply.Status.Should().Be(404);
        reply.Body.Should().BeEmpty();
    }

    [Test]
    public async Task Routes_match_case_insensitively_with_an_optional_trailing_slash()
    {
        using var client = NewClient();
        (await client.GetAsync("/SET/")).Body.Should().Be("All ok session setted to: iris");
        (await client.GetAsync("/Get")).Body.Should().Be("The name on the /set was: iris");
    }

    [Test]
    public async Task Other_methods_on_a_route_are_405_allowing_GET()
    {
        using var client = NewClient();
        var reply = await client.SendAsync(HttpMethod.Post, "/set", null);
        reply.Status.Should().Be(405);
        reply.Body.Should().BeEmpty();
        reply.Allow.Should().Be("GET");
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task Reading_without_a_session_writes_no_cookie()
    {
        using var client = NewClient();
        var reply = await client.GetAsync("/get");
        reply.Should().BeEquivalentTo(new Reply(200, "text/plain; charset=utf-8", "The name on the /set was: ", [], "no-store", null, Vary: "Cookie", ContentTypeOptions: "nosniff"));
    }

    [Test]
    public async Task Stored_flash_text_cannot_be_sniffed_as_html()
    {
        using var client = NewClient();
        const string Script = "<script>alert(document.cookie)</script>";
        await client.GetAsync("/flash/set?key=x&value=" + Uri.EscapeDataString(Script));

        foreach (var reply in new[] { await client.GetAsync("/flash/peek?key=x"), await client.GetAsync("/flash/get?key=x"), await client.GetAsync("/flash/get?key=x") })
        {
            reply.ContentType.Should().Be("text/plain; charset=utf-8", "stored text is text, whatever it looks like");
            reply.ContentTypeOptions.Should().Be("nosniff");
        }
        (await client.GetAsync("/flash/peek?key=x")).Body.Should().Be("no flash: x");
        foreach (var path in new[] { "/", "/set", "/counter", "/flash/get", "/nope" })
            (await client.GetAsync(path)).ContentTypeOptions.Should().Be("nosniff", "{0} is not sniffed either", path);
    }

    [Test]
    public async Task Shared_cache_cannot_serve_one_users_session_page_to_another()
    {
        using var client = NewClient();
        await client.GetAsync("/set");

        // A read of an existing session sets no cookie, yet its page is that user's: no shared cache may keep it.
        foreach (var path in new[] { "/get", "/all", "/flash/peek?key=none" })
        {
            var reply = await client.GetAsync(path);
            reply.SetCookies.Should().BeEmpty("{0} only reads", path);
            reply.Vary.Should().Be("Cookie", "{0} depends on the request's cookie", path);
            reply.CacheControl.Should().Be("no-store", "{0} was built from a session", path);
        }

        var root = await client.GetAsync("/");
        root.Vary.Should().BeNull("a page that starts no session does not depend on the cookie");
        root.CacheControl.Should().BeNull();
    }

    [Test]
    public async Task Set_issues_one_RFC_6265_cookie_with_the_same_attributes_on_every_host_and_get_reads_it()
    {
        using var client = NewClient();
        var set = await client.GetAsync("/set");
        set.Status.Should().Be(200);
        set.ContentType.Should().Be("text/plain; charset=utf-8");
        set.Body.Should().Be("All ok session setted to: iris");
        set.SetCookies.Should().ContainSingle().Which.Should().Match(header => Reply.NormalizeSetCookie(header) == SessionCookie);
        set.CacheControl.Should().Be("no-store");

        var get = await client.GetAsync("/get");
        get.Body.Should().Be("The name on the /set was: iris");
        get.SetCookies.Should().BeEmpty("a read of an existing session changes no cookie");
    }

    [Test]
    public async Task Delete_reports_whether_the_key_existed()
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        (await client.GetAsync("/delete")).Body.Should().Be("deleted: true");
        (await client.GetAsync("/delete")).Body.Should().Be("deleted: false");
        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: ");
    }

    [Test]
    public async Task Counter_increments_per_request_and_all_returns_the_values_as_json()
    {
        using var client = NewClient();
        (await client.GetAsync("/counter")).Body.Should().Be("1");
        (await client.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        (await client.GetAsync("/counter")).Body.Should().Be("2");

        var all = await client.GetAsync("/all");
        all.Status.Should().Be(200);
        all.ContentType.Should().Be("application/json; charset=utf-8");
        all.Body.Should().Be("""{"counter":2,"name":"iris"}""");
    }

    [Test]
    public async Task Clear_removes_every_value()
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        await client.GetAsync("/counter");
        (await client.GetAsync("/clear")).Body.Should().Be("cleared");
        (await client.GetAsync("/all")).Body.Should().Be("{}");
    }

    [Test]
    public async Task Update_shifts_the_expiration_of_a_stored_session_only()
    {
        using var client = NewClient();
        var none = await client.GetAsync("/update");
        none.Body.Should().Be("updated: false");
        none.SetCookies.Should().BeEmpty();

        await client.GetAsync("/set");
        var id = client.Cookie;
        var updated = await client.GetAsync("/update");
        updated.Body.Should().Be("updated: true");
        updated.SetCookies.Should().ContainSingle().Which.Should().Match(header => Reply.NormalizeSetCookie(header) == SessionCookie);
        updated.CookieValue.Should().Be(id, "the deadline moves, the ID does not");
        updated.CacheControl.Should().Be("no-store");
    }

    [Test]
    public async Task Destroy_deletes_the_session_and_expires_the_cookie_for_good()
    {
        using var client = NewClient();
        var none = await client.GetAsync("/destroy");
        none.Body.Should().Be("destroyed: false");
        none.SetCookies.Should().BeEmpty();

        await client.GetAsync("/set");
        var id = client.Cookie!;
        var destroyed = await client.GetAsync("/destroy");
        destroyed.Body.Should().Be("destroyed: true");
        destroyed.SetCookies.Should().ContainSingle().Which.Should().Match(header => Reply.NormalizeSetCookie(header) == DeletionCookie);
        destroyed.CacheControl.Should().Be("no-store");
        client.Cookie.Should().BeNull();

        // A client that kept the old cookie finds nothing, and destroying again reports false but still expires the cookie.
        (await client.SendAsync(HttpMethod.Get, "/get", "sid=" + id)).Body.Should().Be("The name on the /set was: ");
        var again = await client.SendAsync(HttpMethod.Get, "/destroy", "sid=" + id);
        again.Body.Should().Be("destroyed: false");
        again.SetCookies.Should().ContainSingle().Which.Should().Match(header => Reply.NormalizeSetCookie(header) == DeletionCookie);
    }

    [Test]
    public async Task Renew_moves_the_data_to_a_new_id_and_the_old_id_is_dead()
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        var oldId = client.Cookie!;
        var renewed = await client.GetAsync("/renew");
        renewed.Body.Should().Be("renewed: true");
        renewed.SetCookies.Should().ContainSingle().Which.Should().Match(header => Reply.NormalizeSetCookie(header) == SessionCookie);
        client.Cookie.Should().NotBeNull().And.NotBe(oldId);

        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris");
        (await client.SendAsync(HttpMethod.Get, "/get", "sid=" + oldId)).Body.Should().Be("The name on the /set was: ");
    }

    [Test]
    public async Task Immutable_values_cannot_be_changed_through_what_get_returns()
    {
        using var client = NewClient();
        var missing = await client.GetAsync("/get_immutable");
        missing.Status.Should().Be(200);
        missing.ContentType.Should().Be("text/html; charset=utf-8");
        missing.Body.Should().Be("please navigate to the <a href='/set_immutable'>/set_immutable</a> first");

        (await client.GetAsync("/set_immutable")).Body.Should().Be("[]businessModel[0].Name set to: Edward");
        (await client.GetAsync("/get_immutable")).Body.Should().Be("[]businessModel[0].Name remains: Edward");
        (await client.GetAsync("/get_immutable")).Body.Should().Be("[]businessModel[0].Name remains: Edward");
        // Property names as declared on every store: Redis and the embedded database give the stored JSON back.
        (await client.GetAsync("/all")).Body.Should().Be("""{"businessEdit":[{"Name":"Edward"},{"Name":"value 2"}]}""");
    }

    [Test]
    public async Task Flash_is_readable_in_the_next_request_that_reads_it_and_gone_after()
    {
        using var client = NewClient();
        (await client.GetAsync("/flash/set?key=k&value=v")).Body.Should().Be("flash set: k=v");
        (await client.GetAsync("/flash/peek?key=k")).Body.Should().Be("v");
        (await client.GetAsync("/flash/peek?key=k")).Body.Should().Be("v", "peeking does not consume");
        (await client.GetAsync("/flash/get?key=k")).Body.Should().Be("v");

        var gone = await client.GetAsync("/flash/get?key=k");
        gone.Status.Should().Be(404);
        gone.Body.Should().Be("no flash: k");
        (await client.GetAsync("/all")).Body.Should().Be("{}", "flashes are not values");
    }

    [Test]
    public async Task Flash_routes_decode_the_query_and_require_a_key()
    {
        using var client = NewClient();
        (await client.GetAsync("/flash/set?key=a%20b&value=x+y%26z")).Body.Should().Be("flash set: a b=x y&z");
        (await client.GetAsync("/flash/get?key=a+b")).Body.Should().Be("x y&z");

        foreach (var path in new[] { "/flash/set?value=v", "/flash/get", "/flash/peek?key=" })
        {
            var reply = await client.GetAsync(path);
            reply.Status.Should().Be(400, path);
            reply.Body.Should().Be("missing query parameter 'key'", path);
        }
        var none = await client.GetAsync("/flash/peek?key=nothing");
        none.Status.Should().Be(404);
        none.Body.Should().Be("no flash: nothing");
    }

    [Test]
    public async Task Concurrent_requests_keep_their_own_sessions()
    {
        // Each request has its own carrier: twenty parallel first visits get twenty sessions, each counting 1.
        var replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var client = NewClient();
            return await client.GetAsync("/counter");
        }));
        replies.Should().OnlyContain(reply => reply.Body == "1" && reply.SetCookies.Count == 1);
        replies.Select(reply => reply.CookieValue).Should().OnlyHaveUniqueItems();

        using var shared = NewClient();
        await shared.GetAsync("/counter");
        var counts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => shared.SendAsync(HttpMethod.Get, "/counter", "sid=" + shared.Cookie)));
        var next = int.Parse((await shared.GetAsync("/counter")).Body, System.Globalization.CultureInfo.InvariantCulture);
        if (store == "memory")
        {
            // Parallel requests of one session all count: Increment is atomic on the live session.
            next.Should().Be(12);
        }
        else
        {
            // A store of copies: each request commits its own result and the last commit wins (Session.Increment's
            // contract), so the next request continues from one of the parallel results, never from a torn value.
            counts.Should().OnlyContain(reply => reply.Status == 200);
            counts.Select(reply => reply.Body).Should().Contain((next - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [TestCaseSource(typeof(OddCookieCases), nameof(OddCookieCases.Ascii))]
    public async Task Odd_cookie_header(string template, string expectedBody)
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        var reply = await client.SendAsync(HttpMethod.Get, "/get", OddCookieCases.Fill(template, client.Cookie!));
        reply.Status.Should().Be(200);
        reply.Body.Should().Be(expectedBody);
        reply.SetCookies.Should().BeEmpty("reading never writes a cookie, adopted or not");
    }

    [TestCaseSource(typeof(OddCookieCases), nameof(OddCookieCases.Raw))]
    public async Task Odd_cookie_header_bytes(string[] lines, string expectedBody)
    {
        using var client = NewClient();
        await client.GetAsync("/set");
        var reply = await client.SendRawAsync("/get", OddCookieCases.FillRaw(lines, client.Cookie!));
        reply.Status.Should().Be(200);
        reply.Body.Should().Be(expectedBody);
        reply.SetCookies.Should().BeEmpty();
    }

    [Test]
    public async Task A_cookie_that_is_not_adopted_is_replaced_by_a_fresh_id_on_write()
    {
        using var client = NewClient();
        const string Unknown = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        var reply = await client.SendAsync(HttpMethod.Get, "/set", "sid=" + Unknown);
        reply.Body.Should().Be("All ok session setted to: iris");
        reply.CookieValue.Should().NotBeNull().And.NotBe(Unknown, "an unknown ID is never adopted (fixation)");
        reply.Status.Should().Be((int)HttpStatusCode.OK);
    }

    [Test]
    public async Task Sessions_outlive_a_restart_of_the_host_only_on_a_persistent_store()
    {
        using var before = NewClient();
        await before.GetAsync("/counter");
        await before.GetAsync("/set");
        var id = before.Cookie!;

        _host = await _host.RestartAsync();
        using var after = NewClient();
        var get = await after.SendAsync(HttpMethod.Get, "/all", "sid=" + id);
        get.Status.Should().Be(200);
        get.Body.Should().Be(store == "memory" ? "{}" : """{"counter":1,"name":"iris"}""",
            "the memory store lives in the process, Redis and the embedded database do not");
        get.SetCookies.Should().BeEmpty();
    }
}
