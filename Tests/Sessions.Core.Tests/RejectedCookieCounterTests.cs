using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// An attacker presenting guessed, stolen-then-expired or garbage session IDs leaves a trace: <see cref="SessionManager.Counters"/>
/// counts each rejected cookie value by outcome, without a database call for a malformed value and without keeping the value.
/// </summary>
public class RejectedCookieCounterTests
{
    private sealed class PrefixEncoder : ISessionIdEncoder
    {
        public string Encode(string cookieName, string sessionId) => "v1." + sessionId;

        public bool TryDecode(string cookieName, string cookieValue, out string sessionId)
        {
            sessionId = cookieValue.StartsWith("v1.", StringComparison.Ordinal) ? cookieValue[3..] : string.Empty;
            return sessionId.Length > 0;
        }
    }

    private static readonly string UnknownId = new('A', SessionIds.MinLength + 10);

    private static IEnumerable<TestCaseData> Databases()
    {
        yield return new TestCaseData(false).SetName("{m}(memory lookup)");
        yield return new TestCaseData(true).SetName("{m}(database that stores copies)");
    }

    private static SessionManager Manager(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock, bool copies, ISessionIdEncoder? encoder = null) =>
        NewManager(clock, c =>
        {
            c.Encoder = encoder;
            // A memory database whose sweep does not run within the test: the expired record is still there to be found.
            c.Database = copies ? new CopyingMemoryDatabase() : new MemorySessionDatabase(clock, sweepInterval: TimeSpan.FromDays(1));
        });

    [TestCaseSource(nameof(Databases))]
    public void Bruteforcing_with_malformed_ids_is_counted_without_a_database_call(bool copies)
    {
        using var manager = Manager(NewClock(), copies);
        manager.Start(new TestCarrier(CookieHeader("../../etc/passwd")));
        manager.Start(new TestCarrier(CookieHeader(new string('A', 10 * 1024))));
        manager.Start(new TestCarrier(CookieHeader("*")));

        manager.Counters.Malformed.Should().Be(3);
        manager.Counters.Unknown.Should().Be(0);
        manager.Counters.Expired.Should().Be(0);
        manager.Counters.Undecodable.Should().Be(0);
    }

    [TestCaseSource(nameof(Databases))]
    public void Guessing_session_ids_is_counted_as_unknown(bool copies)
    {
        using var manager = Manager(NewClock(), copies);
        manager.Start(new TestCarrier(CookieHeader(UnknownId))).IsNew.Should().BeTrue();
        manager.Start(new TestCarrier(CookieHeader(UnknownId))).IsNew.Should().BeTrue();

        manager.Counters.Unknown.Should().Be(2);
        manager.Counters.Malformed.Should().Be(0);
        manager.Counters.Expired.Should().Be(0);
    }

    [TestCaseSource(nameof(Databases))]
    public async Task Replaying_an_expired_session_id_is_counted_as_expired(bool copies)
    {
        var clock = NewClock();
        using var manager = Manager(clock, copies);
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");
        await manager.CommitAsync(first);
        clock.Advance(manager.Config.IdleTimeout + TimeSpan.FromSeconds(1));

        manager.Start(first.NextRequest()).IsNew.Should().BeTrue();

        manager.Counters.Expired.Should().Be(1);
        manager.Counters.Unknown.Should().Be(0);
        manager.Counters.Malformed.Should().Be(0);
    }

    [TestCaseSource(nameof(Databases))]
    public async Task A_live_session_and_no_cookie_count_nothing(bool copies)
    {
        using var manager = Manager(NewClock(), copies);
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");
        await manager.CommitAsync(first);
        manager.Start(first.NextRequest()).GetString("k").Should().Be("v");
        manager.Start(new TestCarrier()).IsNew.Should().BeTrue();
        manager.Start(new TestCarrier(CookieHeader(""))).IsNew.Should().BeTrue();

        manager.Counters.Malformed.Should().Be(0);
        manager.Counters.Unknown.Should().Be(0);
        manager.Counters.Expired.Should().Be(0);
        manager.Counters.Undecodable.Should().Be(0);
    }

    [Test]
    public void A_stale_value_before_the_live_one_is_counted_once()
    {
        using var manager = Manager(NewClock(), copies: false);
        var first = new TestCarrier();
        manager.Start(first).Set("k", "v");
        var live = LastCookie(first).Value;

        manager.Start(new TestCarrier($"sid=garbage; sid={UnknownId}; sid={live}")).GetString("k").Should().Be("v");

        manager.Counters.Malformed.Should().Be(1);
        manager.Counters.Unknown.Should().Be(1);
    }

    [TestCaseSource(nameof(Databases))]
    public void Forged_values_the_encoder_refuses_are_counted_as_undecodable(bool copies)
    {
        using var manager = Manager(NewClock(), copies, new PrefixEncoder());
        manager.Start(new TestCarrier(CookieHeader("forged" + UnknownId))).IsNew.Should().BeTrue();
        manager.Start(new TestCarrier(CookieHeader("v1." + UnknownId))).IsNew.Should().BeTrue();

        manager.Counters.Undecodable.Should().Be(1);
        manager.Counters.Unknown.Should().Be(1);
        manager.Counters.Malformed.Should().Be(0);
    }

    [Test]
    public async Task Counting_from_many_threads_loses_no_increment()
    {
        using var manager = Manager(NewClock(), copies: false);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
                manager.Start(new TestCarrier(CookieHeader(UnknownId)));
        })));

        manager.Counters.Unknown.Should().Be(8000);
    }
}
