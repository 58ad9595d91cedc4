namespace Sessions;

/// <summary>
/// The flashes a request has read (consumed): gone from the session for the next request, still readable in this one.
/// Allocated on the first read of a flash only.
/// </summary>
internal sealed class ConsumedFlashes
{
    private KeyValuePair<string, object?>[] _items = new KeyValuePair<string, object?>[4];

    public int Count { get; private set; }

    public void Add(string key, object? value)
    {
        Remove(key);
        if (Count == _items.Length)
            Array.Resize(ref _items, Count * 2);
        _items[Count++] = new KeyValuePair<string, object?>(key, value);
    }

    public bool TryGet(string key, out object? value)
    {
        var index = IndexOf(key);
        value = index < 0 ? null : _items[index].Value;
        return index >= 0;
    }

    public bool Remove(string key)
    {
        var index = IndexOf(key);
        if (index < 0)
            return false;
        Array.Copy(_items, index + 1, _items, index, Count - index - 1);
        _items[--Count] = default;
        return true;
    }

    public void CopyTo(Dictionary<string, object?> target)
    {
        for (var i = 0; i < Count; i++)
            target[_items[i].Key] = _items[i].Value;
    }

    private int IndexOf(string key)
    {
        for (var i = 0; i < Count; i++)
        {
            if (string.Equals(_items[i].Key, key, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }
}
