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
    public void AnIdInTheSlotOfAHeldOne_DifferingOnlyInItsLastCharacters_ReplacesIt_AndNeitherGetsTheOthersKey()
    {
        var cache = new SessionKeyCache("", "");
        var id = SessionIds.NewId();
        // Same length, same slot, same characters but the last three (64^3 candidates: one shares the slot, all but surely):
        // the one case where only the comparison tells them apart.
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var rival = (from a in Alphabet from b in Alphabet from c in Alphabet select id[..^3] + a + b + c)
            .First(other => other != id && ((other.GetHashCode() ^ id.GetHashCode()) & (SessionKeyCache.Slots - 1)) == 0);

        foreach (var named in new[] { id, rival, id, id + "A", id[..^1], rival })
            cache.KeyOf(named).Should().Be(SessionIds.HashText(named), named);
    }

    [Test]
    public void NullId_Throws()
    {
        var cache = new SessionKeyCache("", "");

        cache.Invoking(c => c.KeyOf(null!)).Should().Throw<ArgumentNullException>().WithParameterName("id");
    }
}
