namespace Sessions.Benchmarks;

/// <summary>Managed memory per empty stored session in the memory database (goal: at most 400 bytes at 10⁶).</summary>
internal static class MemoryPerSession
{
    public static void Report(int count)
    {
        using var database = new MemorySessionDatabase(maxSessions: count);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var ids = Population.Fill(database, count, TimeProvider.System);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(ids);
        // The ID strings are the database's keys: they count, the array holding them here does not.
        var perSession = (after - before - (long)IntPtr.Size * count - 24) / (double)count;
        Console.WriteLine($"memory: {perSession:F0} bytes per empty session at {count:N0} sessions (database count {database.Count:N0})");
    }
}
