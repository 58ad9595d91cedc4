using System.Collections.Concurrent;

namespace Sessions.Redis.Tests;

/// <summary>
/// Passes every call on to a real database and records what each commit returned, which <see cref="Session.CommitAsync"/>
/// does not tell its caller (a commit of an existing session that finds it gone writes nothing and returns false).
/// </summary>
internal sealed class RecordingDatabase(ISessionDatabase inner) : ISessionDatabase
{
    /// <summary>Every commit that returned, in order: the ID, the change set and what the database answered.</summary>
    public ConcurrentQueue<(string Id, SessionChanges Changes, bool Stored)> Commits { get; } = new();

    public bool SharesRecords => inner.SharesRecords;

    public bool CompletesSynchronously => inner.CompletesSynchronously;

    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken) => inner.LoadAsync(id, cancellationToken);

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
