namespace Sessions;

/// <summary>
/// Keyed items in insertion order (the values or the flashes of a <see cref="SessionRecord"/>). Up to
/// <see cref="IndexThreshold"/> slots a lookup is a scan of a small array (no index, nothing allocated to read); past it a
/// dictionary maps each key to its slot, so building or emptying a record of N items is O(N), not O(N²).
/// </summary>
/// <remarks>
/// Without an index a removal shifts the later items down at once. With one, a removal leaves an empty slot (no shift, no
/// index rewrite); the slots are compacted, and the index rebuilt, when empty slots outnumber the items or before the items
/// are handed out as a span, so insertion order is kept either way. Each slot may carry the payload bytes it counts (see
/// <see cref="SessionRecord.PayloadBytes"/>); the array for them exists once a nonzero size is put. Not thread-safe.
/// </remarks>
internal struct OrderedEntries<T>
{
    /// <summary>The most slots scanned without an index.</summary>
    public const int IndexThreshold = 8;

    private KeyValuePair<string, T>[]? _items;
    private int _used; // slots in use, empty ones (removed items, indexed mode only) included
    private int _count;
    private Dictionary<string, int>? _index;
    private int[]? _sizes;

    /// <summary>The number of items.</summary>
    public readonly int Count => _count;

    /// <summary>The items in insertion order (compacts first when removals left empty slots).</summary>
    public ReadOnlySpan<KeyValuePair<string, T>> AsSpan()
    {
        if (_used != _count)
            Compact();
        return _items is null ? default : _items.AsSpan(0, _count);
    }

    /// <summary>The items in insertion order as a list over the slots themselves (valid until the next change).</summary>
    public ArraySegment<KeyValuePair<string, T>> AsSegment()
    {
        if (_used != _count)
            Compact();
        return _items is null ? new ArraySegment<KeyValuePair<string, T>>([]) : new ArraySegment<KeyValuePair<string, T>>(_items, 0, _count);
    }

    /// <summary>Reads an item.</summary>
    public readonly bool TryGet(string key, out T value)
    {
        var index = IndexOf(key);
        value = index < 0 ? default! : _items![index].Value;
        return index >= 0;
    }

    /// <summary>The payload bytes put with <paramref name="key"/> (0 when missing or not counted).</summary>
    public readonly int SizeOf(string key)
    {
        var index = IndexOf(key);
        return index < 0 || _sizes is null ? 0 : _sizes[index];
    }

    /// <summary>Adds or replaces an item (a new key goes last, a replaced one keeps its place); returns the change in counted bytes.</summary>
    public long Put(string key, T value, int size)
    {
        var index = IndexOf(key);
        if (index >= 0)
        {
            _items![index] = new KeyValuePair<string, T>(key, value);
            return SetSize(index, size);
        }
        if (_items is null || _used == _items.Length)
        {
            if (_used - _count > _count)
                Compact(); // mostly empty slots: reuse them rather than grow
            if (_items is null || _used == _items.Length)
                Grow();
        }
        index = _used++;
        _items![index] = new KeyValuePair<string, T>(key, value);
        _count++;
        if (_index is not null)
            _index.Add(key, index);
        else if (_used > IndexThreshold)
            BuildIndex();
        return SetSize(index, size);
    }

    /// <summary>Removes an item; returns whether it existed and the change in counted bytes.</summary>
    public bool Remove(string key, out long sizeDelta)
    {
        var index = IndexOf(key);
        sizeDelta = 0;
        if (index < 0)
            return false;
        sizeDelta = SetSize(index, 0);
        _count--;
        if (_index is null)
        {
            Array.Copy(_items!, index + 1, _items!, index, _used - index - 1);
            if (_sizes is not null)
                Array.Copy(_sizes, index + 1, _sizes, index, _used - index - 1);
            _items![--_used] = default;
            if (_sizes is not null)
                _sizes[_used] = 0;
            return true;
        }
        _index.Remove(key);
        _items![index] = default;
        while (_used > 0 && _items[_used - 1].Key is null)
            _used--; // trailing empty slots are simply free again
        if (_used - _count > Math.Max(_count, IndexThreshold))
            Compact();
        return true;
    }

    /// <summary>Removes every item; returns the counted bytes they held.</summary>
    public long Clear()
    {
        long bytes = 0;
        if (_items is not null)
            Array.Clear(_items, 0, _used);
        if (_sizes is not null)
        {
            for (var i = 0; i < _used; i++)
                bytes += _sizes[i];
            Array.Clear(_sizes, 0, _used);
        }
        _used = 0;
        _count = 0;
        _index = null;
        return bytes;
    }

    /// <summary>An independent copy (items, order and counted bytes).</summary>
    public OrderedEntries<T> Copy()
    {
        var copy = new OrderedEntries<T>();
        var items = AsSpan();
        if (items.Length == 0)
            return copy;
        copy._items = items.ToArray();
        copy._used = copy._count = items.Length;
        if (_sizes is not null)
            copy._sizes = _sizes.AsSpan(0, items.Length).ToArray();
        if (copy._used > IndexThreshold)
            copy.BuildIndex();
        return copy;
    }

    private readonly int IndexOf(string key)
    {
        if (key is null)
            return -1;
        if (_index is not null)
            return _index.TryGetValue(key, out var slot) ? slot : -1;
        for (var i = 0; i < _used; i++)
        {
            if (string.Equals(_items![i].Key, key, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    private long SetSize(int index, int size)
    {
        if (_sizes is null)
        {
            if (size == 0)
                return 0;
            _sizes = new int[_items!.Length];
        }
        var delta = (long)size - _sizes[index];
        _sizes[index] = size;
        return delta;
    }

    private void Grow()
    {
        var length = Math.Max(4, (_items?.Length ?? 0) * 2);
        Array.Resize(ref _items, length);
        if (_sizes is not null)
            Array.Resize(ref _sizes, length);
    }

    private void Compact()
    {
        var items = _items!;
        var kept = 0;
        for (var i = 0; i < _used; i++)
        {
            if (items[i].Key is null)
                continue;
            items[kept] = items[i];
            if (_sizes is not null)
                _sizes[kept] = _sizes[i];
            kept++;
        }
        Array.Clear(items, kept, _used - kept);
        if (_sizes is not null)
            Array.Clear(_sizes, kept, _used - kept);
        _used = kept;
        if (_index is not null)
            BuildIndex();
    }

    private void BuildIndex()
    {
        if (_index is null)
            _index = new Dictionary<string, int>(_used * 2, StringComparer.Ordinal);
        else
            _index.Clear();
        for (var i = 0; i < _used; i++)
        {
            if (_items![i].Key is { } key)
                _index[key] = i;
        }
    }
}
