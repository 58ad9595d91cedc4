namespace Sessions;

/// <summary>
/// The key a database names a session by (<see cref="SessionIds.HashText(string, string, string)"/> of its ID between a
/// fixed prefix and suffix), remembered for recently named IDs. A session is named on every request, and the SHA-256
/// behind its key, through the operating system's crypto library, costs about a microsecond of CPU under load: more than
/// everything else the core does for a write-only request.
/// </summary>
/// <remarks>
/// A fixed number of slots; an ID's slot is chosen by its string hash (randomized per process), and holds the last ID
/// named there with its key, so a colliding ID replaces it and memory stays bounded. IDs are compared in constant time: how
/// long a lookup takes says nothing about the IDs held. The slots keep up to <see cref="Slots"/> recent IDs in memory
/// after their requests end, as a memory database keeps every ID. Thread-safe: a slot holds one immutable entry, replaced whole.
/// </remarks>
internal sealed class SessionKeyCache(string prefix, string suffix)
{
    /// <summary>The number of slots (a power of two).</summary>
    public const int Slots = 1024;

    private readonly Entry?[] _entries = new Entry?[Slots];

    /// <summary>The key of <paramref name="id"/>: <see cref="SessionIds.HashText(string, string, string)"/> with this cache's prefix and suffix.</summary>
    public string KeyOf(string id)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        ref var slot = ref _entries[id.GetHashCode() & (Slots - 1)];
        var entry = Volatile.Read(ref slot);
        if (entry is not null && SameId(entry.Id, id))
            return entry.Key;
        var key = SessionIds.HashText(id, prefix, suffix);
        Volatile.Write(ref slot, new Entry(id, key));
        return key;
    }

    /// <summary>Ordinal equality in time that depends only on the length.</summary>
    private static bool SameId(string held, string id)
    {
        if (held.Length != id.Length)
            return false;
        var difference = 0;
        for (var i = 0; i < id.Length; i++)
            difference |= held[i] ^ id[i];
        return difference == 0;
    }

    private sealed class Entry(string id, string key)
    {
        public string Id { get; } = id;

        public string Key { get; } = key;
    }
}
