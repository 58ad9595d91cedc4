namespace Sessions.Samples;

/// <summary>The sample's session manager on the database <c>--store</c> names; disposing it closes both.</summary>
internal sealed class SampleStore : IDisposable
{
    private readonly IDisposable? _database;

    private SampleStore(SessionManager sessions, IDisposable? database)
    {
        Sessions = sessions;
        _database = database;
    }

    public SessionManager Sessions { get; }

    public static SampleStore Open(SampleOptions options)
    {
        var database = options.CreateDatabase();
        var sessions = new SessionManager(new SessionConfig { Cookie = "sid", Database = database, Transport = options.Transport, MaxSessionsPerUser = options.MaxSessionsPerUser, Expires = options.Expires });
        options.PrintEvents(sessions);
        return new SampleStore(sessions, database as IDisposable);
    }

    public void Dispose()
    {
        Sessions.Dispose();
        _database?.Dispose();
    }
}
