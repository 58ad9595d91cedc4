namespace Sessions.Core.Tests;

/// <summary>SessionKeyCache: the database key of an ID, remembered for recent IDs, is always the key HashText builds.</summary>
public class SessionKeyCacheTests
{
    [Test]
    public void KeyOf_IsHashTextBetweenPrefixAndSuffix_AndAnIdNamedAgainReusesItsKey()
    {
        var cache = new SessionKeyCache("session:{", "}");
        var id = SessionIds.NewId();

        var key = cache.KeyOf(id);

        key.Should().Be("session:{" + SessionIds.HashText(id) + "}");
        cache.KeyOf(new string(id.ToCharArray())).Should().BeSameAs(key, "an equal ID from another request finds the remembered key");
    }

    [Test]
    public void ManyMoreIdsThanSlots_EachGetsItsOwnKey_EvenAfterCollidingIdsReplacedIt()
    {
        var cache = new SessionKeyCache("p:", "");
        var ids = Enumerable.Range(0, SessionKeyCache.Slots * 4).Select(_ => SessionIds.NewId()).ToList();

        var first = ids.Select(cache.KeyOf).ToList();
        var again = ids.AsEnumerable().Reverse().Select(cache.KeyOf).Reverse().ToList();

        first.Should().Equal(ids.Select(id => "p:" + SessionIds.HashText(id)));
        again.Should().Equal(first);
    }

    [Test]
    public void IdsThatDifferOnlyInLengthOrLastCharacter_AreNotConfused()
    {
        var cache = new SessionKeyCache("", "");
        var id = new string('a', 40);

        foreach (var other in new[] { id, id + "a", id[..^1] + "b", id[..^1], id })
            cache.KeyOf(other).Should().Be(SessionIds.HashText(other), other);
    }

    [Test]
    public void NullId_Throws()
    {
        var cache = new SessionKeyCache("", "");

        cache.Invoking(c => c.KeyOf(null!)).Should().Throw<ArgumentNullException>().WithParameterName("id");
    }
}
