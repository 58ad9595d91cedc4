namespace Sessions;

/// <content>
/// The user index: user → the IDs of the sessions signed in as that user. Every change to it happens under the session
/// record's lock (then the index's own), so a sign-in racing a destroy either lands before it (and is removed by it) or
/// sees the ended record and is refused: the index never names a session that is gone. Destroy, renew, destroy-all and the
/// sweep keep it exact, so it holds no more than the sessions stored.
/// </content>
public sealed partial class MemorySessionDatabase
{
    private readonly Dictionary<string, HashSet<string>> _users = new(StringComparer.Ordinal);

    /// <summary>The number of users with at least one indexed session.</summary>
    public int IndexedUsers
    {
        get
        {
            lock (_users)
                return _users.Count;
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UserSessionEntry>> ListUserSessionsAsync(string user, CancellationToken cancellationToken)
    {
        var entries = new List<UserSessionEntry>();
        foreach (var id in IdsOf(user, null))
        {
            if (!_records.TryGetValue(id, out var record))
                continue;
            lock (record)
            {
                if (!record.IsEnded && string.Equals(record.User, user, StringComparison.Ordinal))
                    entries.Add(new UserSessionEntry(SessionIds.HashText(id), record.SignedInAt ?? record.IdleDeadline, record.AbsoluteDeadline, record.IdleDeadline));
            }
        }
        return new(entries);
    }

    /// <inheritdoc />
    public async ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken)
    {
        foreach (var id in IdsOf(user, null))
        {
            if (string.Equals(SessionIds.HashText(id), handle, StringComparison.Ordinal))
                return await DestroyAsync(id, cancellationToken).ConfigureAwait(false);
        }
        return false;
    }

    /// <inheritdoc />
    public async ValueTask<int> DestroyUserSessionsAsync(string user, string? exceptHandle, CancellationToken cancellationToken)
    {
        var destroyed = 0;
        foreach (var id in IdsOf(user, exceptHandle))
        {
            if (await DestroyAsync(id, cancellationToken).ConfigureAwait(false))
                destroyed++;
        }
        return destroyed;
    }

    /// <summary>A snapshot of the IDs indexed under <paramref name="user"/>, but the one <paramref name="exceptHandle"/> names.</summary>
    private List<string> IdsOf(string user, string? exceptHandle)
    {
        var ids = new List<string>();
        lock (_users)
        {
            if (_users.TryGetValue(user, out var set))
                ids.AddRange(set);
        }
        if (exceptHandle is not null)
            ids.RemoveAll(id => string.Equals(SessionIds.HashText(id), exceptHandle, StringComparison.Ordinal));
        return ids;
    }

    /// <summary>Applies a sign-in to the stored record and moves its index entry; <see langword="false"/> when the session has ended.</summary>
    private bool Bind(string id, SessionRecord stored, SessionRecord record, SessionChanges changes)
    {
        lock (stored)
        {
            if (stored.IsEnded)
                return false;
            if (!ReferenceEquals(stored, record))
                changes.ApplyTo(stored);
            if (!string.Equals(changes.PreviousUser, changes.User, StringComparison.Ordinal))
                Unindex(changes.PreviousUser, id);
            Index(changes.User, id);
            return true;
        }
    }

    private void Index(string? user, string id)
    {
        if (user is null)
            return;
        lock (_users)
        {
            if (!_users.TryGetValue(user, out var set))
                _users.Add(user, set = new HashSet<string>(StringComparer.Ordinal));
            set.Add(id);
        }
    }

    private void Unindex(string? user, string id)
    {
        if (user is null)
            return;
        lock (_users)
        {
            if (_users.TryGetValue(user, out var set) && set.Remove(id) && set.Count == 0)
                _users.Remove(user);
        }
    }

    private void MoveIndexed(string? user, string id, string newId)
    {
        if (user is null)
            return;
        lock (_users)
        {
            Unindex(user, id);
            Index(user, newId);
        }
    }
}
