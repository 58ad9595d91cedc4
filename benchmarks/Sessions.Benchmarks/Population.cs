namespace Sessions.Benchmarks;

/// <summary>Fills a database with empty stored sessions, the way first writes create them.</summary>
internal static class Population
{
    public static string[] Fill(ISessionDatabase database, int count, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var ids = new string[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = SessionIds.NewId();
            var record = new SessionRecord(now.AddHours(2), now.AddMinutes(30));
            database.CommitAsync(ids[i], record, SessionChanges.CreateFrom(record), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        return ids;
    }
}
