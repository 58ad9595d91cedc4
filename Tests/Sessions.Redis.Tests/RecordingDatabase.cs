using System.Collections.Concurrent;

namespace Sessions.Redis.Tests;

/// <summary>
/// Passes every call on to a real database and records what each commit returned, which <see cref="Session.CommitAsync"/>
/// does not tell its caller (a commit of an existing session that finds it gone writes nothing and returns false), and
/// counts the loads of each kind.
/// </summary>
internal sealed class RecordingDatabase(ISessionDatabase inner) : ISessionDatabase, ISessionBatchLoader
{
    private int _loads;
    private int _batchLoads;

    /// <summary>The number of <see cref="LoadAsync"/> calls.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>The number of <see cref="LoadManyAsync"/> calls.</summary>
    public int BatchLoads => Volatile.Read(ref _batchLoads);

    /// <summary>Every commit that returned, in order: the ID, the change set and what the database answered.</summary>
    public ConcurrentQueue<(string Id, SessionChanges Changes, bool Stored)> Commits { get; } = new();

    public bool SharesRecords => inner.SharesRecords;

    public bool CompletesSynchronously => inner.CompletesSynchronously;

    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        return inner.LoadAsync(id, cancellationToken);
    }

    public ValueTask<SessionRecord?[]> LoadManyAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _batchLoads);
        return ((ISessionBatchLoader)inner).LoadManyAsync(ids, cancellationToken);
    }

    public async ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        var stored = await inner.CommitAsync(id, record, changes, cancellationToken);
        Commits.Enqueue((id, changes, stored));
        return stored;
    }

    public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
        inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

    public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => inner.RenewAsync(id, newId, cancellationToken);

    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken) => inner.DestroyAsync(id, cancellationToken);

    public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => inner.DestroyAllAsync(cancellationToken);
}
