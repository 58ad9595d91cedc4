namespace Sessions.Samples;

/// <summary>The samples' command line, read as samples/AspNetCore reads it: <c>--urls URL[;URL]</c> and <c>--store memory</c>.</summary>
internal sealed class SampleOptions
{
    /// <summary>The stores this build of the samples knows.</summary>
    public static readonly string[] Stores = ["memory"];

    private SampleOptions(IReadOnlyList<string> urls, string store)
    {
        Urls = urls;
        Store = store;
    }

    /// <summary>The URLs to listen on, without trailing slash (ASP.NET Core's default when none is given).</summary>
    public IReadOnlyList<string> Urls { get; }

    /// <summary>The store name.</summary>
    public string Store { get; }

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
        return new SampleOptions(urls, store);
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

/// <summary>Runs a sample until Ctrl+C or SIGTERM; shared by the samples' Program.cs.</summary>
internal static class SampleMain
{
    public static async Task<int> RunAsync(string[] args, Func<string[], ListenerServer> start)
    {
        ListenerServer server;
        try
        {
            server = start(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        await using (server)
        {
            var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.TrySetResult(true);
            };
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                {
                    context.Cancel = true;
                    stop.TrySetResult(true);
                });
            foreach (var url in server.Urls)
                Console.WriteLine("Now listening on: " + url);
            await stop.Task.ConfigureAwait(false);
        }
        return 0;
    }
}
