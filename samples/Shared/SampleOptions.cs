namespace Sessions.Samples;

/// <summary>
/// The samples' command line, the same on every host: <c>--urls URL[;URL]</c>, <c>--store memory|redis|embedded</c>,
/// <c>--redis HOST:PORT</c> (default <c>127.0.0.1:6379</c>) and <c>--db PATH</c> (default <c>sessions.db</c>), <c>--transport cookie|header</c> (default cookie), each as
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

    /// <summary>The database the store names; <see langword="null"/> for memory (the manager's default).</summary>
    /// <exception cref="SessionDatabaseException">The embedded database file cannot be opened.</exception>
    public ISessionDatabase? CreateDatabase() => Store switch
    {
        "redis" => new Sessions.Redis.RedisSessionDatabase(Redis),
        "embedded" => new Sessions.Sqlite.SqliteSessionDatabase(Db),
        _ => null,
    };

    /// <summary>
    /// The line every sample prints at start-up, naming the store in use: <c>sessions: store=memory</c>,
    /// <c>sessions: store=redis 127.0.0.1:6379 prefix=session:</c> (never a password) or <c>sessions: store=embedded /full/path</c>.
    /// </summary>
    public string Describe() => Store switch
    {
        "redis" => $"sessions: store=redis {StackExchange.Redis.ConfigurationOptions.Parse(Redis).ToString(includePassword: false)} prefix={Sessions.Redis.RedisSessionOptions.DefaultKeyPrefix}",
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
