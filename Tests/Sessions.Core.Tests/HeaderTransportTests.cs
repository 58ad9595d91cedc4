using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// <see cref="SessionTransport.Header"/>: the ID travels in <c>X-Session-Token</c> with the cookie's rules (lazy creation,
/// no adoption, renew and destroy answered in the header, no-store, bounded lookups), and no cookie is read or written.
/// </summary>
public class HeaderTransportTests
{
    private const string Header = SessionTransport.DefaultHeaderName;

    private static SessionManager NewHeaderManager(ISessionDatabase? database = null, Action<SessionConfig>? configure = null) =>
        NewManager(configure: c =>
        {
            c.Transport = SessionTransport.Header();
            c.Database = database;
            configure?.Invoke(c);
        });

    private static TestCarrier Request(string? token = null, string? cookie = null)
    {
        var request = new TestCarrier(cookie);
        if (token is not null)
            request.RequestHeaders[Header] = token;
        return request;
    }

    [Test]
    public void A_new_session_is_issued_in_the_header_only_once_written()
    {
        using var manager = NewHeaderManager();
        var request = Request();

        var session = manager.Start(request);
        request.WrittenHeaders.Should().BeEmpty("nothing exists until the first write");
        request.VaryOn.Should().Be(Header, "the response depends on the header, not on a cookie");
        session.Set("k", "v");

        request.ResponseHeader(Header).Should().Be(session.Id);
        request.ResponseHeader("Cache-Control").Should().Be("no-store", "the response carries a session ID");
        request.Written.Should().BeEmpty("header mode never writes a cookie");
    }

    [Test]
    public void The_header_finds_the_session_and_a_cookie_with_the_same_id_does_not()
    {
        using var manager = NewHeaderManager();
        var first = Request();
        var session = manager.Start(first);
        session.Set("k", "v");

        manager.Start(Request(session.Id)).GetString("k").Should().Be("v");
        manager.Start(Request(cookie: CookieHeader(session.Id))).Get("k").Should().BeNull("header mode never reads a cookie");
    }

    [Test]
    public void An_unknown_id_is_not_adopted()
    {
        using var manager = NewHeaderManager();
        var planted = new string('A', SessionIds.DefaultLength);
        var request = Request(planted);

        var session = manager.Start(request);
        session.Set("k", "v");

        session.Id.Should().NotBe(planted);
        request.ResponseHeader(Header).Should().Be(session.Id);
        manager.Counters.Unknown.Should().Be(1);
    }

    [Test]
    public void Renew_answers_the_new_id_and_destroy_an_empty_header()
    {
        using var manager = NewHeaderManager();
        var first = Request();
        manager.Start(first).Set("k", "v");
        var id = first.ResponseHeader(Header)!;

        var renew = Request(id);
        manager.RenewId(renew).Should().BeTrue();
        var renewed = renew.ResponseHeader(Header);
        renewed.Should().NotBe(id).And.Be(renew.Session!.Id);
        renew.ResponseHeader("Cache-Control").Should().Be("no-store");
        manager.Start(Request(id)).Get("k").Should().BeNull("the old ID is gone");

        var destroy = Request(renewed);
        manager.Destroy(destroy).Should().BeTrue();
        destroy.ResponseHeader(Header).Should().BeEmpty();
        destroy.Written.Should().BeEmpty();
        manager.Start(Request(renewed)).Get("k").Should().BeNull();
    }

    [Test]
    public void Destroy_without_any_session_value_writes_nothing()
    {
        using var manager = NewHeaderManager();
        var request = Request();
        manager.Destroy(request).Should().BeFalse();
        request.WrittenHeaders.Should().BeEmpty();
    }

    [Test]
    public void A_comma_list_is_read_like_duplicate_cookies_with_the_same_lookup_bound()
    {
        using var counting = new CountingDatabase(new MemorySessionDatabase(NewClock()));
        using var manager = NewHeaderManager(counting);
        var first = Request();
        manager.Start(first).Set("k", "v");
        var id = first.ResponseHeader(Header)!;

        var decoys = Enumerable.Range(0, SessionManager.MaxCookieLookups - 1).Select(i => new string((char)('B' + i), SessionIds.DefaultLength));
        manager.Start(Request(string.Join(", ", ["not an id", "", .. decoys, id]))).GetString("k").Should().Be("v", "the live ID is within the bound");

        var loads = counting.Loads;
        var flood = Enumerable.Range(0, SessionManager.MaxCookieLookups).Select(i => new string((char)('B' + i), SessionIds.DefaultLength));
        manager.Start(Request(string.Join(",", [.. flood, id]))).Get("k").Should().BeNull("values past the bound are not looked up");
        (counting.Loads - loads).Should().Be(SessionManager.MaxCookieLookups);
    }

    [Test]
    public async Task A_database_of_copies_sends_the_header_once_the_commit_stored_the_session()
    {
        using var manager = NewHeaderManager(new CopyingMemoryDatabase(asynchronous: true));
        var request = Request();
        var session = await manager.StartAsync(request);
        session.Set("k", "v");
        request.WrittenHeaders.Should().BeEmpty("the commit has not stored it yet");

        await session.CommitAsync();

        request.ResponseHeader(Header).Should().Be(session.Id);
        (await manager.StartAsync(Request(session.Id))).GetString("k").Should().Be("v");
    }

    [Test]
    public void The_encoder_transforms_the_header_value_under_the_header_name()
    {
        var encoder = new PrefixEncoder();
        using var manager = NewHeaderManager(configure: c => c.Encoder = encoder);
        var first = Request();
        var session = manager.Start(first);
        session.Set("k", "v");

        first.ResponseHeader(Header).Should().Be("p." + session.Id);
        manager.Start(Request("p." + session.Id)).GetString("k").Should().Be("v");
        manager.Start(Request(session.Id)).Get("k").Should().BeNull("a value the encoder did not make is not decoded");
        encoder.Names.Should().OnlyContain(name => name == Header);
    }

    [TestCase("Cookie")]
    [TestCase("set-cookie")]
    [TestCase("Vary")]
    [TestCase("X Session")]
    [TestCase("")]
    public void Header_names_that_cannot_carry_the_id_are_refused(string name) =>
        FluentActions.Invoking(() => SessionTransport.Header(name)).Should().Throw<ArgumentException>().WithMessage($"*'{name}'*");

    [Test]
    public void A_configuration_without_transport_is_refused() =>
        FluentActions.Invoking(() => new SessionManager(new SessionConfig { Transport = null! }))
            .Should().Throw<ArgumentException>().WithMessage("SessionConfig.Transport*");

    private sealed class PrefixEncoder : ISessionIdEncoder
    {
        public System.Collections.Concurrent.ConcurrentBag<string> Names { get; } = [];

        public string Encode(string cookieName, string sessionId)
        {
            Names.Add(cookieName);
            return "p." + sessionId;
        }

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            Names.Add(cookieName);
            sessionId = cookieValue.StartsWith("p.", StringComparison.Ordinal) ? cookieValue[2..] : string.Empty;
            return sessionId.Length > 0;
        }
    }
}
