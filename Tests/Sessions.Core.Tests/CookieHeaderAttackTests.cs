using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Attacks through the <c>Cookie</c> header: a comma that plants another session inside a cookie value, and cookie
/// bombing that hides the real session cookie behind padding or decoy values. Browsers join cookies with <c>"; "</c>
/// only, so a comma is part of a value; and the whole header the host accepted is read, the database work being bounded
/// by a fixed number of database lookups instead.
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
}
