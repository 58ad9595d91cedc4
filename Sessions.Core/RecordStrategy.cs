namespace Sessions;

/// <summary>
/// How a request's session reaches its database, chosen once per database (<see cref="ISessionDatabase.SharesRecords"/>):
/// <see cref="Live"/> records are shared by every request of a session, so a write is stored as it happens; <see cref="Copied"/>
/// records are private to the request, which collects its writes in a <see cref="SessionChanges"/> and commits them once,
/// before the response starts.
/// </summary>
internal abstract class RecordStrategy
{
    public static readonly RecordStrategy Live = new LiveRecords();
    public static readonly RecordStrategy Copied = new CopiedRecords();

    public static RecordStrategy For(ISessionDatabase database) => database.SharesRecords ? Live : Copied;

    /// <summary>Whether writes are collected for a commit (else they are already stored).</summary>
    public abstract bool TracksChanges { get; }

    /// <summary>How far the idle deadline must have moved before a request writes it.</summary>
    public abstract TimeSpan RefreshGranularity(TimeSpan idleTimeout);

    /// <summary>Called once when a request's session is started.</summary>
    public abstract void Started(Session session, ICookieCarrier carrier);

    /// <summary>The first write of a new session: stores it now (live) or marks the change set as its creation (copies).</summary>
    public abstract void Establish(SessionManager manager, ICookieCarrier carrier, string id, SessionRecord record, SessionChanges? changes);

    private sealed class LiveRecords : RecordStrategy
    {
        public override bool TracksChanges => false;

        // Refreshing a shared record is one field write: done on every use.
        public override TimeSpan RefreshGranularity(TimeSpan idleTimeout) => TimeSpan.Zero;

        public override void Started(Session session, ICookieCarrier carrier)
        {
        }

        public override void Establish(SessionManager manager, ICookieCarrier carrier, string id, SessionRecord record, SessionChanges? changes) =>
            manager.StoreNew(carrier, id, record);
    }

    private sealed class CopiedRecords : RecordStrategy
    {
        // Not tied to the request's abort: a client that went away after sending its request still has its changes kept
        // (the commit is one atomic call, bounded by the database's timeout, and abandoning the wait would not undo it).
        private static readonly Func<object, ValueTask> Commit = static state => ((Session)state).CommitAsync(CancellationToken.None);

        public override bool TracksChanges => true;

        // A read-only request writes the idle deadline only once a tenth of the idle window has passed.
        public override TimeSpan RefreshGranularity(TimeSpan idleTimeout) => TimeSpan.FromTicks(idleTimeout.Ticks / 10);

        public override void Started(Session session, ICookieCarrier carrier) => carrier.OnResponseStarting(Commit, session);

        public override void Establish(SessionManager manager, ICookieCarrier carrier, string id, SessionRecord record, SessionChanges? changes)
        {
            // The commit creates the session (its deadlines start then) and only then writes its cookie: a cookie never
            // names a session the database refused.
            changes!.IsNew = true;
        }
    }
}
