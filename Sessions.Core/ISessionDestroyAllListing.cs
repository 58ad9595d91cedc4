namespace Sessions;

/// <summary>
/// A database that keeps session IDs as they are (the memory database) and so can name the sessions
/// <see cref="SessionManager.DestroyAllAsync"/> ends: the manager then raises one <see cref="SessionManager.Destroyed"/>
/// per session. A database that stores only a hash of each ID (Redis, SQLite: so that what it holds is never a usable
/// ID) cannot name them, and does not implement it; the manager raises one event without an ID instead.
/// </summary>
public interface ISessionDestroyAllListing
{
    /// <summary>Deletes every session, as <see cref="ISessionDatabase.DestroyAllAsync"/> does, and returns the IDs of those this call deleted.</summary>
    ValueTask<IReadOnlyList<string>> DestroyAllListedAsync(CancellationToken cancellationToken);
}
