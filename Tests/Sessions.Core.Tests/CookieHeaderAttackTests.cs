using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Attacks through the <c>Cookie</c> header: a comma that plants another session inside a cookie value, and cookie
/// bombing that hides the real session cookie behind padding or decoy values. Browsers join cookies with <c>"; "</c>
/// only, so a comma is part of a value; and the whole header the host accepted is read, the database work being bounded
/// by <see cref="SessionManager.MaxCookieLookups"/> instead.
/// </summary>
public class CookieHeaderAttackTests
{
    private CountingDatabase _database = null!;
    private SessionManager _manager = null!;

    private void Build(Action<SessionConfig>? configure = null)
    {
        var clock = NewClock();
        _database = new CountingDatabase(new MemorySessionDatabase(clock));
        _manager = NewManager(clock, c =>
        {
            c.Database = _database;
            configure?.Invoke(c);
        });
    }

    [TearDown]
    public void TearDown()
    {
        _manager?.Dispose();
        _database?.Dispose();
    }

    /// <summary>A live session holding <paramref name="owner"/> under <c>owner</c>, established through the manager.</summary>
    private string LiveId(string owner, bool https = false)
    {
        var request = new TestCarrier(host: "www.example.com", isHttps: https);
        _manager.Start(request).Set("owner", owner);
        return _manager.Start(request.NextRequest()).Id;
    }

    /// <summary>Starts a request with <paramref name="header"/>; <see cref="CountingDatabase.LoadedIds"/> then holds only its lookups.</summary>
    private Session Start(string header, bool https = false)
    {
        _database.LoadedIds.Clear();
        return _manager.Start(new TestCarrier(header, "www.example.com", https));
    }

    // ----- a comma plants a session ------------------------------------------------------------------------------

    [Test]
    public void CommaPlantedSessionInAnotherCookie_IsNotUsed_AndTheVictimsSessionIs()
    {
        Build();
        var attacker = LiveId("attacker");
        var victim = LiveId("victim");

        var session = Start($"pref=x,sid={attacker}; sid={victim}");

        session.Id.Should().Be(victim);
        session.Get("owner").Should().Be("victim");
        _database.LoadedIds.Should().NotContain(attacker, "a comma is part of the value of pref, not a separator");
    }

    [Test]
    public void CommaPlantedSessionAlone_IsNotAdopted()
    {
        Build();
        var attacker = LiveId("attacker");

        var session = Start($"pref=x,sid={attacker}");

        session.IsNew.Should().BeTrue();
        session.Id.Should().NotBe(attacker);
        session.Get("owner").Should().BeNull();
    }

    [Test]
    public void CommaPlantedHostPrefixedCookie_FromASiblingSubdomain_DoesNotDefeatTheHostPrefix()
    {
        // A sibling subdomain cannot set __Host-sid, but it can set a plain cookie whose value carries ",__Host-sid=...".
        Build(c =>
        {
            c.Cookie = "__Host-sid";
            c.CookieSecure = CookieSecureMode.Always;
        });
        var attacker = LiveId("attacker", https: true);
        var victim = LiveId("victim", https: true);

        var planted = Start($"pref=x,__Host-sid={attacker}; __Host-sid={victim}", https: true);
        planted.Id.Should().Be(victim);
        planted.Get("owner").Should().Be("victim");

        _database.LoadedIds.Should().NotContain(attacker);

        var alone = Start($"pref=x,__Host-sid={attacker}", https: true);
        alone.IsNew.Should().BeTrue();
        alone.Id.Should().NotBe(attacker);
        _database.LoadedIds.Should().BeEmpty();
    }

    [Test]
    public void CommaPlantedSession_InTheSessionCookiesOwnValue_IsNotUsed()
    {
        Build();
        var attacker = LiveId("attacker");

        var session = Start($"sid=x,sid={attacker}");

        session.Id.Should().NotBe(attacker);
        _database.LoadedIds.Should().NotContain(attacker);
    }

    // ----- cookie bombing ----------------------------------------------------------------------------------------

    private static string Decoys(int count) => string.Concat(Enumerable.Range(0, count).Select(_ => $"sid={SessionIds.NewId()}; "));

    [Test]
    public void CookieBombing_RealCookieAfter100KilobytesOfPadding_IsFound()
    {
        Build();
        var victim = LiveId("victim");
        var padding = string.Concat(Enumerable.Range(0, 100).Select(i => $"pad{i}={new string('a', 1024)}; "));

        var session = Start(padding + $"sid={victim}");

        session.Id.Should().Be(victim, "the whole header the host accepted is read");
        _database.LoadedIds.Should().Equal(victim);
    }

    [Test]
    public void CookieBombing_RealCookieAfter100KilobytesOfOneValue_IsFound()
    {
        Build();
        var victim = LiveId("victim");

        Start($"pad={new string('a', 100 * 1024)}; sid={victim}").Id.Should().Be(victim);
    }

    [TestCase(4)]
    [TestCase(7)]
    public void CookieBombing_RealCookieAfterWellFormedDecoys_IsFound(int decoys)
    {
        Build();
        var victim = LiveId("victim");

        var session = Start(Decoys(decoys) + $"sid={victim}");

        session.Id.Should().Be(victim);
        session.Get("owner").Should().Be("victim");
        _database.LoadedIds.Should().HaveCount(decoys + 1);
    }

    [Test]
    public void CookieBombing_RealCookieAfterRepeatedDecoys_IsFound_EachDistinctValueLookedUpOnce()
    {
        Build();
        var victim = LiveId("victim");
        var decoy = SessionIds.NewId();
        var header = string.Concat(Enumerable.Repeat($"sid={decoy}; ", 50)) + $"sid={victim}";

        Start(header).Id.Should().Be(victim);
        _database.LoadedIds.Should().Equal(decoy, victim);
    }

    [Test]
    public void CookieBombing_RealCookieAfterManyMalformedDecoys_IsFound_WithoutLookingThemUp()
    {
        Build();
        var victim = LiveId("victim");
        var header = string.Concat(Enumerable.Range(0, 500).Select(i => $"sid=../../{i}; sid={new string('A', SessionIds.MaxLength + 1)}; sid=; ")) + $"sid={victim}";

        Start(header).Id.Should().Be(victim);
        _database.LoadedIds.Should().Equal(victim);
    }

    [Test]
    public void CookieBombing_With50WellFormedDecoys_AsksTheDatabaseAtMostTheBound()
    {
        Build();
        var victim = LiveId("victim");

        var session = Start(Decoys(50) + $"sid={victim}");

        _database.LoadedIds.Should().HaveCount(SessionManager.MaxCookieLookups);
        session.Id.Should().NotBe(victim, "the victim's value comes after the bound");
        session.IsNew.Should().BeTrue();
    }

    [Test]
    public void CookieBombing_TheBoundIsEightLookups_TheRealCookieAfterEightDecoysIsPastIt()
    {
        Build();
        var victim = LiveId("victim");

        SessionManager.MaxCookieLookups.Should().Be(8);
        Start(Decoys(SessionManager.MaxCookieLookups - 1) + $"sid={victim}").Id.Should().Be(victim);
        Start(Decoys(SessionManager.MaxCookieLookups) + $"sid={victim}").Id.Should().NotBe(victim);
        _database.LoadedIds.Should().HaveCount(SessionManager.MaxCookieLookups);
    }

    [Test]
    public void CookieBombing_OnADatabaseWithAnInProcessLookup_HasTheSameOutcome()
    {
        // The memory database answers through its allocation-free lookup path: the same candidates, the same bound.
        using var manager = NewManager();
        var request = new TestCarrier();
        manager.Start(request).Set("owner", "victim");
        var victim = manager.Start(request.NextRequest()).Id;
        var decoy = SessionIds.NewId();
        string Padding() => string.Concat(Enumerable.Range(0, 100).Select(i => $"pad{i}={new string('a', 1024)}; "));

        manager.Start(new TestCarrier(Padding() + $"sid={victim}")).Id.Should().Be(victim);
        manager.Start(new TestCarrier(Decoys(7) + $"sid={victim}")).Id.Should().Be(victim);
        manager.Start(new TestCarrier(string.Concat(Enumerable.Repeat($"sid={decoy}; ", 50)) + $"sid={victim}")).Id.Should().Be(victim);
        manager.Start(new TestCarrier(Decoys(8) + $"sid={victim}")).Id.Should().NotBe(victim);
    }

    /// <summary>A reversible encoder: <c>v1.</c> plus the ID, so decoys decode to well-formed IDs.</summary>
    private sealed class PrefixEncoder : ISessionIdEncoder
    {
        public int Decodes;

        public string Encode(string cookieName, string sessionId) => "v1." + sessionId;

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            Decodes++;
            sessionId = cookieValue.StartsWith("v1.", StringComparison.Ordinal) ? cookieValue[3..] : string.Empty;
            return sessionId.Length > 0;
        }
    }

    [Test]
    public void CookieBombing_WithAnEncoder_TheSameCandidatesAndTheSameBound()
    {
        Build(c => c.Encoder = new PrefixEncoder());
        var victim = LiveId("victim");
        string EncodedDecoys(int count) => string.Concat(Enumerable.Range(0, count).Select(_ => $"sid=v1.{SessionIds.NewId()}; "));
        var repeated = $"sid=v1.{SessionIds.NewId()}; ";

        Start(EncodedDecoys(7) + $"sid=v1.{victim}").Id.Should().Be(victim);
        Start(string.Concat(Enumerable.Repeat(repeated, 50)) + "sid=garbage; " + $"sid=v1.{victim}").Id.Should().Be(victim);
        _database.LoadedIds.Should().HaveCount(2, "a repeated decoy is looked up once, garbage never");
        Start(EncodedDecoys(50) + $"sid=v1.{victim}").Id.Should().NotBe(victim);
        _database.LoadedIds.Should().HaveCount(SessionManager.MaxCookieLookups);
    }

    [Test]
    public void CookieBombing_WithAnEncoder_ValuesNoEncoderCouldHaveMade_AreSkippedWithoutDecoding()
    {
        var encoder = new PrefixEncoder();
        Build(c => c.Encoder = encoder);
        var victim = LiveId("victim");
        var garbage = string.Concat(Enumerable.Range(0, 200).Select(i => $"sid=v1.../{i}; sid=\"v1.%{i}\"; sid=v1.a b; "));
        encoder.Decodes = 0;

        Start(garbage + $"sid=v1.{victim}").Id.Should().Be(victim);
        encoder.Decodes.Should().Be(1, "only the value made of the characters an encoded value may hold is decoded");
    }
}
