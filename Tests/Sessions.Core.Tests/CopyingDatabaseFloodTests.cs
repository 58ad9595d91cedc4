using Sessions.Testing;
using static Sessions.Core.Tests.TestSupport;

namespace Sessions.Core.Tests;

/// <summary>
/// The same flood on a database that stores copies (<see cref="CopyingMemoryDatabase"/>, bounded like a store with a
/// quota): the refusal comes at the commit, before the cookie, so a refused request gets no cookie and stores nothing.
/// </summary>
public class CopyingDatabaseFloodTests
{
    [Test]
    public async Task SessionFlood_OfCookielessFirstWrites_StaysWithinTheBound_RefusesOnlyNewSessions_AndDrainsAfterExpiry()
    {
        const int bound = 1_000;
        const int requests = 100_000;
        var clock = NewClock();
        var database = new CopyingMemoryDatabase(maxSessions: bound, timeProvider: clock);
        using var manager = NewManager(clock, c => c.Database = database);
        var accepted = new List<TestCarrier>();
        var refused = 0;
        var refusedWithCookie = 0;

        for (var i = 0; i < requests; i++)
        {
            var request = new TestCarrier();
            var session = await manager.StartAsync(request);
            session.Increment("counter");
            try
            {
                await session.CommitAsync();
                accepted.Add(request);
            }
            catch (SessionLimitExceededException)
            {
                refused++;
                if (request.Written.Count > 0)
                    refusedWithCookie++;
            }
        }

        accepted.Should().HaveCount(bound);
        refused.Should().Be(requests - bound);
        refusedWithCookie.Should().Be(0);
        database.Count.Should().Be(bound);

        var existing = await manager.StartAsync(accepted[0].NextRequest());
        existing.IsNew.Should().BeFalse();
        existing.Increment("counter").Should().Be(2);
        existing.Set("more", "a new key of an existing session");
        await existing.CommitAsync();
        (await manager.StartAsync(accepted[0].NextRequest())).GetInt32("counter").Should().Be(2);

        clock.Advance(new SessionConfig().IdleTimeout + TimeSpan.FromMinutes(1));
        database.Sweep().Should().Be(bound);
        database.Count.Should().Be(0);
        var fresh = await manager.StartAsync(new TestCarrier());
        fresh.Set("counter", 1);
        await fresh.CommitAsync();
        database.Count.Should().Be(1);
    }
}
