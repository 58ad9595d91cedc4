using System.Globalization;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>How and when the session cookie is issued.</summary>
public class CookieIssuingTests
{
    [Test]
    public void DefaultCookieName_IsSid_NotGosessionid_OurDefault()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager);

        LastCookie(request).Name.Should().Be("sid");
        new SessionConfig().Cookie.Should().Be(SessionConfig.DefaultCookieName).And.Be("sid");
    }

    [Test]
    public void CookielessStart_IsLazy_NoSetCookieAndNoServerStateUntilFirstWrite_OurBehaviour()
    {
        using var manager = NewManager();
        var request = new TestCarrier();

        var session = manager.Start(request);
        _ = session.Get("anything");
        _ = session.Id;

        request.Written.Should().BeEmpty();
        request.NoStore.Should().BeFalse();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void FirstWrite_EmitsExactlyOneSetCookie_WithTheIdPathHttpOnlyAndSameSiteLax()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        var session = manager.Start(request);

        session.Set("a", 1);
        session.Set("b", 2);
        session.Increment("c");

        request.Written.Should().ContainSingle();
        var cookie = request.Written[0];
        cookie.Value.Should().Be(session.Id);
        cookie.Path.Should().Be("/");
        cookie.HttpOnly.Should().BeTrue();
        cookie.SameSite.Should().Be(CookieSameSite.Lax);
        cookie.Domain.Should().BeNull();
        cookie.Secure.Should().BeFalse();
        request.SetCookieHeaders.Single().Should().Contain("; path=/").And.Contain("; samesite=lax").And.EndWith("; httponly");
        request.NoStore.Should().BeTrue("a response that sets the session cookie must not be cached");
        StoredSessions(manager).Should().Be(1);
    }

    [Test]
    public void NewSessionId_Is43CharacterBase64Url_NotAUuid_OurFormat()
    {
        using var manager = NewManager();
        var id = manager.Start(new TestCarrier()).Id;

        id.Should().HaveLength(43).And.MatchRegex("^[A-Za-z0-9_-]{43}$");
        Guid.TryParse(id, out _).Should().BeFalse();
    }

    [Test]
    public void PositiveExpires_CookieExpiresAndMaxAgeAreExact_NotOneSecondShort_FixedDefect()
    {
        var clock = NewClock();
        using var manager = NewManager(clock, c => c.Expires = TimeSpan.FromHours(1));
        var request = EstablishedRequest(manager);

        var cookie = LastCookie(request);
        cookie.MaxAgeSeconds.Should().Be(3600);
        cookie.Expires.Should().Be(Epoch.AddHours(1));
        request.SetCookieHeaders.Single().Should().Contain("; expires=Tue, 01 Jan 2030 13:00:00 GMT; max-age=3600");
    }

    [Test]
    public void ExpiresZero_GivesA400DayPersistentCookie_OurBehaviour()
    {
        using var manager = NewManager(configure: c => c.Expires = TimeSpan.Zero);
        var cookie = LastCookie(EstablishedRequest(manager));

        cookie.MaxAgeSeconds.Should().Be(400L * 24 * 3600);
        cookie.Expires.Should().Be(Epoch + SessionConfig.PersistentCookieLifetime);
        SessionConfig.PersistentCookieLifetime.Should().Be(TimeSpan.FromDays(400));
    }

    [TestCase(-1L)]
    [TestCase(-5 * TimeSpan.TicksPerSecond)]
    [TestCase(-TimeSpan.TicksPerDay)]
    public void NegativeExpires_GivesABrowserSessionCookie_WithNeitherExpiresNorMaxAge(long ticks)
    {
        using var manager = NewManager(configure: c => c.Expires = TimeSpan.FromTicks(ticks));
        var request = EstablishedRequest(manager);

        var cookie = LastCookie(request);
        cookie.Expires.Should().BeNull();
        cookie.MaxAgeSeconds.Should().BeNull();
        request.SetCookieHeaders.Single().Should().NotContain("expires=").And.NotContain("max-age=");
        manager.Start(request.NextRequest()).ExpiresAt.Should().BeNull("a negative Expires sets no absolute deadline");
    }

    [Test]
    public void SubSecondExpires_RoundsMaxAgeUpToOneSecond_OurBehaviour()
    {
        using var manager = NewManager(configure: c => c.Expires = TimeSpan.FromMilliseconds(400));
        var cookie = LastCookie(EstablishedRequest(manager));

        cookie.MaxAgeSeconds.Should().Be(1);
        cookie.Expires.Should().NotBeNull();
    }

    [Test]
    public void Secure_IsSetForHttpsRequests_AndAbsentOverPlainHttp_ByDefault()
    {
        using var manager = NewManager();

        var https = new TestCarrier(isHttps: true);
        manager.Start(https).Set("k", 1);
        var http = new TestCarrier(isHttps: false);
        manager.Start(http).Set("k", 1);

        LastCookie(https).Secure.Should().BeTrue();
        https.SetCookieHeaders.Single().Should().Contain("; secure");
        LastCookie(http).Secure.Should().BeFalse();
        http.SetCookieHeaders.Single().Should().NotContain("secure");
    }

    [Test]
    public void CookieSecureAlways_MarksTheCookieSecureEvenOverPlainHttp_OurOption()
    {
        using var manager = NewManager(configure: c => c.CookieSecure = CookieSecureMode.Always);
        LastCookie(EstablishedRequest(manager)).Secure.Should().BeTrue();
    }

    [TestCase(CookieSameSite.Lax, "; samesite=lax")]
    [TestCase(CookieSameSite.Strict, "; samesite=strict")]
    public void SameSite_IsEmitted_LaxByDefault_UnlikeGoSessions(CookieSameSite sameSite, string expected)
    {
        using var manager = NewManager(configure: c => c.SameSite = sameSite);
        EstablishedRequest(manager).SetCookieHeaders.Single().Should().Contain(expected);
    }

    [Test]
    public void SameSiteUnspecified_EmitsNoSameSiteAttribute()
    {
        using var manager = NewManager(configure: c => c.SameSite = CookieSameSite.Unspecified);
        EstablishedRequest(manager).SetCookieHeaders.Single().Should().NotContain("samesite");
    }

    [Test]
    public void CustomPathNameAndHttpOnlyFalse_AreWrittenAsConfigured()
    {
        using var manager = NewManager(configure: c =>
        {
            c.Cookie = "app_session";
            c.CookiePath = "/app";
            c.HttpOnly = false;
        });
        var request = new TestCarrier();
        manager.Start(request).Set("k", 1);

        var cookie = LastCookie(request);
        cookie.Name.Should().Be("app_session");
        cookie.Path.Should().Be("/app");
        cookie.HttpOnly.Should().BeFalse();
        manager.Start(request.NextRequest()).Get("k").Should().Be(1);
    }

    [Test]
    public void KnownCookie_ReturnsTheSameSessionData_WithNoSetCookie()
    {
        using var manager = NewManager();
        var first = EstablishedRequest(manager, "name", "iris");
        var id = manager.Start(first).Id;

        var second = first.NextRequest();
        var session = manager.Start(second);

        session.Id.Should().Be(id);
        session.Get("name").Should().Be("iris");
        session.IsNew.Should().BeFalse();
        second.Written.Should().BeEmpty("reading a live session re-sends no cookie");
    }

    [Test]
    public void UnknownCookieId_IsNotAdopted_AndGetsAFreshSession_FixedDefect()
    {
        using var manager = NewManager();
        var planted = SessionIds.NewId();
        var request = new TestCarrier(CookieHeader(planted));

        var session = manager.Start(request);

        session.Id.Should().NotBe(planted);
        session.IsNew.Should().BeTrue();
        session.Count.Should().Be(0);
        session.Set("k", 1);
        LastCookie(request).Value.Should().Be(session.Id).And.NotBe(planted);
        manager.Database.LoadAsync(planted, default).Result.Should().BeNull("the planted ID must never be stored");
    }

    [Test]
    public void StartTwiceInOneRequest_ReturnsTheSameObject_AndOneSetCookie_OurBehaviour()
    {
        using var manager = NewManager();
        var request = new TestCarrier();

        var first = manager.Start(request);
        first.Set("a", 1);
        var second = manager.Start(request);
        second.Set("b", 2);

        second.Should().BeSameAs(first);
        request.Written.Should().ContainSingle();
    }

    [Test]
    public async Task StartAsync_ReturnsTheSameObjectAsStart_InOneRequest()
    {
        using var manager = NewManager();
        var request = new TestCarrier();

        var first = await manager.StartAsync(request);
        var second = manager.Start(request);

        second.Should().BeSameAs(first);
    }

    [Test]
    public void AllowReclaim_StartAfterDestroy_IssuesANewSession_WritesDeletionThenNewCookie_AndLeavesUnrelatedCookiesAlone()
    {
        using var manager = NewManager(configure: c => c.AllowReclaim = true);
        var first = EstablishedRequest(manager);
        var oldId = manager.Start(first).Id;
        var header = $"theme=dark; {CookieHeader(oldId)}; lang=en";
        var request = new TestCarrier(header);

        manager.Destroy(request);
        var reclaimed = manager.Start(request);
        reclaimed.Set("after", true);

        reclaimed.Id.Should().NotBe(oldId);
        reclaimed.IsDestroyed.Should().BeFalse();
        request.Written.Should().HaveCount(2);
        request.Written[0].IsDeletion.Should().BeTrue();
        request.Written[1].Value.Should().Be(reclaimed.Id);
        request.CookieHeader.Should().Be(header, "unrelated request cookies are never touched");
        manager.Start(request).Should().BeSameAs(reclaimed, "the request now sees the new session");
        manager.Start(request.NextRequest()).Get("after").Should().Be(true);
    }

    [Test]
    public void WithoutAllowReclaim_StartAfterDestroy_ReturnsTheDestroyedSession_AndOnlyTheDeletionCookieIsWritten()
    {
        using var manager = NewManager();
        var request = EstablishedRequest(manager).NextRequest();

        manager.Destroy(request);
        var session = manager.Start(request);

        session.IsDestroyed.Should().BeTrue();
        session.Count.Should().Be(0);
        request.Written.Should().ContainSingle().Which.IsDeletion.Should().BeTrue();
    }

    [TestCase("__HOST-sid")]
    [TestCase("__host-sid")]
    public void HostPrefixInAnotherCase_IssuesASecureHostOnlyRootCookie_AsBrowsersRequire(string name)
    {
        using var manager = NewManager(configure: c =>
        {
            c.Cookie = name;
            c.CookieSecure = CookieSecureMode.Always;
        });
        var request = new TestCarrier(host: "www.example.com", isHttps: true);
        manager.Start(request).Set("k", 1);

        var cookie = LastCookie(request);
        cookie.Name.Should().Be(name);
        cookie.Secure.Should().BeTrue();
        cookie.Path.Should().Be("/");
        cookie.Domain.Should().BeNull();
        manager.Start(request.NextRequest()).Get("k").Should().Be(1);
    }

    [TestCase("__SECURE-sid")]
    [TestCase("__secure-sid")]
    public void SecurePrefixInAnotherCase_IssuesASecureCookie_EvenOverPlainHttp(string name)
    {
        using var manager = NewManager(configure: c =>
        {
            c.Cookie = name;
            c.CookieSecure = CookieSecureMode.Always;
        });
        var request = new TestCarrier(host: "www.example.com");
        manager.Start(request).Set("k", 1);

        LastCookie(request).Secure.Should().BeTrue();
    }

    [Test]
    public void ExpiresAttribute_IsFormattedAsImfFixdate()
    {
        using var manager = NewManager();
        var header = EstablishedRequest(manager).SetCookieHeaders.Single();
        var expires = header.Split("; ").Single(p => p.StartsWith("expires=", StringComparison.Ordinal))["expires=".Length..];

        DateTime.ParseExact(expires, "r", CultureInfo.InvariantCulture).Should().Be(Epoch.AddHours(2).UtcDateTime);
    }

    [Test]
    public void FirstWriteAfterTheResponseStarted_Throws_AndLeavesNoServerSession()
    {
        using var manager = NewManager();
        var request = new TestCarrier { ResponseStarted = true };
        var session = manager.Start(request);

        session.Invoking(s => s.Set("k", 1)).Should().Throw<InvalidOperationException>().WithMessage("*started*");

        StoredSessions(manager).Should().Be(0, "a stored session whose cookie never left would be unreachable");
        session.IsNew.Should().BeTrue();
        session.Count.Should().Be(0);
        request.ResponseStarted = false;
        session.Set("k", 1);
        request.Written.Should().ContainSingle();
        StoredSessions(manager).Should().Be(1);
    }
}
