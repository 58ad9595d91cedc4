namespace Sessions.Sqlite;

/// <summary>How <see cref="SqliteSessionDatabase"/> writes to disk, uses connections and purges expired ones.</summary>
public sealed class SqliteSessionDatabaseOptions
{
    /// <summary>
    /// When a commit is acknowledged. <see cref="SqliteSynchronousMode.Full"/> (the default) syncs every commit to disk, so an
    /// acknowledged commit, a logout included, survives a power loss; <see cref="SqliteSynchronousMode.Normal"/> is faster and
    /// survives process crashes, but the last commits may roll back after a power loss (a logout undone).
    /// </summary>
    public SqliteSynchronousMode Synchronous { get; set; } = SqliteSynchronousMode.Full;

    /// <summary>How often expired sessions are purged (default one minute).</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most sessions one purge transaction deletes, so a purge never holds the write lock for long (default 500).</summary>
    public int PurgeBatchSize { get; set; } = 500;

    /// <summary>
    /// How long an operation waits for a lock held inside SQLite (another connection to the file) before it fails with
    /// <see cref="SessionDatabaseException"/> (default 5 seconds); never longer than what is left of <see cref="OperationTimeout"/>.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest one operation (a load, commit, renew, destroy, deadline update, destroy all, count or purge batch) may
    /// wait, for the in-process write queue, a free connection and SQLite's file locks together, before it fails with
    /// <see cref="SessionDatabaseException"/> naming this setting (default 5 seconds, at most 5 minutes). A write that times
    /// out wrote nothing: the time is checked only until its transaction has begun, and a begun transaction (which waits for
    /// no lock) runs to its end. A caller's cancellation ends the wait at once with <see cref="OperationCanceledException"/>.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most connections open at once; loads run in parallel on them, commits one at a time (default 4).</summary>
    public int MaxConnections { get; set; } = 4;

    /// <summary>
    /// Whether opening runs SQLite's <c>quick_check</c> over the whole file, so a damaged file fails at start-up rather than
    /// in a request (default <see langword="true"/>; it reads every page, so turn it off for very large files).
    /// </summary>
    public bool CheckIntegrityOnOpen { get; set; } = true;

    /// <summary>
    /// How long a commit group waits for more commits before its transaction begins (default zero). Concurrent commits are
    /// grouped anyway (those queued while a group syncs form the next group, acknowledged after one sync); a delay is waited
    /// only while commits arrive concurrently (the last group held several), never by a lone commit. At most one second.
    /// </summary>
    public TimeSpan GroupCommitDelay { get; set; } = TimeSpan.Zero;

    internal void Validate()
    {
        if (GroupCommitDelay < TimeSpan.Zero || GroupCommitDelay > TimeSpan.FromSeconds(1))
            throw Invalid(nameof(GroupCommitDelay), $"{GroupCommitDelay} must be between zero and one second.");
        if (!Enum.IsDefined(typeof(SqliteSynchronousMode), Synchronous))
            throw Invalid(nameof(Synchronous), $"{Synchronous} is not a SqliteSynchronousMode.");
        if (PurgeInterval <= TimeSpan.Zero)
            throw Invalid(nameof(PurgeInterval), $"{PurgeInterval} must be positive.");
        if (PurgeBatchSize <= 0)
            throw Invalid(nameof(PurgeBatchSize), $"{PurgeBatchSize} must be positive.");
        if (BusyTimeout < TimeSpan.FromSeconds(1))
            throw Invalid(nameof(BusyTimeout), $"{BusyTimeout} must be at least one second.");
        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(5))
            throw Invalid(nameof(OperationTimeout), $"{OperationTimeout} must be positive and at most 5 minutes.");
        if (MaxConnections <= 0)
            throw Invalid(nameof(MaxConnections), $"{MaxConnections} must be positive.");
    }

    private static ArgumentException Invalid(string field, string reason) =>
        new($"SqliteSessionDatabaseOptions.{field} is invalid: {reason}", field);
}

/// <summary>SQLite's <c>synchronous</c> setting, in WAL mode.</summary>
public enum SqliteSynchronousMode
{
    /// <summary>Every commit is synced to disk before it is acknowledged: durable across power loss.</summary>
    Full,

    /// <summary>The WAL is synced at checkpoints only: durable across process crashes, consistent but not durable across power loss.</summary>
    Normal,
}
