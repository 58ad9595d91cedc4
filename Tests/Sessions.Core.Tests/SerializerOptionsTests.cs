using System.Text.Json;
using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary><see cref="SessionConfig.SerializerOptions"/>: the swappable serialiser (go-sessions' Transcoder).</summary>
public class SerializerOptionsTests
{
    /// <summary>Fields only: System.Text.Json's defaults write it as <c>{}</c>; <c>IncludeFields</c> keeps its data.</summary>
    public sealed class Point
    {
        public int X;
        public int Y;
    }

    private static readonly JsonSerializerOptions Fields = new() { IncludeFields = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    [Test]
    public async Task A_database_of_copies_stores_values_with_the_options_and_reads_them_back_without_type_names()
    {
        using var manager = NewManager(configure: c =>
        {
            c.Database = new CopyingMemoryDatabase();
            c.SerializerOptions = Fields;
        });
        var request = new TestCarrier();
        var session = await manager.StartAsync(request);
        session.Set("p", new Point { X = 5, Y = 7 });
        session.SetFlash("f", new Point { X = 1 });
        await session.CommitAsync();

        var next = await manager.StartAsync(request.NextRequest());
        var raw = next.Get("p").Should().BeOfType<JsonElement>("stored data names no type").Subject;
        raw.GetRawText().Should().Be("""{"x":5,"y":7}""");
        next.Get<Point>("p").Should().BeEquivalentTo(new Point { X = 5, Y = 7 }, o => o.IncludingFields());
        ((JsonElement)next.GetFlash("f")!).GetRawText().Should().Be("""{"x":1,"y":0}""");
    }

    [Test]
    public async Task Without_options_the_defaults_apply()
    {
        using var manager = NewManager(configure: c => c.Database = new CopyingMemoryDatabase());
        var request = new TestCarrier();
        var session = await manager.StartAsync(request);
        session.Set("p", new Point { X = 5 });
        await session.CommitAsync();

        var next = await manager.StartAsync(request.NextRequest());
        ((JsonElement)next.Get("p")!).GetRawText().Should().Be("{}", "System.Text.Json's defaults skip fields");
    }

    [Test]
    public void Immutable_snapshots_use_the_options()
    {
        using var manager = NewManager(configure: c => c.SerializerOptions = Fields);
        var session = manager.Start(new TestCarrier());
        var point = new Point { X = 3, Y = 4 };
        session.SetImmutable("p", point);
        point.X = 99;

        session.Get<Point>("p").Should().BeEquivalentTo(new Point { X = 3, Y = 4 }, o => o.IncludingFields());
        session.Get("p").Should().BeOfType<Point>().Which.X.Should().Be(3);
    }

    [Test]
    public void The_memory_payload_count_uses_the_options()
    {
        using var manager = NewManager(configure: c =>
        {
            c.SerializerOptions = Fields;
            c.MaxPayloadBytes = 32;
        });
        var session = manager.Start(new TestCarrier());
        var big = new Point { X = 1_000_000_000, Y = 1_000_000_000 };

        // "point" (5) + marker (1) + {"x":1000000000,"y":1000000000} (31): over 32 with the options, 8 bytes without.
        session.Invoking(s => s.Set("point", big)).Should().Throw<SessionLimitExceededException>("the fields count once the options write them");
    }
}
