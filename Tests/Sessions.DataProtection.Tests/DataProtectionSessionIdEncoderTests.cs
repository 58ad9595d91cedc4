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
    [Test]
    public void OneEncoderSharedByTwoCookieNames_InParallel_NeverUsesTheOtherNamesPurpose()
    {
        // Managers with different cookie names sharing one encoder: every value must be protected under its own name's
        // purpose, so it decodes under that name only, however the calls interleave.
        var encoder = new DataProtectionSessionIdEncoder(_keys);
        string[] names = ["sid", "admin_sid"];
        var reference = names.Select(n => _keys.CreateProtector(DataProtectionSessionIdEncoder.Purpose, n)).ToArray();
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();

        Parallel.For(0, 100_000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var own = i % 2;
            var other = 1 - own;
            var id = $"id-{i}";
            var value = encoder.Encode(names[own], id);
            if (!encoder.TryDecode(names[own], value, out var decoded) || decoded != id)
                wrong.Enqueue($"{names[own]} value did not decode under its own name");
            if (encoder.TryDecode(names[other], value, out _))
                wrong.Enqueue($"{names[own]} value decoded under {names[other]}");
            if (!Unprotects(reference[own], value))
                wrong.Enqueue($"{names[own]} value was not protected under its own purpose");
        });

        wrong.Should().BeEmpty();
    }

    private static bool Unprotects(IDataProtector protector, string value)
    {
        try
        {
            protector.Unprotect(Convert.FromBase64String(value.Replace('-', '+').Replace('_', '/') + new string('=', (4 - value.Length % 4) % 4)));
            return true;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }
    }
}
