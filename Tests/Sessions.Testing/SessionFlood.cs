using System.Diagnostics;

namespace Sessions.Testing;

/// <summary>
/// A flood of cookieless first writes (one new session each) through a manager, as the databases' flood tests run it:
/// a warm-up whose sessions are destroyed again, a managed-memory baseline after a full GC, then the flood.
/// </summary>
public static class SessionFlood
{
    /// <summary>What the flood did: accepted requests, those whose one cookie named their session, every 1,000th ID, managed memory growth and time.</summary>
    public sealed record Result(int Accepted, int WithCookie, string?[] Sample, long Growth, TimeSpan Elapsed);

    /// <summary>Warms up (JIT, connections, scripts or statements), destroys the warm-up sessions, then runs <paramref name="requests"/> first writes, <paramref name="concurrency"/> at a time.</summary>
    public static async Task<Result> RunAsync(SessionManager manager, ISessionDatabase database, int requests, int concurrency)
    {
        for (var i = 0; i < 100; i++)
            await FirstWriteAsync(manager, i);
        await database.DestroyAllAsync(CancellationToken.None);
        var baseline = ManagedMemoryAfterFullGc();
        var elapsed = Stopwatch.StartNew();

        var sample = new string?[requests / 1_000];
        var accepted = 0;
        var withCookie = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
        {
            var (id, cookie) = await FirstWriteAsync(manager, i);
            Interlocked.Increment(ref accepted);
            if (cookie == id)
                Interlocked.Increment(ref withCookie);
            if (i % 1_000 == 0)
                sample[i / 1_000] = id;
        });

        var flood = elapsed.Elapsed;
        var growth = ManagedMemoryAfterFullGc() - baseline;
        TestContext.Out.WriteLine($"{requests} first writes in {flood.TotalSeconds:0.0} s; managed memory grew by {growth / 1024.0 / 1024.0:0.00} MB.");
        return new Result(accepted, withCookie, sample, growth, flood);
    }

    /// <summary>One cookieless request that sets <c>n</c> = <paramref name="i"/> and commits: its session ID and the cookie value it was sent (<see langword="null"/> unless exactly one session cookie).</summary>
    public static async Task<(string Id, string? Cookie)> FirstWriteAsync(SessionManager manager, int i)
    {
        var request = new TestCarrier(); // no cookie: every request is a first visit
        var session = await manager.StartAsync(request);
        session.Set("n", i);
        await session.CommitAsync();
        return (session.Id, request.Written.Count == 1 && request.Written[0].Name == SessionConfig.DefaultCookieName ? request.Written[0].Value : null);
    }

    /// <summary>Managed memory after a full, finalised collection.</summary>
    public static long ManagedMemoryAfterFullGc()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(true);
    }
}
