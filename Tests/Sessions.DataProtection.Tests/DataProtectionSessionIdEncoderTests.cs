using Microsoft.AspNetCore.DataProtection;
using Sessions.DataProtection;
using Sessions.Testing;

namespace Sessions.DataProtection.Tests;

public class DataProtectionSessionIdEncoderTests
{
    private EphemeralDataProtectionProvider _keys = null!;
    private SessionManager _sessions = null!;

    [SetUp]
    public void SetUp()
    {
        _keys = new EphemeralDataProtectionProvider();
        _sessions = new SessionManager(new SessionConfig { Encoder = new DataProtectionSessionIdEncoder(_keys) });
    }

    [TearDown]
    public void TearDown() => _sessions.Dispose();

    private (string Id, string CookieValue) CreateSession()
    {
        var request = new TestCarrier();
        var session = _sessions.Start(request);
        session.Set("user", "ada");
        return (session.Id, request.Written.Single().Value);
    }

    [Test]
    public void CookieCarriesTheProtectedId_AndTheNextRequestResolvesToTheSameSession()
    {
        var (id, cookieValue) = CreateSession();

        cookieValue.Should().NotContain(id).And.MatchRegex("^[A-Za-z0-9_-]+$", "the value must be written verbatim by every host");
        var next = _sessions.Start(new TestCarrier($"sid={cookieValue}"));
        next.Id.Should().Be(id);
        next.GetString("user").Should().Be("ada");
    }

    [TestCase("flip")]
    [TestCase("truncate")]
    [TestCase("append")]
    [TestCase("plain-id")]
    public void TamperedValue_GivesAFreshSession(string tampering)
    {
        var (id, cookieValue) = CreateSession();
        var tampered = tampering switch
        {
            "flip" => cookieValue[..10] + (cookieValue[10] == 'A' ? 'B' : 'A') + cookieValue[11..],
            "truncate" => cookieValue[..^4],
            "append" => cookieValue + "AAAA",
            _ => id,
        };

        var session = _sessions.Start(new TestCarrier($"sid={tampered}"));

        session.IsNew.Should().BeTrue();
        session.Id.Should().NotBe(id);
        session.Get("user").Should().BeNull();
    }

    [Test]
    public void ValueMadeForAnotherCookieName_DoesNotDecode()
    {
        var (id, _) = CreateSession();
        var foreign = new DataProtectionSessionIdEncoder(_keys).Encode("other", id);

        _sessions.Start(new TestCarrier($"sid={foreign}")).IsNew.Should().BeTrue();
    }

    [Test]
    public void ValueFromAnotherKeyRing_DoesNotDecode()
    {
        var (id, _) = CreateSession();
        var foreign = new DataProtectionSessionIdEncoder(new EphemeralDataProtectionProvider()).Encode("sid", id);

        _sessions.Start(new TestCarrier($"sid={foreign}")).IsNew.Should().BeTrue();
    }

    [Test]
    public void OversizedOrNonBase64UrlValues_AreRefusedBeforeDecoding()
    {
        var encoder = new DataProtectionSessionIdEncoder(_keys);

        encoder.TryDecode("sid", new string('A', 5000), out _).Should().BeFalse();
        encoder.TryDecode("sid", "abc+/=", out _).Should().BeFalse();
        encoder.TryDecode("sid", "A", out _).Should().BeFalse();
    }
}
