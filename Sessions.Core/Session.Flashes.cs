namespace Sessions;

/// <content>Flash messages: set in one request, readable (repeatedly) by the first request that reads them, gone from the request after.</content>
public sealed partial class Session
{
    /// <summary>Sets a flash message: readable (repeatedly) by the first request that reads it, gone from the request after.</summary>
    /// <exception cref="SessionLimitExceededException">The session already holds <see cref="SessionConfig.MaxKeys"/> keys (values and flashes), or, on the memory database, the flash would take it past <see cref="SessionConfig.MaxPayloadBytes"/>.</exception>
    public void SetFlash(string key, object? value)
    {
        ValidateKey(key);
        using (Lock())
        {
            var exists = _record.TryGetFlash(key, out _);
            if (!exists)
                CheckKeyCount(key);
            var size = LiveSize(key, value, exists ? _record.FlashSize(key) : 0);
            BeginWrite();
            _record.SetFlash(key, value, size);
            _changes?.SetFlash(key, value);
            _consumed?.Remove(key);
        }
    }

    /// <summary>Reads a flash and consumes it: it stays readable for the rest of this request and is gone from the next.</summary>
    public object? GetFlash(string key)
    {
        RequireLoaded(null, "flashes");
        using (Lock())
        {
            if (_record.TryGetFlash(key, out var value))
            {
                Consume(key, value);
                return value;
            }
            return _consumed is not null && _consumed.TryGet(key, out value) ? value : null;
        }
    }

    /// <summary>Reads a flash without consuming it.</summary>
    public object? PeekFlash(string key)
    {
        RequireLoaded(null, "flashes");
        using (Lock())
            return _record.TryGetFlash(key, out var value) || (_consumed is not null && _consumed.TryGet(key, out value)) ? value : null;
    }

    /// <summary>Whether any flash is readable in this request.</summary>
    public bool HasFlash()
    {
        RequireLoaded(null, "flashes");
        using (Lock())
            return _record.FlashCount > 0 || _consumed?.Count > 0;
    }

    /// <summary>Reads a flash as a string (consuming it even when it is not one); empty when missing or not a string.</summary>
    public string GetFlashString(string key) => GetFlashString(key, string.Empty);

    /// <summary>Reads a flash as a string (consuming it even when it is not one); <paramref name="defaultValue"/> when missing or not a string.</summary>
    public string GetFlashString(string key, string defaultValue) => GetFlash(key) is string text ? text : defaultValue;

    /// <summary>Every readable flash, all consumed.</summary>
    public IReadOnlyDictionary<string, object?> GetFlashes()
    {
        RequireLoaded(null, "flashes");
        using (Lock())
        {
            foreach (var flash in _record.Flashes.ToArray())
                Consume(flash.Key, flash.Value);
            var all = new Dictionary<string, object?>(_consumed?.Count ?? 0, StringComparer.Ordinal);
            _consumed?.CopyTo(all);
            return all;
        }
    }

    /// <summary>Removes a flash at once; <see langword="true"/> when it existed.</summary>
    public bool DeleteFlash(string key)
    {
        RequireLoaded(null, "flashes");
        using (Lock())
        {
            var existed = _consumed?.Remove(key) == true;
            if (_record.TryGetFlash(key, out _))
            {
                BeginWrite();
                _record.RemoveFlash(key);
                _changes?.DeleteFlash(key);
                existed = true;
            }
            return existed;
        }
    }

    /// <summary>Removes every flash at once.</summary>
    public void ClearFlashes()
    {
        using (Lock())
        {
            _consumed = null;
            if (_record.FlashCount == 0)
                return;
            BeginWrite();
            _record.ClearFlashes();
            _changes?.ClearFlashes();
        }
    }

    /// <summary>Reading a flash consumes it: gone from the record (and, for copies, deleted at commit), kept readable in this request.</summary>
    private void Consume(string key, object? value)
    {
        _record.RemoveFlash(key);
        if (_strategy.TracksChanges && Exists)
            Changes().DeleteFlash(key);
        (_consumed ??= new ConsumedFlashes()).Add(key, value);
    }
}
