using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>64-bit counters that never wrap, and integer reads that never lose a wide value silently.</summary>
public class CounterTests
{
    [Test]
    public void Counters_grow_past_the_range_of_int()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("c", int.MaxValue);

        session.Increment("c").Should().Be(int.MaxValue + 1L);
        session.Increment("c", 10_000_000_000L).Should().Be(int.MaxValue + 10_000_000_001L);
        session.Decrement("c", 10_000_000_000L).Should().Be(int.MaxValue + 1L);
        session.GetInt64("c").Should().Be(int.MaxValue + 1L);
    }

    [TestCase(long.MaxValue, 1L, false)]
    [TestCase(long.MinValue, 1L, true)]
    [TestCase(0L, long.MinValue, true)]
    public void A_counter_past_the_range_of_long_throws_naming_the_key_and_keeps_its_value(long start, long n, bool decrement)
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("visits", start);

        var act = () => decrement ? session.Decrement("visits", n) : session.Increment("visits", n);

        act.Should().Throw<OverflowException>().WithMessage("*'visits'*");
        session.GetInt64("visits").Should().Be(start);
    }

    [Test]
    public void GetInt32_on_a_wide_counter_throws_naming_the_key_and_GetInt64_rather_than_reading_0_or_the_default()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("c", (long)int.MaxValue + 1);

        session.Invoking(s => s.GetInt32("c")).Should().Throw<SessionValueConversionException>()
            .Where(e => e.Key == "c").WithMessage("*'c'*GetInt64*");
        session.Invoking(s => s.GetInt32("c", 0)).Should().Throw<SessionValueConversionException>().WithMessage("*GetInt64*");
        session.Invoking(s => s.Get<int>("c")).Should().Throw<SessionValueConversionException>().WithMessage("*GetInt64*");
        session.GetInt64("c").Should().Be((long)int.MaxValue + 1);
        session.GetInt32("missing", 5).Should().Be(5, "a missing key still reads as the default");
    }

    [Test]
    public void Integral_text_too_wide_for_int_is_reported_as_such()
    {
        using var manager = NewManager();
        var session = manager.Start(new TestCarrier());
        session.Set("count", "99999999999");

        session.Invoking(s => s.GetInt32("count")).Should().Throw<SessionValueConversionException>()
            .Where(e => e.Key == "count" && e.TargetType == typeof(int)).WithMessage("*'count'*GetInt64*");
        session.Invoking(s => s.GetInt32("count", -1)).Should().Throw<SessionValueConversionException>();
        session.GetInt64("count").Should().Be(99_999_999_999L);
    }

    [Test]
    public async Task A_wide_counter_survives_a_database_of_copies()
    {
        using var manager = NewManager(configure: c => c.Database = new CopyingMemoryDatabase());
        var request = new TestCarrier();
        var session = await manager.StartAsync(request);
        session.Increment("c", long.MaxValue - 1);
        await session.CommitAsync();

        var next = await manager.StartAsync(request.NextRequest());
        next.Increment("c").Should().Be(long.MaxValue);
        next.Invoking(s => s.Increment("c")).Should().Throw<OverflowException>();
    }
}
