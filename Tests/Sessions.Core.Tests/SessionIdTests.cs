using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>SessionConfig.SessionIdGenerator: ID generation and the ID format gate.</summary>
public class SessionIdTests
{
    [Test]
    public void NewId_Is256BitsAs43Base64UrlCharacters_AndUnique()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => SessionIds.NewId()).ToList();

        ids.Should().OnlyHaveUniqueItems();
        ids.Where(id => id.Length != SessionIds.DefaultLength || !SessionIds.IsWellFormed(id.AsSpan())).Should().BeEmpty();
        SessionIds.DefaultLength.Should().Be(43);
        // 32 random bytes: the last character carries only 4 bits, so it is one of 16 characters.
        ids.Select(id => id[^1]).Distinct().Should().HaveCount(16);
        ids.SelectMany(id => id).Distinct().Should().HaveCount(64, "every base64url character occurs");
    }

    [Test]
    public void IsWellFormed_AcceptsBase64UrlOf22To128Characters_Only()
    {
        SessionIds.IsWellFormed(new string('a', 22).AsSpan()).Should().BeTrue();
        SessionIds.IsWellFormed(new string('-', 128).AsSpan()).Should().BeTrue();
        SessionIds.IsWellFormed("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".AsSpan()).Should().BeTrue();
        SessionIds.IsWellFormed(new string('a', 21).AsSpan()).Should().BeFalse();
        SessionIds.IsWellFormed(new string('a', 129).AsSpan()).Should().BeFalse();
        SessionIds.IsWellFormed(ReadOnlySpan<char>.Empty).Should().BeFalse();
        foreach (var bad in "+/=% \"\\.;,:*?[]\r\n\0é")
            SessionIds.IsWellFormed((new string('a', 30) + bad).AsSpan()).Should().BeFalse($"'{bad}' is not base64url");
    }

    [Test]
    public void CustomGenerator_IsUsed_WhenItsIdsAreWellFormed()
    {
        var counter = 0;
        using var manager = NewManager(configure: c => c.SessionIdGenerator = () => $"custom-id-{Interlocked.Increment(ref counter):D20}");
        var request = EstablishedRequest(manager);

        var id = manager.Start(request).Id;

        id.Should().Be("custom-id-00000000000000000001");
        LastCookie(request).Value.Should().Be(id);
        manager.Start(request.NextRequest()).Id.Should().Be(id);
    }

    [TestCase("short")]
    [TestCase("has spaces in it and is long enough")]
    [TestCase("has;semicolons;and;is;long;enough")]
    [TestCase(null)]
    public void CustomGenerator_ReturningAMalformedId_ThrowsInvalidOperationException_AndIssuesNothing(string? generated)
    {
        using var manager = NewManager(configure: c => c.SessionIdGenerator = () => generated!);
        var request = new TestCarrier();
        var session = manager.Start(request);

        session.Invoking(s => s.Set("k", 1)).Should().Throw<InvalidOperationException>().WithMessage("*SessionIdGenerator*");

        request.Written.Should().BeEmpty();
        StoredSessions(manager).Should().Be(0);
    }

    [Test]
    public void CustomGenerator_ReturningTheIdOfALiveSession_NeverOverwritesIt_AndNeverHandsItsCookieToAnotherClient()
    {
        const string Fixed = "always-the-same-id-000000";
        using var manager = NewManager(configure: c => c.SessionIdGenerator = () => Fixed);
        var owner = EstablishedRequest(manager, "owner", "alice");

        var intruder = new TestCarrier();
        var session = manager.Start(intruder);
        session.Invoking(s => s.Set("owner", "mallory")).Should().Throw<InvalidOperationException>().WithMessage("*already in use*");

        intruder.Written.Should().BeEmpty("a cookie naming someone else's session must never be sent");
        manager.Start(owner.NextRequest()).Get("owner").Should().Be("alice");
        StoredSessions(manager).Should().Be(1);
    }

    [Test]
    public void RenewId_WithAGeneratorReturningALiveId_FailsWithoutTouchingEitherSession()
    {
        var next = "first-generated-id-00000000";
        using var manager = NewManager(configure: c => c.SessionIdGenerator = () => next);
        var first = EstablishedRequest(manager, "who", "first");
        next = "second-generated-id-0000000";
        var second = EstablishedRequest(manager, "who", "second").NextRequest();
        next = "first-generated-id-00000000"; // collides with the first session

        manager.Invoking(m => m.RenewId(second)).Should().Throw<InvalidOperationException>();

        manager.Start(first.NextRequest()).Get("who").Should().Be("first");
        manager.Start(second.NextRequest()).Get("who").Should().Be("second");
        second.Written.Should().BeEmpty();
    }

    [Test]
    public void IdsNeverAppearInExceptionMessages()
    {
        using var manager = NewManager(configure: c => c.MaxKeys = 1);
        var session = manager.Start(new TestCarrier());
        session.Set("a", 1);

        var error = session.Invoking(s => s.Set("b", 2)).Should().Throw<SessionLimitExceededException>().Which;

        error.Message.Should().NotContain(session.Id);
    }
}
