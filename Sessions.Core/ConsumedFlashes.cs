namespace Sessions;

/// <summary>
/// The flashes a request has read (consumed): gone from the session for the next request, still readable in this one.
/// Allocated on the first read of a flash only; indexed like a record (see <see cref="OrderedEntries{T}"/>), so reading
/// N flashes is O(N).
/// </summary>
internal sealed class ConsumedFlashes
{
    private OrderedEntries<object?> _items;

    public int Count => _items.Count;

    /// <summary>Adds a consumed flash; one read again after being set again goes last.</summary>
    public void Add(string key, object? value)
    {
        _items.Remove(key, out _);
        _items.Put(key, value, 0);
    }

    public bool TryGet(string key, out object? value) => _items.TryGet(key, out value);

    public bool Remove(string key) => _items.Remove(key, out _);

    public void CopyTo(Dictionary<string, object?> target)
    {
        foreach (var item in _items.AsSpan())
            target[item.Key] = item.Value;
    }
}
