using System.Globalization;

namespace Sessions.Samples;

/// <summary>
/// The samples' command line, the same on every host: <c>--urls URL[;URL]</c>, <c>--store memory|redis|embedded</c>,
/// <c>--redis HOST:PORT</c> (default <c>127.0.0.1:6379</c>), <c>--db PATH</c> (default <c>sessions.db</c>),
/// <c>--transport cookie|header</c> (default cookie) and <c>--max-sessions-per-user N</c> (default 0: unlimited),
/// <c>--expires HH:MM:SS</c> (default 02:00:00), <c>--redis-prefix PREFIX</c> (default <c>session:</c>) and <c>--events off|on</c>, each as
/// <c>--name value</c> or <c>--name=value</c>. Anything else is refused with the list of valid options.
/// </summary>
internal sealed class SampleOptions
{
    /// <summary>The stores this build of the samples knows.</summary>
    public static readonly string[] Stores = ["memory", "redis", "embedded"];

    /// <summary>Every option and the form of its value: a new option is one line here (and the property that reads it).</summary>
    private static readonly (string Name, string Value)[] Table =
    [
        ("--urls", "URL[;URL]"),
        ("--store", string.Join("|", Stores)),
        ("--redis", "HOST:PORT"),
        ("--db", "PATH"),
        ("--transport", "cookie|header"),
        ("--max-sessions-per-user", "N"),
        ("--expires", "HH:MM:SS"),
        ("--redis-prefix", "PREFIX"),
        ("--events", "off|on"),
    ];

    private readonly Dictionary<string, string> _values;

    private SampleOptions(Dictionary<string, string> values, IReadOnlyList<string> urls)
    {
        _values = values;
        Urls = urls;
    }

    /// <summary>The URLs to listen on, without trailing slash (ASP.NET Core's default when none is given).</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>The store name.</summary>
    public string Store => Value("--store", "memory");

    /// <summary>The Redis server (StackExchange.Redis configuration) for <c>--store redis</c>.</summary>
    public string Redis => Value("--redis", "127.0.0.1:6379");

    /// <summary>The database file for <c>--store embedded</c>.</summary>
    public string Db => Value("--db", "sessions.db");

    /// <summary>Where the session ID travels (<c>--transport cookie|header</c>, default cookie): header mode reads and answers <c>X-Session-Token</c>.</summary>
    public SessionTransport Transport => Value("--transport", "cookie") == "header" ? SessionTransport.Header() : SessionTransport.Cookie;

    /// <summary>The most sessions one user keeps (<see cref="SessionConfig.MaxSessionsPerUser"/>; 0: unlimited).</summary>
    public int MaxSessionsPerUser => int.Parse(Value("--max-sessions-per-user", "0"), CultureInfo.InvariantCulture);

    /// <summary>The sessions' absolute lifetime (<see cref="SessionConfig.Expires"/>; default 2 hours).</summary>
    public TimeSpan Expires => TimeSpan.Parse(Value("--expires", "02:00:00"), CultureInfo.InvariantCulture);

    /// <summary>The Redis key prefix (<see cref="Sessions.Redis.RedisSessionOptions.KeyPrefix"/>): samples with different prefixes share a server without seeing each other.</summary>
    public string RedisPrefix => Value("--redis-prefix", Sessions.Redis.RedisSessionOptions.DefaultKeyPrefix);

    /// <summary>
    /// <c>--events on</c>: print every session event as <c>event: REASON ID-HASH local|remote</c>; on Redis, publish them
    /// to and hear them from every process sharing the server and prefix (keyspace notifications configured by the library).
    /// </summary>
    public bool Events => Value("--events", "off") == "on";

    /// <summary>With <see cref="Events"/>, prints <paramref name="sessions"/>' events, one line each.</summary>
    public void PrintEvents(SessionManager sessions)
    {
        if (!Events)
            return;
        EventHandler<SessionEventArgs> print = (_, e) => Console.WriteLine($"event: {e.Reason} {e.IdHash} {(e.IsRemote ? "remote" : "local")}");
        sessions.Created += print;
        sessions.Renewed += print;
        sessions.Destroyed += print;
        if (sessions.Database is Sessions.Redis.RedisSessionDatabase redis)
            redis.EventsFailed += error => Console.Error.WriteLine("events: " + error.Message);
    }

    /// <summary>The database the store names; <see langword="null"/> for memory (the manager's default).</summary>
    /// <exception cref="SessionDatabaseException">The embedded database file cannot be opened.</exception>
    public ISessionDatabase? CreateDatabase() => Store switch
    {
        "redis" => new Sessions.Redis.RedisSessionDatabase(Redis, new Sessions.Redis.RedisSessionOptions
        {
            KeyPrefix = RedisPrefix,
            PublishEvents = Events,
            SubscribeToEvents = Events,
            ConfigureKeyspaceNotifications = Events,
        }),
        "embedded" => new Sessions.Sqlite.SqliteSessionDatabase(Db),
        _ => null,
    };

    /// <summary>
    /// The line every sample prints at start-up, naming the store in use: <c>sessions: store=memory</c>,
    /// <c>sessions: store=redis 127.0.0.1:6379 prefix=session:</c> (never a password) or <c>sessions: store=embedded /full/path</c>.
    /// </summary>
    public string Describe() => Store switch
    {
        "redis" => $"sessions: store=redis {StackExchange.Redis.ConfigurationOptions.Parse(Redis).ToString(includePassword: false)} prefix={RedisPrefix}",
        "embedded" => "sessions: store=embedded " + Path.GetFullPath(Db),
        _ => "sessions: store=memory",
    };

    /// <summary>Reads the arguments.</summary>
    /// <exception cref="ArgumentException">
    /// An argument is not one of the options, lacks its value or repeats one, names an unknown store or is not an http URL.
    /// </exception>
    public static SampleOptions Parse(string[] args)
    {
        var values = ReadAll(args);
        var store = values.GetValueOrDefault("--store", "memory");
        if (Array.IndexOf(Stores, store) < 0)
            throw new ArgumentException($"Unknown --store '{store}': this sample supports {string.Join(", ", Stores)}.");
        var transport = values.GetValueOrDefault("--transport", "cookie");
        if (transport is not ("cookie" or "header"))
            throw new ArgumentException($"Unknown --transport '{transport}': this sample supports cookie, header.");
        if (values.GetValueOrDefault("--events", "off") is not ("on" or "off"))
            throw new ArgumentException($"Invalid --events '{values["--events"]}': it takes on or off.");
        if (!TimeSpan.TryParse(values.GetValueOrDefault("--expires", "02:00:00"), CultureInfo.InvariantCulture, out _))
            throw new ArgumentException($"Invalid --expires '{values["--expires"]}': it takes a duration such as 00:00:05.");
        var urls = new List<string>();
        foreach (var url in values.GetValueOrDefault("--urls", "http://localhost:5000").Split([';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = url.Trim().TrimEnd('/');
            if (!trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"Unsupported --urls '{url}': this sample serves http:// URLs.");
            urls.Add(trimmed);
        }
        if (urls.Count == 0)
            throw new ArgumentException("--urls names no URL.");
        if (!int.TryParse(values.GetValueOrDefault("--max-sessions-per-user", "0"), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw new ArgumentException($"Invalid --max-sessions-per-user '{values["--max-sessions-per-user"]}': it takes a whole number, 0 for unlimited.");
        return new SampleOptions(values, urls);
    }

    private string Value(string name, string defaultValue) => _values.GetValueOrDefault(name, defaultValue);

    private static Dictionary<string, string> ReadAll(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=');
            var name = equals < 0 ? arg : arg.Substring(0, equals);
            if (Array.FindIndex(Table, option => option.Name == name) < 0)
                throw new ArgumentException($"Unknown option '{name}': the valid options are {Usage()}.");
            string value;
            if (equals >= 0)
                value = arg.Substring(equals + 1);
            else if (i + 1 < args.Length)
                value = args[++i];
            else
                throw new ArgumentException($"The option {name} needs a value: {Usage()}.");
            if (!values.TryAdd(name, value))
                throw new ArgumentException($"The option {name} is given twice.");
        }
        return values;
    }

    private static string Usage() => string.Join(", ", Table.Select(option => option.Name + " " + option.Value));
}
