namespace Sessions.Samples;

/// <summary>
/// The samples' command line, the same on every host: <c>--urls URL[;URL]</c>, <c>--store memory|redis|embedded</c>,
/// <c>--redis HOST:PORT</c> (default <c>127.0.0.1:6379</c>) and <c>--db PATH</c> (default <c>sessions.db</c>).
/// </summary>
internal sealed class SampleOptions
{
    /// <summary>The stores this build of the samples knows.</summary>
    public static readonly string[] Stores = ["memory", "redis", "embedded"];

    private SampleOptions(IReadOnlyList<string> urls, string store, string redis, string db)
    {
        Urls = urls;
        Store = store;
        Redis = redis;
        Db = db;
    }

    /// <summary>The URLs to listen on, without trailing slash (ASP.NET Core's default when none is given).</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>The store name.</summary>
    public string Store { get; }

    /// <summary>The Redis server (StackExchange.Redis configuration) for <c>--store redis</c>.</summary>
    public string Redis { get; }

    /// <summary>The database file for <c>--store embedded</c>.</summary>
    public string Db { get; }

    /// <summary>Where the session ID travels (<c>--transport cookie|header</c>, default cookie): header mode reads and answers <c>X-Session-Token</c>.</summary>
    public SessionTransport Transport { get; private init; } = SessionTransport.Cookie;

    /// <summary>The database the store names; <see langword="null"/> for memory (the manager's default).</summary>
    /// <exception cref="SessionDatabaseException">The embedded database file cannot be opened.</exception>
    public ISessionDatabase? CreateDatabase() => Store switch
    {
        "redis" => new Sessions.Redis.RedisSessionDatabase(Redis),
        "embedded" => new Sessions.Sqlite.SqliteSessionDatabase(Db),
        _ => null,
    };

    /// <summary>Reads the arguments.</summary>
    /// <exception cref="ArgumentException">An argument names an unknown store or is not an http URL.</exception>
    public static SampleOptions Parse(string[] args)
    {
        var store = ReadOption(args, "--store") ?? "memory";
        if (Array.IndexOf(Stores, store) < 0)
            throw new ArgumentException($"Unknown --store '{store}': this sample supports {string.Join(", ", Stores)}.");
        var urls = new List<string>();
        foreach (var url in (ReadOption(args, "--urls") ?? "http://localhost:5000").Split([';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var trimmed = url.Trim().TrimEnd('/');
            if (!trimmed.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"Unsupported --urls '{url}': this sample serves http:// URLs.");
            urls.Add(trimmed);
        }
        if (urls.Count == 0)
            throw new ArgumentException("--urls names no URL.");
        var transport = ReadOption(args, "--transport") ?? "cookie";
        if (transport is not ("cookie" or "header"))
            throw new ArgumentException($"Unknown --transport '{transport}': this sample supports cookie, header.");
        return new SampleOptions(urls, store, ReadOption(args, "--redis") ?? "127.0.0.1:6379", ReadOption(args, "--db") ?? "sessions.db")
        {
            Transport = transport == "header" ? SessionTransport.Header() : SessionTransport.Cookie,
        };
    }

    private static string? ReadOption(string[] args, string name)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == name && i + 1 < args.Length)
                return args[i + 1];
            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
                return args[i].Substring(name.Length + 1);
        }
        return null;
    }
}
