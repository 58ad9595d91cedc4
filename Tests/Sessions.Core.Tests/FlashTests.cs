using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>The flash message lifecycle.</summary>
public class FlashTests
{
    private SessionManager _manager = null!;

    [SetUp]
    public void SetUp() => _manager = NewManager();

    [TearDown]
    public void TearDown() => _manager.Dispose();

    private TestCarrier SetFlashRequest(string key = "notice", object? value = null)
    {
        var request = new TestCarrier();
        _manager.Start(request).SetFlash(key, value ?? "saved");
        return request;
    }

    [Test]
    public void FlashSetInRequestN_IsReadableRepeatedlyInTheFirstRequestThatReadsIt_AndGoneFromTheNext()
    {
        var n = SetFlashRequest();

        var n1 = n.NextRequest();
        var session = _manager.Start(n1);
        session.GetFlash("notice").Should().Be("saved");
        session.GetFlash("notice").Should().Be("saved");
        session.HasFlash().Should().BeTrue();
        session.PeekFlash("notice").Should().Be("saved");

        var n2 = _manager.Start(n1.NextRequest());
        n2.GetFlash("notice").Should().BeNull();
        n2.HasFlash().Should().BeFalse();
    }

    [Test]
    public void FlashSetAndReadInTheSameRequest_IsAbsentInTheNextRequest()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        session.SetFlash("notice", "x");
        session.GetFlash("notice").Should().Be("x");

        _manager.Start(request.NextRequest()).GetFlash("notice").Should().BeNull();
    }

    [Test]
    public void PeekFlash_NeverConsumes()
    {
        var request = SetFlashRequest();

        for (var i = 0; i < 5; i++)
        {
            request = request.NextRequest();
            _manager.Start(request).PeekFlash("notice").Should().Be("saved");
        }
        _manager.Start(request.NextRequest()).HasFlash().Should().BeTrue();
    }

    [Test]
    public void GetFlashes_ReturnsAllAndConsumesAll()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        session.SetFlash("a", 1);
        session.SetFlash("b", "two");

        var next = request.NextRequest();
        var reader = _manager.Start(next);
        reader.GetFlashes().Should().BeEquivalentTo(new Dictionary<string, object?> { ["a"] = 1, ["b"] = "two" });
        reader.GetFlashes().Should().HaveCount(2, "consumed flashes stay readable for the rest of the request");

        _manager.Start(next.NextRequest()).GetFlashes().Should().BeEmpty();
    }

    [Test]
    public void GetFlashString_OnANonStringFlash_ReturnsTheDefault_AndStillConsumesIt()
    {
        var request = SetFlashRequest("n", 5);
        var next = request.NextRequest();
        var session = _manager.Start(next);

        session.GetFlashString("n").Should().BeEmpty();
        session.GetFlashString("n", "none").Should().Be("none");
        session.GetFlashString("missing", "none").Should().Be("none");

        _manager.Start(next.NextRequest()).PeekFlash("n").Should().BeNull();
    }

    [Test]
    public void GetFlashString_OnAStringFlash_ReturnsIt()
    {
        var next = SetFlashRequest().NextRequest();
        _manager.Start(next).GetFlashString("notice").Should().Be("saved");
    }

    [Test]
    public void ResettingAFlashAfterConsumingIt_MakesItSurviveToTheNextRequest()
    {
        var next = SetFlashRequest().NextRequest();
        var session = _manager.Start(next);
        session.GetFlash("notice");
        session.SetFlash("notice", "again");

        session.PeekFlash("notice").Should().Be("again");
        var after = next.NextRequest();
        _manager.Start(after).GetFlash("notice").Should().Be("again");
    }

    [Test]
    public void StartingTwiceInOneRequest_KeepsFlashesConsumedBeforeTheSecondStartReadable_OurBehaviour()
    {
        // go-sessions purged them on the second Start; here Start is idempotent within a request.
        var next = SetFlashRequest().NextRequest();
        _manager.Start(next).GetFlash("notice").Should().Be("saved");

        _manager.Start(next).GetFlash("notice").Should().Be("saved");
    }

    [Test]
    public void Flashes_AreNotInGetAllOrVisitAll_AndSurviveClear()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        session.Set("v", 1);
        session.SetFlash("f", 2);

        session.GetAll().Keys.Should().Equal("v");
        var visited = new List<string>();
        session.VisitAll((k, _) => visited.Add(k));
        visited.Should().Equal("v");
        session.Count.Should().Be(1);

        session.Clear();
        _manager.Start(request.NextRequest()).GetFlash("f").Should().Be(2);
    }

    [Test]
    public void Flashes_AreStoredWithTheSessionInTheDatabase_NotInProcessMemoryOnly_FixedDefect()
    {
        var request = SetFlashRequest();
        var id = _manager.Start(request).Id;

        var record = _manager.Database.LoadAsync(id, default).Result;

        record.Should().NotBeNull();
        record!.FlashCount.Should().Be(1);
        record.TryGetFlash("notice", out var value).Should().BeTrue();
        value.Should().Be("saved");
    }

    [Test]
    public void DeleteFlash_RemovesItAtOnce_EvenAfterItWasRead()
    {
        var next = SetFlashRequest().NextRequest();
        var session = _manager.Start(next);
        session.SetFlash("other", 1);
        session.GetFlash("notice");

        session.DeleteFlash("notice").Should().BeTrue();
        session.DeleteFlash("notice").Should().BeFalse();
        session.GetFlash("notice").Should().BeNull();
        session.DeleteFlash("other").Should().BeTrue();
        _manager.Start(next.NextRequest()).HasFlash().Should().BeFalse();
    }

    [Test]
    public void ClearFlashes_RemovesEveryFlashAtOnce_AndKeepsTheValues()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);
        session.Set("v", 1);
        session.SetFlash("a", 1);
        session.SetFlash("b", 2);
        session.GetFlash("a");

        session.ClearFlashes();

        session.HasFlash().Should().BeFalse();
        session.GetFlash("a").Should().BeNull();
        var next = _manager.Start(request.NextRequest());
        next.HasFlash().Should().BeFalse();
        next.Get("v").Should().Be(1);
    }

    [Test]
    public void ReadingAFlash_OnANewSession_DoesNotEstablishIt()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);

        session.GetFlash("x").Should().BeNull();
        session.PeekFlash("x").Should().BeNull();
        session.HasFlash().Should().BeFalse();
        session.GetFlashes().Should().BeEmpty();
        session.ClearFlashes();
        session.DeleteFlash("x").Should().BeFalse();

        session.IsNew.Should().BeTrue();
        request.Written.Should().BeEmpty();
    }

    [Test]
    public void SetFlash_OnANewSession_EstablishesIt()
    {
        var request = new TestCarrier();
        var session = _manager.Start(request);

        session.SetFlash("x", 1);

        session.IsNew.Should().BeFalse();
        request.Written.Should().ContainSingle();
    }
}
