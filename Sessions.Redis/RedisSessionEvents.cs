using System.Globalization;
using StackExchange.Redis;

namespace Sessions.Redis;

/// <summary>
/// Session events across the processes that share one Redis database. Two sources, because Redis gives no better one
/// for either: the changes this library makes (create, renew, destroy, an expiry a request found) are published by the
/// script that makes them, on a channel named after the key prefix, so the message leaves in the same atomic step and
/// the same round trip as the change; an expiry Redis performs by itself makes no script run, so it comes from the
/// server's keyspace notification for expired keys, kept only when the key has exactly the shape of this prefix's session keys.
/// </summary>
/// <remarks>
/// A message is <c>CODE ORIGIN HASH [PREVIOUS]</c>: a one-letter code (<c>c</c> created, <c>r</c> renewed, <c>d</c>
/// destroyed, <c>e</c> expired, <c>a</c> all destroyed), the random origin of the database instance that published it
/// (so an instance ignores its own messages: its manager raised those events already), the base64url SHA-256 of the
/// session ID (the hash in the key's name; never the ID), and for a renew the hash of the old ID.
/// </remarks>
internal sealed class RedisSessionEvents
{
    private const int HashLength = 43;

    private readonly string _origin = Guid.NewGuid().ToString("N");
    private readonly int _database;
    private readonly bool _publishes;
    private readonly bool _configures;
    private readonly Func<string, string?> _hashOfKey;
    private readonly List<ChannelMessageQueue> _queues = [];
    private IConnectionMultiplexer? _reconfigured; // the connection whose reconnects set the notifications again
    private volatile bool _stopped;

    /// <param name="prefix">The key prefix: the channel is named after it, so applications with different prefixes never hear each other.</param>
    /// <param name="database">The Redis database number: pub/sub spans every database of a server, so it is part of the channel too.</param>
    /// <param name="options">Whether to publish, and whether to configure keyspace notifications.</param>
    /// <param name="hashOfKey">The hash of a session key of this prefix; <see langword="null"/> for any other key.</param>
    public RedisSessionEvents(string prefix, int database, RedisSessionOptions options, Func<string, string?> hashOfKey)
    {
        _database = database;
        _publishes = options.PublishEvents;
        _configures = options.ConfigureKeyspaceNotifications;
        _hashOfKey = hashOfKey;
        Channel = ChannelOf(prefix, database);
    }

    /// <summary>Raised for each event another process published or Redis reported; never for this instance's own.</summary>
    public event Action<SessionEventArgs>? Received;

    /// <summary>Raised when a handler throws or keyspace notifications cannot be configured again after a reconnect.</summary>
    public event Action<Exception>? Failed;

    /// <summary>The channel of a key prefix in a database: the prefix, <c>events@</c>, the database number.</summary>
    public string Channel { get; }

    /// <summary>The channel of a key prefix in a database.</summary>
    public static string ChannelOf(string prefix, int database) => prefix + "events@" + database.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The message a script publishes for an event, or the empty string, which makes the script publish nothing, when
    /// publishing is off. Scripts take the channel and the message as their last two arguments.
    /// </summary>
    public RedisValue Message(SessionEventReason reason, string? idHash, string? previousIdHash = null)
    {
        if (!_publishes)
            return RedisValue.EmptyString;
        var code = reason switch
        {
            SessionEventReason.Created => 'c',
            SessionEventReason.Renewed => 'r',
            SessionEventReason.Destroyed => 'd',
            SessionEventReason.Expired => 'e',
            _ => 'a',
        };
        var message = code + " " + _origin;
        if (idHash is not null)
            message += " " + idHash;
        if (previousIdHash is not null)
            message += " " + previousIdHash;
        return message;
    }

    /// <summary>
    /// Subscribes to the prefix's channel and to the expired-key notifications of the database (on every primary of a
    /// cluster), then, when asked, configures the notifications. Waits for the connection first; completes once both
    /// subscriptions are in place, and fails with <see cref="SessionDatabaseException"/> when notifications cannot be configured.
    /// </summary>
    public async Task StartAsync(Task<IConnectionMultiplexer> connecting)
    {
        var connection = await connecting.ConfigureAwait(false);
        var subscriber = connection.GetSubscriber();
        // Redis not up yet, or its pub/sub connection not yet (it connects after the commands' one, and fails fast until
        // then): subscribe once both are (StackExchange.Redis restores subscriptions after).
        while (!(connection.IsConnected && subscriber.IsConnected(RedisChannel.Literal(Channel))) && !_stopped)
            await Task.Delay(100).ConfigureAwait(false);
        if (_stopped)
            return;
        try
        {
            var events = await subscriber.SubscribeAsync(RedisChannel.Literal(Channel)).ConfigureAwait(false);
            events.OnMessage(OnEventMessage);
            var expired = await subscriber.SubscribeAsync(ExpiredChannel(connection)).ConfigureAwait(false);
            expired.OnMessage(OnExpiredMessage);
            lock (_queues)
            {
                _queues.AddRange([events, expired]);
                if (_stopped)
                    Unsubscribe(); // disposed while subscribing: leave nothing on a multiplexer that outlives us
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new SessionDatabaseException($"Subscribing to the session events of channel '{Channel}' failed: {e.Message}", e);
        }
        if (!_configures)
            return;
        await ConfigureNotificationsAsync(connection).ConfigureAwait(false);
        // A restarted server has forgotten a CONFIG SET: set it again on every reconnect.
        lock (_queues)
        {
            if (_stopped)
                return;
            _reconfigured = connection;
            connection.ConnectionRestored += OnConnectionRestored;
        }
    }

    /// <summary>
    /// The expired-key notification channel. A cluster node announces only the keys it expires, so there the channel is
    /// subscribed on every primary (a multi-node channel). On a single server it is a plain channel: StackExchange.Redis
    /// 3.4 subscribes plain channels again after a reconnect, and (as a test showed) not multi-node ones.
    /// </summary>
    private RedisChannel ExpiredChannel(IConnectionMultiplexer connection)
    {
        foreach (var endpoint in connection.GetEndPoints())
        {
            if (connection.GetServer(endpoint).ServerType == ServerType.Cluster)
                return RedisChannel.KeyEvent(KeyNotificationType.Expired, _database);
        }
        return RedisChannel.Literal("__keyevent@" + _database.ToString(CultureInfo.InvariantCulture) + "__:expired");
    }

    /// <summary>Stops raising events and drops this instance's subscriptions (the multiplexer may outlive the database).</summary>
    public void Stop()
    {
        lock (_queues)
        {
            _stopped = true;
            Unsubscribe();
            if (_reconfigured is { } connection)
                connection.ConnectionRestored -= OnConnectionRestored;
            _reconfigured = null;
        }
    }

    private void Unsubscribe()
    {
        foreach (var queue in _queues)
            _ = queue.UnsubscribeAsync(CommandFlags.FireAndForget);
        _queues.Clear();
    }

    /// <summary>The flags with <c>E</c> (key-event channels) and <c>x</c> (expired) added when missing (<c>A</c> includes <c>x</c>).</summary>
    internal static string WithExpiredEvents(string flags)
    {
        if (flags.IndexOf('E') < 0)
            flags += "E";
        if (flags.IndexOf('x') < 0 && flags.IndexOf('A') < 0)
            flags += "x";
        return flags;
    }

    /// <summary>Parses a published message; <see langword="null"/> for anything malformed, foreign, or this instance's own.</summary>
    internal SessionEventArgs? Parse(string? message)
    {
        var parts = message?.Split(' ');
        if (parts is null || parts.Length < 2 || parts[0].Length != 1 || parts[1] == _origin)
            return null;
        var (reason, count) = parts[0][0] switch
        {
            'c' => (SessionEventReason.Created, 3),
            'r' => (SessionEventReason.Renewed, 4),
            'd' => (SessionEventReason.Destroyed, 3),
            'e' => (SessionEventReason.Expired, 3),
            'a' => (SessionEventReason.DestroyedAll, 2),
            _ => (default(SessionEventReason), -1),
        };
        if (parts.Length != count)
            return null;
        for (var i = 2; i < count; i++)
        {
            if (!IsHash(parts[i]))
                return null;
        }
        return SessionEventArgs.ForHash(reason, count > 2 ? parts[2] : null, count > 3 ? parts[3] : null, isRemote: true);
    }

    private void OnEventMessage(ChannelMessage message)
    {
        if (Parse((string?)message.Message) is { } e)
            Raise(e);
    }

    private void OnExpiredMessage(ChannelMessage message)
    {
        // Every key that expires in the database is announced here, other applications' included: keep only ours.
        if ((string?)message.Message is not { } key || _hashOfKey(key) is not { } hash)
            return;
        // Where a per-user index of sessions must drop this session once Redis expired it: the key is gone, so only its
        // hash is known here; every subscribed process sees this, so the cleanup must be idempotent.
        Raise(SessionEventArgs.ForHash(SessionEventReason.Expired, hash, isRemote: true));
    }

    private void Raise(SessionEventArgs e)
    {
        if (_stopped)
            return;
        try
        {
            Received?.Invoke(e);
        }
        catch (Exception failure)
        {
            Report(failure); // a throwing handler must not stop the delivery of later events
        }
    }

    private void Report(Exception failure)
    {
        try
        {
            Failed?.Invoke(failure);
        }
        catch (Exception)
        {
            // A failing failure handler has nowhere left to report to.
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (_reconfigured is { } connection)
            _ = ReconfigureAsync(connection);
    }

    private async Task ReconfigureAsync(IConnectionMultiplexer connection)
    {
        try
        {
            if (!_stopped)
                await ConfigureNotificationsAsync(connection).ConfigureAwait(false);
        }
        catch (SessionDatabaseException e)
        {
            Report(e);
        }
    }

    private static async Task ConfigureNotificationsAsync(IConnectionMultiplexer connection)
    {
        foreach (var server in RedisSessionDatabase.Primaries(connection, "configure keyspace notifications"))
        {
            try
            {
                var current = await server.ConfigGetAsync("notify-keyspace-events").ConfigureAwait(false);
                var flags = current.Length == 0 ? "" : current[0].Value;
                var wanted = WithExpiredEvents(flags);
                if (wanted != flags)
                    await server.ConfigSetAsync("notify-keyspace-events", wanted).ConfigureAwait(false);
            }
            catch (RedisCommandException e)
            {
                throw new SessionDatabaseException($"RedisSessionOptions.ConfigureKeyspaceNotifications needs CONFIG, which StackExchange.Redis allows only on a connection with allowAdmin=true ({e.Message}). Add allowAdmin=true to the connection, or set notify-keyspace-events to include 'Ex' in the server's configuration and turn ConfigureKeyspaceNotifications off.", e);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                throw new SessionDatabaseException($"Redis server {server.EndPoint} refused to set notify-keyspace-events ({RedisSessionDatabase.FirstLine(e.Message)}); managed Redis services often forbid CONFIG. Set notify-keyspace-events to include 'Ex' in the server's configuration (for example the service's parameter group) and turn RedisSessionOptions.ConfigureKeyspaceNotifications off; until then sessions Redis expires raise no Expired event.", e);
            }
        }
    }

    private static bool IsHash(string text)
    {
        if (text.Length != HashLength)
            return false;
        foreach (var c in text)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return false;
        }
        return true;
    }
}
