namespace Sessions;

/// <summary>One stored value of a session and whether it was stored with <see cref="Session.SetImmutable"/>.</summary>
public readonly struct SessionValue
{
    /// <summary>Creates a stored value.</summary>
    /// <param name="value">The value; for an immutable value, an <see cref="ImmutableValue"/>.</param>
    /// <param name="isImmutable">Whether the value was stored with <see cref="Session.SetImmutable"/>.</param>
    public SessionValue(object? value, bool isImmutable)
    {
        Value = value;
        IsImmutable = isImmutable;
    }

    /// <summary>The stored value: the live object for a plain value, an <see cref="ImmutableValue"/> snapshot or an immutable primitive for an immutable one.</summary>
    public object? Value { get; }

    /// <summary>Whether a plain <see cref="Session.Set"/> is refused for this key.</summary>
    public bool IsImmutable { get; }
}
