namespace Sessions.DistributedCache;

/// <summary>Settings of a <see cref="DistributedCacheSessionDatabase"/>; read once, when the database is created.</summary>
public sealed class DistributedCacheSessionOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "session:";

    /// <summary>The longest <see cref="KeyPrefix"/> accepted.</summary>
    public const int MaxKeyPrefixLength = 128;

    /// <summary>
    /// The start of every cache key (default <c>session:</c>): a key is this prefix followed by the base64url SHA-256 of the
    /// session ID (the raw ID is never a key). Pick one no other user of the same cache uses. 1 to
    /// <see cref="MaxKeyPrefixLength"/> printable ASCII characters other than space.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// How long one cache call may take before the operation fails with <see cref="SessionDatabaseException"/> (default 2
    /// seconds), whatever the cache's own time-outs are. A write that timed out may still land later in the cache.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A copy of these settings, checked.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    internal DistributedCacheSessionOptions Validated()
    {
        var prefix = KeyPrefix ?? throw new ArgumentException("DistributedCacheSessionOptions.KeyPrefix must not be null.", nameof(KeyPrefix));
        if (prefix.Length == 0 || prefix.Length > MaxKeyPrefixLength)
            throw new ArgumentException($"DistributedCacheSessionOptions.KeyPrefix must hold 1 to {MaxKeyPrefixLength} characters; it holds {prefix.Length}.", nameof(KeyPrefix));
        foreach (var c in prefix)
        {
            if (c is < '!' or > '~')
                throw new ArgumentException($"DistributedCacheSessionOptions.KeyPrefix may hold only printable ASCII characters other than space (U+0021 to U+007E); '{prefix}' does not.", nameof(KeyPrefix));
        }
        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(5))
            throw new ArgumentException($"DistributedCacheSessionOptions.OperationTimeout must be positive and at most 5 minutes; it is {OperationTimeout}.", nameof(OperationTimeout));
        return new DistributedCacheSessionOptions { KeyPrefix = prefix, OperationTimeout = OperationTimeout };
    }
}
