using System.Text;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// Every bad cookie gives a fresh session, never an exception, never an adopted ID, and a
/// malformed value never reaches the database.
/// </summary>
public class BadCookieTests
{
    private CountingDatabase _database = null!;
    private SessionManager _manager = null!;

    [SetUp]
    public void SetUp()
    {
        var clock = NewClock();
        _database = new CountingDatabase(new MemorySessionDatabase(clock));
        _manager = NewManager(clock, c => c.Database = _database);
    }

    [TearDown]
    public void TearDown()
    {
        _manager.Dispose();
        _database.Dispose();
    }

    /// <summary>A live session's ID, established through the manager.</summary>
    private string LiveId(string key = "k", object? value = null) => _manager.Start(EstablishedRequest(_manager, key, value)).Id;

    private Session StartFresh(string? header)
    {
        var request = new TestCarrier(header);
        var session = _manager.Start(request);
        session.IsNew.Should().BeTrue();
        session.Count.Should().Be(0);
        request.Written.Should().BeEmpty();
        return session;
    }

    private static IEnumerable<TestCaseData> MalformedValues()
    {
        TestCaseData Case(string value, string name) => new TestCaseData(value).SetName("MalformedCookie_GivesAFreshSessionWithoutADatabaseLookup_" + name);
        yield return Case("", "Empty");
        yield return Case(new string('A', SessionIds.MinLength - 1), "TooShort");
        yield return Case(new string('A', SessionIds.MaxLength + 1), "TooLong");
        yield return Case(new string('A', 10 * 1024), "TenKilobytes");
        yield return Case("../../etc/passwd", "PathTraversal");
        yield return Case("..%2f..%2f..%2f..%2fetc%2fpasswd", "EncodedPathTraversal");
        yield return Case("..\\..\\..\\..\\windows\\win.ini", "BackslashTraversal");
        yield return Case("AAAAAAAAAAAAAAAAAAAAAAAAAA%00", "NulEscape");
        yield return Case("/tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "AbsolutePath");
        yield return Case("*", "RedisStar");
        yield return Case("sess:*AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "RedisPattern");
        yield return Case("?", "RedisQuestionMark");
        yield return Case("[a-z]AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "RedisCharClass");
        yield return Case("\r\nFLUSHALL\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "RedisCrLfInjection");
        yield return Case("a_b", "ShortUnderscore");
        yield return Case("AAAAAAAAAAAAAAAAAAAAA+/AAAAAAAAAAAAAAAAAAA=", "Base64NotUrl");
        yield return Case("AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA", "InnerSpace");
        yield return Case("ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéê", "NonAscii");
        yield return Case("AAAAAAAAAAAAAAAAAAAA\u0001\u007fAAAAAAAAAAAAAAAAAAAAA", "ControlBytes");
        yield return Case("AAAAAAAAAAAAAAAAAAAA\uD800AAAAAAAAAAAAAAAAAAAAAA", "LoneSurrogate");
        yield return Case("\"\"", "EmptyQuotes");
        yield return Case("\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "UnbalancedQuote");
    }

    [TestCaseSource(nameof(MalformedValues))]
    public void MalformedCookie_GivesAFreshSessionWithoutADatabaseLookup(string value)
    {
        LiveId(); // a live session exists; the bad cookie must not reach it
        var loads = _database.Loads;

        var session = StartFresh(CookieHeader(value));

        _database.Loads.Should().Be(loads, "a malformed value is rejected by the format gate");
        session.Id.Should().NotBe(value);
    }

    [TestCase(42)]
    [TestCase(44)]
    [TestCase(22)]
    public void WellFormedButNeverIssuedId_IsLookedUpOnce_AndNotAdopted(int length)
    {
        // IDs of 22 to 128 base64url characters pass the format gate (custom generators may use them); unknown ones are never adopted.
        var id = SessionIds.NewId().PadRight(length, 'x')[..length];
        var loads = _database.Loads;

        var session = StartFresh(CookieHeader(id));

        _database.Loads.Should().Be(loads + 1);
        session.Id.Should().NotBe(id);
    }

    [Test]
    public void OversizedHeader_Of64KilobytesWith5000Cookies_WhereOursIsLast_StillFindsTheSessionWithoutException()
    {
        var id = LiveId();
        var header = new StringBuilder();
        for (var i = 0; header.Length < 64 * 1024; i++)
            header.Append("junk").Append(i).Append("=xxxxxxxx; ");
        header.Append(CookieHeader(id));

        _manager.Start(new TestCarrier(header.ToString())).Id.Should().Be(id, "the whole header the host accepted is read");
    }

    [Test]
    public void OversizedHeader_WhereOursIsWithinTheCap_StillFindsTheSession()
    {
        var id = LiveId();
        var header = CookieHeader(id) + "; " + string.Join("; ", Enumerable.Range(0, 5000).Select(i => $"junk{i}=xxxxxxxx"));

        _manager.Start(new TestCarrier(header)).Id.Should().Be(id);
    }

    [Test]
    public void OversizedCookieValue_Of10Kilobytes_BeforeAValidDuplicate_IsSkipped_AndTheValidOneWins()
    {
        var id = LiveId();
        var loads = _database.Loads;

        _manager.Start(new TestCarrier($"{CookieHeader(new string('A', 10 * 1024))}; {CookieHeader(id)}")).Id.Should().Be(id);
        _manager.Start(new TestCarrier($"{CookieHeader(new string('A', 4000))}; {CookieHeader(id)}")).Id.Should().Be(id);
        (_database.Loads - loads).Should().Be(2, "the oversized values are never looked up");
    }

    [Test]
    public void DuplicateCookieName_GarbageThenValid_ResolvesToTheValidOne()
    {
        var id = LiveId();
        _manager.Start(new TestCarrier($"sid=garbage; {CookieHeader(id)}")).Id.Should().Be(id);
    }

    [Test]
    public void DuplicateCookieName_ValidThenGarbage_ResolvesToTheValidOne()
    {
        var id = LiveId();
        _manager.Start(new TestCarrier($"{CookieHeader(id)}; sid=../../x")).Id.Should().Be(id);
    }

    [Test]
    public void DuplicateCookieName_UnknownThenLive_ResolvesToTheLiveOne_AndTwoLiveIds_TheFirstWins()
    {
        var first = LiveId("which", "first");
        var second = LiveId("which", "second");

        _manager.Start(new TestCarrier($"sid={SessionIds.NewId()}; {CookieHeader(second)}")).Id.Should().Be(second);
        var session = _manager.Start(new TestCarrier($"{CookieHeader(first)}; {CookieHeader(second)}"));
        session.Id.Should().Be(first);
        session.Get("which").Should().Be("first", "values of two sessions are never merged");
    }

    [Test]
    public void ManyDuplicates_AreBoundedToAFewLookups()
    {
        var header = string.Join("; ", Enumerable.Range(0, 100).Select(_ => CookieHeader(SessionIds.NewId())));
        var loads = _database.Loads;

        StartFresh(header);

        (_database.Loads - loads).Should().Be(SessionManager.MaxCookieLookups);
    }

    [Test]
    public void QuotedValidValue_IsUnwrappedAndResolves()
    {
        var id = LiveId();
        _manager.Start(new TestCarrier($"sid=\"{id}\"")).Id.Should().Be(id);
    }

    [Test]
    public void QuotedGarbage_GivesAFreshSession()
    {
        var loads = _database.Loads;
        StartFresh("sid=\"../../etc/passwd\"");
        _database.Loads.Should().Be(loads);
    }

    [Test]
    public void CommaJoinedHeaders_AreNotSplit_AndACookieAfterACommaIsNotAdopted()
    {
        // Browsers join cookies with "; " only: what follows a comma is part of the value of theme.
        var id = LiveId();
        StartFresh($"theme=dark, {CookieHeader(id)}, lang=en").Id.Should().NotBe(id);
        _manager.Start(new TestCarrier($"theme=dark, lang=en; {CookieHeader(id)}")).Id.Should().Be(id);
    }

    [Test]
    public void CookieNamesCompareCaseSensitively_AndNeedAnExactMatch()
    {
        var id = LiveId();

        StartFresh($"SID={id}").Id.Should().NotBe(id);
        StartFresh($"xsid={id}; sidx={id}").Id.Should().NotBe(id);
        _manager.Start(new TestCarrier($"  sid =  {id}  ")).Id.Should().Be(id, "whitespace around name and value is ignored");
    }

    [Test]
    public void NonAsciiAndControlCharactersElsewhereInTheHeader_DoNotPreventFindingOurCookie()
    {
        var id = LiveId();
        _manager.Start(new TestCarrier($"emoji=😀\u0001; {CookieHeader(id)}; x=\u00ff")).Id.Should().Be(id);
    }

    [Test]
    public void AFloodOfBogusCookieRequests_AllocatesNothingDurable()
    {
        for (var i = 0; i < 1000; i++)
        {
            var session = _manager.Start(new TestCarrier(CookieHeader(SessionIds.NewId())));
            _ = session.Get("k");
            _ = session.GetFlash("f");
        }

        _database.Inner.Count.Should().Be(0);
        _database.Commits.Should().Be(0);
    }

    [Test]
    public void NoCookieHeader_GivesALazySession_WithNoDatabaseCall()
    {
        var session = StartFresh(null);
        _ = session.Get("k");

        _database.Loads.Should().Be(0);
        _database.Commits.Should().Be(0);
    }
}
