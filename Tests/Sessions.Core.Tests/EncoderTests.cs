using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>The cookie value encoder (go-sessions' Encode/Decode).</summary>
public class EncoderTests
{
    /// <summary>A reversible, tamper-evident-enough encoder for tests: "v1." plus the reversed ID.</summary>
    private sealed class ReversingEncoder : ISessionIdEncoder
    {
        public int Decodes;

        public string Encode(string cookieName, string sessionId) => "v1." + Reverse(sessionId);

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            Interlocked.Increment(ref Decodes);
            sessionId = string.Empty;
            if (!cookieValue.StartsWith("v1.", StringComparison.Ordinal))
                return false;
            sessionId = Reverse(cookieValue[3..]);
            return true;
        }

        private static string Reverse(string text)
        {
            var chars = text.ToCharArray();
            Array.Reverse(chars);
            return new string(chars);
        }
    }

    private sealed class ThrowingEncoder : ISessionIdEncoder
    {
        public string Encode(string cookieName, string sessionId) => throw new FormatException("encoder failed");

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            sessionId = cookieValue;
            return true;
        }
    }

    private sealed class HugeEncoder : ISessionIdEncoder
    {
        public string Encode(string cookieName, string sessionId) => new('A', 5000);

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            sessionId = cookieValue;
            return false;
        }
    }

    private static (SessionManager Manager, CountingDatabase Database) Build(ISessionIdEncoder encoder)
    {
        var clock = NewClock();
        var database = new CountingDatabase(new MemorySessionDatabase(clock));
        var manager = NewManager(clock, c =>
        {
            c.Encoder = encoder;
            c.Database = database;
        });
        return (manager, database);
    }

    [Test]
    public void CookieValue_IsTheEncodedId_WhileSessionIdIsRaw_AndTheEncodedValueResolvesLater()
    {
        var encoder = new ReversingEncoder();
        var (manager, database) = Build(encoder);
        using var _ = manager;
        using var __ = database;
        var request = new TestCarrier();
        var session = manager.Start(request);
        session.Set("name", "iris");

        var value = LastCookie(request).Value;
        value.Should().Be(encoder.Encode("sid", session.Id)).And.NotBe(session.Id);

        var next = manager.Start(request.NextRequest());
        next.Id.Should().Be(session.Id);
        next.Get("name").Should().Be("iris");
    }

    [Test]
    public void UndecodableCookie_IsTreatedAsAbsent_FreshSessionAndNewSetCookie_WithoutADatabaseLookup()
    {
        var (manager, database) = Build(new ReversingEncoder());
        using var _ = manager;
        using var __ = database;
        var request = new TestCarrier(CookieHeader("tampered-value-without-prefix"));

        var session = manager.Start(request);
        session.Set("k", 1);

        session.IsNew.Should().BeFalse();
        database.Loads.Should().Be(0);
        LastCookie(request).Value.Should().StartWith("v1.");
    }

    [Test]
    public void RawIdOfALiveSession_IsRejected_WhenAnEncoderIsConfigured()
    {
        var (manager, database) = Build(new ReversingEncoder());
        using var _ = manager;
        using var __ = database;
        var first = EstablishedRequest(manager);
        var id = manager.Start(first).Id;

        var forged = manager.Start(new TestCarrier(CookieHeader(id)));

        forged.Id.Should().NotBe(id);
        forged.Get("k").Should().BeNull();
    }

    [Test]
    public void DecodedValueThatIsNotAWellFormedId_IsRejectedBeforeTheDatabase()
    {
        var (manager, database) = Build(new ReversingEncoder());
        using var _ = manager;
        using var __ = database;

        var session = manager.Start(new TestCarrier(CookieHeader("v1.dwssap/cte/../..")));

        session.IsNew.Should().BeTrue();
        database.Loads.Should().Be(0);
    }

    [Test]
    public void EncoderFailure_Propagates_AndLeavesNoServerSessionAndNoCookie_OurBehaviour()
    {
        // go-sessions still emitted an empty cookie; here the write fails as a whole and nothing is left behind.
        var (manager, database) = Build(new ThrowingEncoder());
        using var _ = manager;
        using var __ = database;
        var request = new TestCarrier();
        var session = manager.Start(request);

        var act = () => session.Set("k", 1);

        act.Should().Throw<FormatException>();
        request.Written.Should().BeEmpty();
        database.Inner.Count.Should().Be(0);
        session.IsNew.Should().BeTrue();
    }

    [Test]
    public void EncodedCookieLongerThanMaxCookieBytes_IsATypedError_AndNothingIsStored()
    {
        var (manager, database) = Build(new HugeEncoder());
        using var _ = manager;
        using var __ = database;
        var request = new TestCarrier();
        var session = manager.Start(request);

        var act = () => session.Set("k", 1);

        act.Should().Throw<SessionLimitExceededException>().WithMessage("*MaxCookieBytes*");
        request.Written.Should().BeEmpty();
        database.Inner.Count.Should().Be(0);
    }
}
