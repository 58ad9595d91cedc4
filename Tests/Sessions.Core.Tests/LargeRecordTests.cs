using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// A record stuffed with thousands of values or flashes (a client that made a route store many keys, or a database
/// handing back such a session): lookups are indexed, and insertion order holds through replaces, removes and re-adds.
/// How fast is measured in benchmarks/ (RecordBuildBenchmarks); these tests hold the behaviour at 10⁴ items.
/// </summary>
public class LargeRecordTests
{
    private const int Items = 10_000;

    [Test]
    public void ManyFieldsRecord_KeepsInsertionOrder_ThroughReplaceRemoveAndReAdd()
    {
        var record = new SessionRecord(null, Epoch);
        var expected = new List<string>();
        for (var i = 0; i < Items; i++)
        {
            record.SetValue("v" + i, new SessionValue(i, false));
            record.SetFlash("f" + i, i);
            expected.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        for (var i = 0; i < Items; i += 3)
        {
            record.SetValue("v" + i, new SessionValue(-i, false)); // replaced: keeps its place
            record.SetFlash("f" + i, -i);
        }
        for (var i = 0; i < Items; i += 5)
        {
            record.RemoveValue("v" + i).Should().BeTrue();
            record.RemoveFlash("f" + i).Should().BeTrue();
            record.RemoveValue("v" + i).Should().BeFalse();
            expected.Remove(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        for (var i = 0; i < Items; i += 10)
        {
            record.SetValue("v" + i, new SessionValue(i, false)); // re-added: goes last
            record.SetFlash("f" + i, i);
            expected.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        record.Count.Should().Be(expected.Count);
        record.FlashCount.Should().Be(expected.Count);
        record.Values.ToArray().Select(v => v.Key).Should().Equal(expected.Select(k => "v" + k));
        record.Flashes.ToArray().Select(f => f.Key).Should().Equal(expected.Select(k => "f" + k));
        for (var i = 0; i < Items; i++)
        {
            var present = i % 5 != 0 || i % 10 == 0;
            var value = i % 3 == 0 && i % 5 != 0 ? -i : i;
            record.TryGetValue("v" + i, out var stored).Should().Be(present, "v{0}", i);
            record.TryGetFlash("f" + i, out var flash).Should().Be(present, "f{0}", i);
            if (present)
            {
                stored.Value.Should().Be(value);
                flash.Should().Be(value);
            }
        }
    }

    [Test]
    public void ManyFieldsRecord_RemovedFrontToBack_EndsEmpty_AndAcceptsNewItems()
    {
        var record = new SessionRecord(null, Epoch);
        for (var i = 0; i < Items; i++)
            record.SetFlash("f" + i, i);

        for (var i = 0; i < Items; i++)
        {
            record.TryGetFlash("f" + i, out var value).Should().BeTrue();
            value.Should().Be(i);
            record.RemoveFlash("f" + i).Should().BeTrue();
        }

        record.FlashCount.Should().Be(0);
        record.Flashes.Length.Should().Be(0);
        record.SetFlash("again", 1);
        record.Flashes.ToArray().Select(f => f.Key).Should().Equal("again");
        record.Copy().Flashes.ToArray().Select(f => f.Key).Should().Equal("again");
    }

    [Test]
    public async Task ManyFieldsSession_OnACopyingDatabase_CommitsAndReloadsInOrder()
    {
        var clock = NewClock();
        var database = new CopyingMemoryDatabase();
        using var manager = NewManager(clock, c =>
        {
            c.Database = database;
            c.MaxKeys = 3 * Items;
            c.MaxPayloadBytes = int.MaxValue;
        });
        var carrier = new TestCarrier();
        var session = await manager.StartAsync(carrier);
        for (var i = 0; i < Items; i++)
        {
            session.Set("v" + i, i);
            session.SetFlash("f" + i, i);
        }
        for (var i = 0; i < Items; i += 2)
        {
            session.Delete("v" + i).Should().BeTrue();
            session.DeleteFlash("f" + i).Should().BeTrue();
        }
        for (var i = 0; i < Items; i += 4)
            session.Set("v" + i, -i); // deleted and set again in one request: goes last
        await session.CommitAsync();

        var expected = Enumerable.Range(0, Items).Where(i => i % 2 == 1).Concat(Enumerable.Range(0, Items).Where(i => i % 4 == 0)).Select(i => "v" + i);
        var next = await manager.StartAsync(carrier.NextRequest());
        next.GetAll().Keys.Should().Equal(expected);
        next.GetInt32("v4").Should().Be(-4);
        var flashes = next.GetFlashes(); // consumes every flash, one by one
        flashes.Should().HaveCount(Items / 2);
        await next.CommitAsync();

        var after = await manager.StartAsync(carrier.NextRequest());
        after.HasFlash().Should().BeFalse();
        after.Count.Should().Be(Items / 2 + Items / 4);
    }
}
