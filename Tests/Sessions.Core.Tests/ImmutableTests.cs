using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>SetImmutable is a deep snapshot nothing can change.</summary>
public class ImmutableTests
{
    public sealed class BusinessModel
    {
        public string Name { get; set; } = "";

        public List<string> Tags { get; set; } = [];
    }

    private static Session NewSession(SessionManager manager) => manager.Start(new TestCarrier());

    [Test]
    public void GoSessionsExample_MutatingTheReturnedSlice_LeavesTheStoredValue_NameRemainsEdward()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        manager.Start(request).SetImmutable("businessEdit", new List<BusinessModel> { new() { Name = "Edward" }, new() { Name = "value 2" } });

        var next = request.NextRequest();
        var models = (List<BusinessModel>)manager.Start(next).Get("businessEdit")!;
        models[0].Name = "Gabriel";
        models.Add(new BusinessModel { Name = "extra" });

        var stored = (List<BusinessModel>)manager.Start(next.NextRequest()).Get("businessEdit")!;
        stored[0].Name.Should().Be("Edward");
        stored.Should().HaveCount(2);
    }

    [Test]
    public void MutatingTheCallersOriginalAfterSetImmutable_DoesNotChangeTheStoredValue_FixedDefect()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        var original = new List<BusinessModel> { new() { Name = "Edward", Tags = ["a"] } };
        session.SetImmutable("m", original);

        original[0].Name = "Gabriel";
        original[0].Tags.Add("b");
        original.Add(new BusinessModel());

        var stored = (List<BusinessModel>)session.Get("m")!;
        stored.Should().ContainSingle();
        stored[0].Name.Should().Be("Edward");
        stored[0].Tags.Should().Equal("a");
    }

    [Test]
    public void NestedObjectsInTheReturnedCopy_AreDeepCopies_NotShared_FixedDefect()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("m", new BusinessModel { Name = "Edward", Tags = ["a"] });

        var copy1 = (BusinessModel)session.Get("m")!;
        copy1.Tags.Add("leak");
        var copy2 = (BusinessModel)session.Get("m")!;

        copy2.Should().NotBeSameAs(copy1);
        copy2.Tags.Should().NotBeSameAs(copy1.Tags);
        copy2.Tags.Should().Equal("a");
    }

    [Test]
    public void ImmutableDictionary_AddingKeysOrMutatingNestedCollectionsOfTheCopy_DoesNotLeak_FixedDefect()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("map", new Dictionary<string, List<int>> { ["a"] = [1] });

        var copy = (Dictionary<string, List<int>>)session.Get("map")!;
        copy["b"] = [2];
        copy["a"].Add(99);

        var stored = (Dictionary<string, List<int>>)session.Get("map")!;
        stored.Keys.Should().Equal("a");
        stored["a"].Should().Equal(1);
    }

    [Test]
    public void SetOnAnImmutableKey_ThrowsInvalidOperationExceptionNamingTheKey_AndKeepsTheValue_OurBehaviour()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("role", "admin");

        session.Invoking(s => s.Set("role", "guest")).Should().Throw<InvalidOperationException>().WithMessage("*'role'*immutable*");
        session.Invoking(s => s.Increment("role")).Should().Throw<InvalidOperationException>();

        session.Get("role").Should().Be("admin");
    }

    [Test]
    public void SetImmutableAgain_ReplacesTheValue()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("role", "admin");

        session.SetImmutable("role", "owner");

        session.Get("role").Should().Be("owner");
    }

    [Test]
    public void DeleteAndClear_RemoveAnImmutableValue_AfterWhichSetWorks()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("a", new List<int> { 1 });
        session.SetImmutable("b", new List<int> { 2 });

        session.Delete("a").Should().BeTrue();
        session.Set("a", "plain");
        session.Clear();
        session.Set("b", "plain");

        session.Get("a").Should().BeNull();
        session.Get("b").Should().Be("plain");
    }

    [Test]
    public void GetAllAndVisitAll_ReturnCopiesOfImmutableValues()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("list", new List<int> { 1 });

        ((List<int>)session.GetAll()["list"]!).Add(2);
        session.VisitAll((_, value) => ((List<int>)value!).Add(3));

        session.Get("list").Should().BeEquivalentTo(new List<int> { 1 });
    }

    [Test]
    public void TypedGet_OfAnImmutableValue_ReturnsAnIndependentCopy()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("list", new List<int> { 1 });

        session.Get<List<int>>("list").Add(2);
        session.TryGet<List<int>>("list", out var viaTry).Should().BeTrue();
        viaTry.Add(3);
        session.Get<int[]>("list").Should().Equal(1);
        session.Get<List<int>>("list").Should().Equal(1);
    }

    [Test]
    public void GetAsObject_OfAnImmutableValue_NeverExposesTheStoredSnapshot()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("list", new List<int> { 1 });

        var asObject = session.Get<object>("list");
        asObject.Should().BeOfType<List<int>>();
        ((List<int>)asObject).Add(2);
        session.TryGet<object>("list", out var viaTry).Should().BeTrue();
        ((List<int>)viaTry).Add(3);

        session.Get("list").Should().BeEquivalentTo(new List<int> { 1 });
    }

    [Test]
    public void ImmutablePrimitives_AreKeptAsTheyAre_AndReadBackWithTypedGetters()
    {
        using var manager = NewManager();
        var session = NewSession(manager);
        session.SetImmutable("n", 42);
        session.SetImmutable("s", "text");
        session.SetImmutable("d", DayOfWeek.Friday);

        session.GetInt32("n").Should().Be(42);
        session.GetString("s").Should().Be("text");
        session.Get<DayOfWeek>("d").Should().Be(DayOfWeek.Friday);
        session.Get("n").Should().Be(42);
    }

    public sealed class Node
    {
        public Node? Next { get; set; }
    }

    [Test]
    public void AValueThatCannotBeSerialised_IsRejectedWithArgumentException_AndNothingIsStored()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        var session = manager.Start(request);
        var cycle = new Node();
        cycle.Next = cycle;

        session.Invoking(s => s.SetImmutable("cycle", cycle)).Should().Throw<ArgumentException>().WithMessage("*'cycle'*");

        session.Get("cycle").Should().BeNull();
        request.Written.Should().BeEmpty();
    }

    [Test]
    public void ImmutableValues_SurviveAcrossRequests()
    {
        using var manager = NewManager();
        var request = new TestCarrier();
        manager.Start(request).SetImmutable("m", new BusinessModel { Name = "Edward" });

        var next = manager.Start(request.NextRequest());

        next.Get<BusinessModel>("m").Name.Should().Be("Edward");
        next.Invoking(s => s.Set("m", null)).Should().Throw<InvalidOperationException>();
    }
}
