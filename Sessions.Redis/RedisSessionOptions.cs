namespace Sessions.Redis;

/// <summary>Settings of a <see cref="RedisSessionDatabase"/>; read once, when the database is created.</summary>
public sealed class RedisSessionOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "session:";

    /// <summary>The longest <see cref="KeyPrefix"/> accepted.</summary>
    public const int MaxKeyPrefixLength = 128;

    /// <summary>
    /// The start of every session key (default <c>session:</c>). A key is this prefix, then the base64url SHA-256 of the
    /// session ID in braces (a Redis Cluster hash tag); <see cref="RedisSessionDatabase.DestroyAllAsync"/> and
    /// <see cref="RedisSessionDatabase.CountAsync"/> act only on keys of exactly that shape. Required: 1 to
    /// <see cref="MaxKeyPrefixLength"/> printable ASCII characters other than space and braces (U+0021 to U+007E without
    /// <c>{</c> and <c>}</c>); pick one no other application on the server uses.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>
    /// How long one operation (connecting included) may take before it fails with <see cref="SessionDatabaseException"/>
    /// (default 2 seconds). Keep it below the request budget: a stalled Redis then costs each request this long, not a hang.
    /// On a connection the database makes from a configuration string, StackExchange.Redis enforces it for a load or a
    /// commit (its <c>AsyncTimeout</c>, checked on a heartbeat run every quarter of this timeout), so such an operation
    /// may fail up to a quarter of it late.
    /// </summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long after its deadline Redis drops a session key (default 5 seconds). The manager checks deadlines itself;
    /// the slack only absorbs a Redis clock slightly ahead of the application's.
    /// </summary>
    public TimeSpan ExpirySlack { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether this database tells other processes sharing the Redis database about the sessions it creates, renews and
    /// destroys (default <see langword="false"/>): each script that makes such a change also <c>PUBLISH</c>es it, in the
    /// same atomic step and the same round trip, on a channel named after <see cref="KeyPrefix"/>. Messages name sessions
    /// by the hash of their ID, never by the ID.
    /// </summary>
    public bool PublishEvents { get; set; }

    /// <summary>
    /// Whether this database listens for what other processes sharing the Redis database publish (see
    /// <see cref="PublishEvents"/>) and for Redis expiring session keys, and reports both through
    /// <see cref="ISessionEventSource"/>, so the manager raises them as remote events (default <see langword="false"/>).
    /// Expiries arrive only when the server sends keyspace notifications for expired keys (<c>notify-keyspace-events</c>
    /// holding <c>E</c> and <c>x</c>): set that in the server's configuration, or set <see cref="ConfigureKeyspaceNotifications"/>.
    /// Delivery is at most once: see <see cref="RedisSessionDatabase.EventsReady"/>.
    /// </summary>
    public bool SubscribeToEvents { get; set; }

    /// <summary>
    /// Whether the database adds <c>E</c> and <c>x</c> to the server's <c>notify-keyspace-events</c> (keeping the flags
    /// already set) with <c>CONFIG SET</c> on every primary when it subscribes, and again after each reconnect (default
    /// <see langword="false"/>: the library sends no administrative command unless asked). Needs a connection with
    /// <c>allowAdmin=true</c> (a database that opens its own connection sets it). Managed Redis services often forbid
    /// <c>CONFIG</c>: <see cref="RedisSessionDatabase.EventsReady"/> then fails with a message saying so.
    /// </summary>
    public bool ConfigureKeyspaceNotifications { get; set; }

    /// <summary>
    /// The clock the user index compares scores with when it drops the entries of ended sessions (the system clock by
    /// default); use the manager's clock (<see cref="SessionConfig.TimeProvider"/>).
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A copy of these settings, checked.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    internal RedisSessionOptions Validated()
    {
        var prefix = KeyPrefix ?? throw new ArgumentException("RedisSessionOptions.KeyPrefix must not be null.", nameof(KeyPrefix));
        if (prefix.Length == 0 || prefix.Length > MaxKeyPrefixLength)
            throw new ArgumentException($"RedisSessionOptions.KeyPrefix must hold 1 to {MaxKeyPrefixLength} characters; it holds {prefix.Length}. An empty prefix would make DestroyAll and Count reach other applications' keys.", nameof(KeyPrefix));
        foreach (var c in prefix)
        {
            if (c is < '!' or > '~' or '{' or '}')
                throw new ArgumentException("RedisSessionOptions.KeyPrefix may hold only printable ASCII characters other than space and braces (U+0021 to U+007E without '{' and '}'): braces would make it the Redis Cluster hash tag of every session.", nameof(KeyPrefix));
        }
        if (OperationTimeout <= TimeSpan.Zero || OperationTimeout > TimeSpan.FromMinutes(5))
            throw new ArgumentException($"RedisSessionOptions.OperationTimeout must be positive and at most 5 minutes; it is {OperationTimeout}.", nameof(OperationTimeout));
        if (ExpirySlack < TimeSpan.Zero || ExpirySlack > TimeSpan.FromDays(1))
            throw new ArgumentException($"RedisSessionOptions.ExpirySlack must be between zero and one day; it is {ExpirySlack}.", nameof(ExpirySlack));
        if (ConfigureKeyspaceNotifications && !SubscribeToEvents)
            throw new ArgumentException("RedisSessionOptions.ConfigureKeyspaceNotifications is set but SubscribeToEvents is not: the notifications are only needed by a database that subscribes.", nameof(ConfigureKeyspaceNotifications));
        return new RedisSessionOptions
        {
            KeyPrefix = prefix,
            OperationTimeout = OperationTimeout,
            ExpirySlack = ExpirySlack,
            PublishEvents = PublishEvents,
            SubscribeToEvents = SubscribeToEvents,
            ConfigureKeyspaceNotifications = ConfigureKeyspaceNotifications,
            TimeProvider = TimeProvider ?? throw new ArgumentException("RedisSessionOptions.TimeProvider must not be null.", nameof(TimeProvider)),
        };
    }
}
