using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>An invalid configuration throws at construction, naming the field.</summary>
public class ConfigValidationTests
{
    private static void ShouldReject(Action<SessionConfig> configure, string field)
    {
        var config = new SessionConfig { PublicSuffixes = PublicSuffixList.Parse(new StringReader("com")) };
        configure(config);

        var act = () => new SessionManager(config);

        act.Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == field)
            .WithMessage($"SessionConfig.{field}:*");
    }

    [TestCase("")]
    [TestCase("a;b")]
    [TestCase("a=b")]
    [TestCase("a b")]
    [TestCase("a\tb")]
    [TestCase("a\rb")]
    [TestCase("a\nb")]
    [TestCase("a\0b")]
    [TestCase("a,b")]
    [TestCase("a\"b")]
    [TestCase("sé")]
    [TestCase("a\u007fb")]
    public void InvalidCookieName_IsRejected(string name) => ShouldReject(c => c.Cookie = name, nameof(SessionConfig.Cookie));

    [Test]
    public void NullCookieName_IsRejected() => ShouldReject(c => c.Cookie = null!, nameof(SessionConfig.Cookie));

    [TestCase("")]
    [TestCase("app")]
    [TestCase("/a;b")]
    [TestCase("/a\r\nSet-Cookie: x=y")]
    [TestCase("/é")]
    public void InvalidCookiePath_IsRejected(string path) => ShouldReject(c => c.CookiePath = path, nameof(SessionConfig.CookiePath));

    [TestCase("")]
    [TestCase("example.com;")]
    [TestCase("exa mple.com")]
    [TestCase("example..com")]
    [TestCase("example.com.")]
    [TestCase(".")]
    public void InvalidCookieDomain_IsRejected(string domain) => ShouldReject(c => c.CookieDomain = domain, nameof(SessionConfig.CookieDomain));

    [Test]
    public void UndefinedEnumValues_AreRejected()
    {
        ShouldReject(c => c.SameSite = (CookieSameSite)42, nameof(SessionConfig.SameSite));
        ShouldReject(c => c.CookieSecure = (CookieSecureMode)42, nameof(SessionConfig.CookieSecure));
    }

    [Test]
    public void HostPrefix_RequiresSecureAlways_PathSlash_AndNoDomain()
    {
        ShouldReject(c => c.Cookie = "__Host-sid", nameof(SessionConfig.CookieSecure));
        ShouldReject(c =>
        {
            c.Cookie = "__Host-sid";
            c.CookieSecure = CookieSecureMode.Always;
            c.CookiePath = "/app";
        }, nameof(SessionConfig.CookiePath));
        ShouldReject(c =>
        {
            c.Cookie = "__Host-sid";
            c.CookieSecure = CookieSecureMode.Always;
            c.DisableSubdomainPersistence = false;
        }, nameof(SessionConfig.DisableSubdomainPersistence));
    }

    [Test]
    public void HostPrefix_WhenValid_IssuesASecureHostOnlyRootCookie()
    {
        using var manager = NewManager(configure: c =>
        {
            c.Cookie = "__Host-sid";
            c.CookieSecure = CookieSecureMode.Always;
        });
        var request = new TestCarrier(host: "www.example.com", isHttps: true);
        manager.Start(request).Set("k", 1);

        request.SetCookieHeaders.Single().Should().StartWith("__Host-sid=").And.Contain("; path=/; secure").And.NotContain("domain");
        manager.Start(request.NextRequest()).Get("k").Should().Be(1);
    }

    [Test]
    public void SecurePrefix_RequiresSecureAlways() => ShouldReject(c => c.Cookie = "__Secure-sid", nameof(SessionConfig.CookieSecure));

    // Browsers match the __Host- and __Secure- prefixes case-insensitively: __HOST-sid gets the same browser rules, so it
    // gets the same checks here, or a configuration could issue a cookie the browser refuses (or mislabel a weaker one).
    [TestCase("__HOST-sid")]
    [TestCase("__host-sid")]
    [TestCase("__HoSt-sid")]
    public void HostPrefixInAnyCase_RequiresSecureAlways_PathSlash_AndNoDomain(string name)
    {
        ShouldReject(c => c.Cookie = name, nameof(SessionConfig.CookieSecure));
        ShouldReject(c =>
        {
            c.Cookie = name;
            c.CookieSecure = CookieSecureMode.Always;
            c.CookiePath = "/app";
        }, nameof(SessionConfig.CookiePath));
        ShouldReject(c =>
        {
            c.Cookie = name;
            c.CookieSecure = CookieSecureMode.Always;
            c.DisableSubdomainPersistence = false;
        }, nameof(SessionConfig.DisableSubdomainPersistence));
    }

    [TestCase("__SECURE-sid")]
    [TestCase("__secure-sid")]
    [TestCase("__SeCuRe-sid")]
    public void SecurePrefixInAnyCase_RequiresSecureAlways(string name) => ShouldReject(c => c.Cookie = name, nameof(SessionConfig.CookieSecure));

    [TestCase("_Host-sid")]
    [TestCase("Host-sid")]
    [TestCase("x__Host-sid")]
    [TestCase("__Hostsid")]
    public void NamesThatOnlyResembleAPrefix_AreNotHeldToItsRules(string name)
    {
        using var manager = new SessionManager(new SessionConfig { Cookie = name, CookiePath = "/app" });
        manager.Should().NotBeNull();
    }

    [Test]
    public void SameSiteNone_RequiresSecureAlways()
    {
        ShouldReject(c => c.SameSite = CookieSameSite.None, nameof(SessionConfig.SameSite));

        using var manager = NewManager(configure: c =>
        {
            c.SameSite = CookieSameSite.None;
            c.CookieSecure = CookieSecureMode.Always;
        });
        EstablishedRequest(manager).SetCookieHeaders.Single().Should().Contain("; secure; samesite=none");
    }

    [TestCase(0L)]
    [TestCase(-1L)]
    public void NonPositiveIdleTimeout_IsRejected(long ticks) => ShouldReject(c => c.IdleTimeout = TimeSpan.FromTicks(ticks), nameof(SessionConfig.IdleTimeout));

    [Test]
    public void NonPositiveLimits_AreRejected()
    {
        ShouldReject(c => c.MaxKeys = 0, nameof(SessionConfig.MaxKeys));
        ShouldReject(c => c.MaxKeyLength = 0, nameof(SessionConfig.MaxKeyLength));
        ShouldReject(c => c.MaxPayloadBytes = -1, nameof(SessionConfig.MaxPayloadBytes));
        ShouldReject(c => c.MemoryMaxSessions = 0, nameof(SessionConfig.MemoryMaxSessions));
        ShouldReject(c => c.MaxCookieBytes = 127, nameof(SessionConfig.MaxCookieBytes));
    }

    [Test]
    public void NullTimeProvider_IsRejected() => ShouldReject(c => c.TimeProvider = null!, nameof(SessionConfig.TimeProvider));

    [Test]
    public void Defaults_MatchTheSpec()
    {
        var config = new SessionConfig();

        config.Cookie.Should().Be("sid");
        config.CookieSecure.Should().Be(CookieSecureMode.SameAsRequest);
        config.CookiePath.Should().Be("/");
        config.SameSite.Should().Be(CookieSameSite.Lax);
        config.HttpOnly.Should().BeTrue();
        config.DisableSubdomainPersistence.Should().BeTrue();
        config.AllowReclaim.Should().BeFalse();
        config.Encoder.Should().BeNull();
        config.Expires.Should().Be(TimeSpan.FromHours(2));
        config.IdleTimeout.Should().Be(TimeSpan.FromMinutes(30));
        config.MaxKeys.Should().Be(256);
        config.MaxPayloadBytes.Should().Be(64 * 1024);
        config.MaxCookieBytes.Should().Be(4096);
        config.TimeProvider.Should().BeSameAs(TimeProvider.System);
        using var manager = new SessionManager();
        manager.Database.Should().BeOfType<MemorySessionDatabase>();
    }

    [Test]
    public void TheManagerKeepsAFrozenCopy_ChangingTheConfigAfterwardsHasNoEffect()
    {
        var config = new SessionConfig { TimeProvider = NewClock() };
        using var manager = new SessionManager(config);

        config.Cookie = "changed";
        config.Expires = TimeSpan.FromSeconds(1);
        var request = EstablishedRequest(manager);

        LastCookie(request).Name.Should().Be("sid");
        LastCookie(request).MaxAgeSeconds.Should().Be(7200);
        manager.Config.Should().NotBeSameAs(config);
    }

    [Test]
    public void Validate_CanBeCalledDirectly_AndLoadsTheSystemSuffixListWhenNeeded()
    {
        var config = new SessionConfig { DisableSubdomainPersistence = false };

        config.Validate();

        config.PublicSuffixes.Should().NotBeNull("the system list is installed (publicsuffix package)");
    }

    [Test]
    public void ExplicitCookieDomain_NeedsNoSuffixList()
    {
        var config = new SessionConfig { DisableSubdomainPersistence = false, CookieDomain = "example.com" };

        config.Validate();

        config.PublicSuffixes.Should().BeNull();
    }
}
