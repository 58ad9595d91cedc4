using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>The cookie's Domain attribute, and the public suffix list behind it.</summary>
public class CookieDomainTests
{
    private const string SmallList = """
        // A small public suffix list for tests.
        com
        uk
        co.uk
        jp
        *.kawasaki.jp
        !city.kawasaki.jp
        // Unicode rules are converted to punycode.
        公司.cn
        cn
        github.io
        """;

    private static PublicSuffixList Suffixes() => PublicSuffixList.Parse(new StringReader(SmallList));

    private static SessionManager SharedDomainManager() =>
        NewManager(configure: c =>
        {
            c.DisableSubdomainPersistence = false;
            c.PublicSuffixes = Suffixes();
        });

    private static string? DomainFor(SessionManager manager, string? host) => LastCookie(EstablishedRequest(manager, host: host)).Domain;

    [TestCase("localhost")]
    [TestCase("localhost:8080")]
    [TestCase("127.0.0.1")]
    [TestCase("0.0.0.0")]
    [TestCase("192.168.1.1")]
    [TestCase("10.0.0.1:80")]
    [TestCase("[::1]:8080")]
    [TestCase("example")]
    [TestCase("10.0.1")]
    [TestCase("app.localhost")]
    [TestCase("")]
    [TestCase(null)]
    [TestCase("exa mple.com")]
    [TestCase("a..example.com")]
    [TestCase("bücher.example.com")]
    public void HostsWithoutARegistrableDomain_GiveNoDomainAttribute(string? host)
    {
        using var manager = SharedDomainManager();
        DomainFor(manager, host).Should().BeNull();
    }

    [TestCase("example.com")]
    [TestCase("www.example.com")]
    [TestCase("sub.example.com:8080")]
    [TestCase("a.b.example.com")]
    [TestCase("a.b.c.example.com")]
    [TestCase("WWW.Example.COM")]
    [TestCase("www.example.com.")]
    public void SubdomainPersistence_UsesTheRegistrableDomain_WithoutALeadingDot_OurForm(string host)
    {
        using var manager = SharedDomainManager();
        DomainFor(manager, host).Should().Be("example.com");
    }

    [Test]
    public void MultiLabelPublicSuffix_GivesTheRegistrableDomain_NeverCoUk_FixedDefect()
    {
        using var manager = SharedDomainManager();
        DomainFor(manager, "www.example.co.uk").Should().Be("example.co.uk");
        DomainFor(manager, "co.uk").Should().BeNull("a public suffix itself never gets a Domain cookie");
        DomainFor(manager, "github.io").Should().BeNull();
        DomainFor(manager, "me.github.io").Should().Be("me.github.io");
    }

    [Test]
    public void UnlistedTopLevelDomain_UsesTheImplicitStarRule()
    {
        using var manager = SharedDomainManager();
        DomainFor(manager, "x.y").Should().Be("x.y");
        DomainFor(manager, "a.x.y").Should().Be("x.y");
    }

    [Test]
    public void SubdomainPersistenceDisabledByDefault_NoDomainForAnyHost_UnlikeGoSessions()
    {
        new SessionConfig().DisableSubdomainPersistence.Should().BeTrue();
        using var manager = NewManager(configure: c => c.PublicSuffixes = Suffixes());

        foreach (var host in new[] { "example.com", "www.example.com", "sub.example.com:8080", "www.example.co.uk" })
            DomainFor(manager, host).Should().BeNull(host);
    }

    [Test]
    public void ExplicitCookieDomain_WinsOverTheRegistrableDomain()
    {
        using var manager = NewManager(configure: c =>
        {
            c.DisableSubdomainPersistence = false;
            c.CookieDomain = "shop.example.com";
            c.PublicSuffixes = Suffixes();
        });

        DomainFor(manager, "www.shop.example.com").Should().Be("shop.example.com");
    }

    [Test]
    public void DeletionCookie_CarriesTheSameDomainAsCreation()
    {
        using var manager = SharedDomainManager();
        var request = EstablishedRequest(manager, host: "www.example.com").NextRequest();

        manager.Destroy(request);

        request.Written.Should().ContainSingle().Which.Domain.Should().Be("example.com");
    }

    [Test]
    public void HostHeader_IsTheSourceOfTheDomain_NotTheRequestUrl_FixedDefect()
    {
        // go-sessions' net/http flavour read r.URL.Host, empty for origin-form requests; the carrier's Host is the Host header.
        using var manager = SharedDomainManager();
        var request = new TestCarrier(host: "sub.example.com");
        manager.Start(request).Set("k", 1);

        LastCookie(request).Domain.Should().Be("example.com");
    }

    [Test]
    public void PublicSuffixList_WildcardAndExceptionRules_FollowTheAlgorithm()
    {
        var list = Suffixes();

        list.GetRegistrableDomain("a.b.kawasaki.jp").Should().Be("a.b.kawasaki.jp", "*.kawasaki.jp makes b.kawasaki.jp a suffix");
        list.GetRegistrableDomain("b.kawasaki.jp").Should().BeNull();
        list.GetRegistrableDomain("www.city.kawasaki.jp").Should().Be("city.kawasaki.jp", "!city.kawasaki.jp is an exception");
        list.GetRegistrableDomain("city.kawasaki.jp").Should().Be("city.kawasaki.jp");
        list.GetRegistrableDomain("shop.example.xn--55qx5d.cn").Should().Be("example.xn--55qx5d.cn", "the Unicode rule is stored as punycode");
    }

    [Test]
    public void PublicSuffixList_IgnoresCommentsBlankLinesAndTrailingText()
    {
        var list = PublicSuffixList.Parse(new StringReader("// comment\n\n  com   trailing words\n"));

        list.Count.Should().Be(1);
        list.GetRegistrableDomain("a.b.com").Should().Be("b.com");
    }

    [TestCase("localhost")]
    [TestCase("127.0.0.1")]
    [TestCase("::1")]
    [TestCase("com")]
    [TestCase(".example.com")]
    [TestCase("")]
    public void PublicSuffixList_ReturnsNullForHostsWithoutARegistrableDomain(string host)
    {
        Suffixes().GetRegistrableDomain(host).Should().BeNull();
    }

    [Test]
    public void SystemPublicSuffixList_IsInstalledAndResolvesRealSuffixes()
    {
        // CI installs the Debian 'publicsuffix' package; a missing list must fail this test, not skip it.
        var list = PublicSuffixList.LoadSystemDefault();

        list.Should().NotBeNull($"the system public suffix list must exist at one of {string.Join(", ", PublicSuffixList.SystemPaths)} (apt-get install publicsuffix)");
        list!.Count.Should().BeGreaterThan(5000);
        list.GetRegistrableDomain("www.example.co.uk").Should().Be("example.co.uk");
        list.GetRegistrableDomain("a.b.example.com").Should().Be("example.com");
        list.GetRegistrableDomain("co.uk").Should().BeNull();

        // With no list configured, validation loads the system one for subdomain persistence.
        using var manager = NewManager(configure: c => c.DisableSubdomainPersistence = false);
        DomainFor(manager, "shop.example.co.uk").Should().Be("example.co.uk");
    }
}
