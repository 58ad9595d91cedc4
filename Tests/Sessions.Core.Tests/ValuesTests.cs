using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>Get, Set, Delete, Clear, GetAll and VisitAll.</summary>
public class ValuesTests
{
    [Test]
    public void Set_KeepsTheReference_MutatingAListFromGetIsVisibleLater_OnTheMemoryDatabase()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        var session = manager.Start(request);
        session.Set("list", new List<int> { 1 });

        ((List<int>)session.Get("list")!).Add(2);

        manager.Start(request.NextRequest()).Get("list").Should().BeEquivalentTo(new List<int> { 1, 2 });
    }

    [Test]
    public void SetNull_CreatesAnEntry_GetAllHasTheKeyWithNull_AndGetReturnsNull()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());

        session.Set("k", null);

        session.Get("k").Should().BeNull();
        session.Count.Should().Be(1);
        session.GetAll().Should().ContainKey("k").WhoseValue.Should().BeNull();
    }

    [Test]
    public void VisitAll_EnumeratesInInsertionOrder_AfterDeleteAndSet()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("z", 1);
        session.Set("a", 2);
        session.Set("m", 3);
        session.Delete("a");
        session.Set("b", 4);
        session.Set("z", 5); // replacing keeps the position

        var visited = new List<string>();
        session.VisitAll((key, _) => visited.Add(key));

        visited.Should().Equal("z", "m", "b");
        session.GetAll().Keys.Should().Equal("z", "m", "b");
        session.Get("z").Should().Be(5);
    }

    [Test]
    public void VisitAll_VisitorMayUseTheSession_WithoutDeadlockOrConcurrentModificationError()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("a", 1);
        session.Set("b", 2);

        session.VisitAll((key, value) => session.Set(key + "-copy", value));

        session.GetAll().Keys.Should().Equal("a", "b", "a-copy", "b-copy");
        session.Invoking(s => s.VisitAll(null!)).Should().Throw<ArgumentNullException>();
    }

    [Test]
    public void GetAll_ReturnsAnIndependentSnapshot()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("a", 1);

        var snapshot = session.GetAll();
        ((IDictionary<string, object?>)snapshot)["b"] = 2;
        session.Set("c", 3);

        session.Get("b").Should().BeNull();
        snapshot.Keys.Should().Equal("a", "b");
        session.GetAll().Keys.Should().Equal("a", "c");
    }

    [Test]
    public void Clear_EmptiesTheValues_KeepsTheIdAndTheFlashes()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        var session = manager.Start(request);
        session.Set("a", 1);
        session.SetFlash("notice", "hi");
        var id = session.Id;

        session.Clear();

        session.Count.Should().Be(0);
        session.Id.Should().Be(id);
        var next = manager.Start(request.NextRequest());
        next.Id.Should().Be(id);
        next.GetAll().Should().BeEmpty();
        next.GetFlash("notice").Should().Be("hi");
    }

    [Test]
    public void Delete_ReturnsTrueOnlyWhenTheKeyExisted()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("a", 1);

        session.Delete("a").Should().BeTrue();
        session.Delete("a").Should().BeFalse();
        session.Delete("never").Should().BeFalse();
    }

    [Test]
    public void Values_PersistAcrossRequests_OnTheMemoryDatabase()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        manager.Start(request).Set("name", "iris");

        var next = request.NextRequest();
        manager.Start(next).Get("name").Should().Be("iris");
        manager.Start(next.NextRequest()).GetString("name").Should().Be("iris");
    }

    [Test]
    public void MoreThanMaxKeys_IsATypedError_AndThePreviousStateIsUnchanged()
    {
        using var manager = NewManager(configure: c => c.MaxKeys = 3);
        var session = manager.Start(new TestCarrier());
        session.Set("a", 1);
        session.Set("b", 2);
        session.Set("c", 3);

        session.Invoking(s => s.Set("d", 4)).Should().Throw<SessionLimitExceededException>().WithMessage("*MaxKeys*");

        session.GetAll().Keys.Should().Equal("a", "b", "c");
        session.Set("c", 30); // replacing an existing key is still allowed
        session.Get("c").Should().Be(30);
    }

    [Test]
    public void InvalidKeys_AreRejected()
    {
        using var manager = NewManager(configure: c => c.MaxKeyLength = 8);
        var session = manager.Start(new TestCarrier());

        session.Invoking(s => s.Set(null!, 1)).Should().Throw<ArgumentNullException>();
        session.Invoking(s => s.Set("", 1)).Should().Throw<ArgumentException>();
        session.Invoking(s => s.Set("123456789", 1)).Should().Throw<ArgumentException>().WithMessage("*MaxKeyLength*");
        session.Invoking(s => s.Set("a\nb", 1)).Should().Throw<ArgumentException>().WithMessage("*control*");
        session.Invoking(s => s.SetFlash("a\0b", 1)).Should().Throw<ArgumentException>();
        session.IsNew.Should().BeTrue("a rejected write does not establish the session");
        session.Count.Should().Be(0);
    }

    [Test]
    public void KeysAreCaseSensitive()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("Name", 1);
        session.Set("name", 2);

        session.Get("Name").Should().Be(1);
        session.Get("name").Should().Be(2);
        session.Count.Should().Be(2);
    }
}
