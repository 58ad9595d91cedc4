using System.Net;
using System.Net.Sockets;
using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// One host's sample, started in-process on 127.0.0.1 and a free port, on one store: <c>memory</c>, <c>redis</c> (the
/// run's <see cref="SharedRedis"/> server) or <c>embedded</c> (a fresh database file in a temporary folder, deleted
/// when the host stops).
/// </summary>
public sealed class SampleHost : IAsyncDisposable
{
    /// <summary>The hosts every cross-host test runs against.</summary>
    public static readonly string[] Names = ["AspNetCore", "HttpListener", "Owin"];

    /// <summary>The stores every cross-host test runs against.</summary>
    public static readonly string[] Stores = ["memory", "redis", "embedded"];

    private readonly Func<ValueTask> _stop;
    private bool _stopped;
    private readonly string[] _storeArgs;
    private DirectoryInfo? _temporary;

    private SampleHost(string name, string store, string[] storeArgs, Uri baseAddress, Func<ValueTask> stop)
    {
        Name = name;
        Store = store;
        _storeArgs = storeArgs;
        BaseAddress = baseAddress;
        _stop = stop;
    }

    /// <summary>Every (host, store) pair, as fixture arguments.</summary>
    public static IEnumerable<TestFixtureData> HostsAndStores() =>
        from store in Stores
        from name in Names
        select new TestFixtureData(name, store);

    public string Name { get; }

    public string Store { get; }

    /// <summary>Exactly <c>http://127.0.0.1:PORT/</c>: HttpListener matches the Host header against its prefix.</summary>
    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    /// <summary>Starts <paramref name="name"/>'s sample on <paramref name="store"/> (an embedded store gets a new file), with <paramref name="options"/> (such as <c>--transport header</c>) too.</summary>
    public static async Task<SampleHost> StartAsync(string name, string store = "memory", params string[] options)
    {
        DirectoryInfo? temporary = null;
        string[] storeArgs = store switch
        {
            "memory" => [],
            "redis" => ["--store", "redis", "--redis", SharedRedis.Endpoint],
            "embedded" => ["--store", "embedded", "--db", Path.Combine((temporary = Directory.CreateTempSubdirectory("sessions-hosts-")).FullName, "sessions.db")],
            _ => throw new ArgumentOutOfRangeException(nameof(store), store, "Unknown store."),
        };
        try
        {
            var host = await StartOnFreePortAsync(name, store, [.. storeArgs, .. options]);
            host._temporary = temporary;
            return host;
        }
        catch
        {
            temporary?.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>Stops this host and starts its sample again on the same store (the same database file), on a new port.</summary>
    public async Task<SampleHost> RestartAsync()
    {
        await StopAsync();
        var host = await StartOnFreePortAsync(Name, Store, _storeArgs);
        (host._temporary, _temporary) = (_temporary, null);
        return host;
    }

    private static async Task<SampleHost> StartOnFreePortAsync(string name, string store, string[] storeArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            // HttpListener rejects port 0: take a free port from the OS first (a small race, hence the retries).
            var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
            try
            {
                return await StartAsync(name, store, storeArgs, url);
            }
            catch (Exception e) when (attempt < 5 && e is IOException or HttpListenerException or SocketException)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task<SampleHost> StartAsync(string name, string store, string[] storeArgs, string url)
    {
        string[] args = ["--urls", url, .. storeArgs];
        switch (name)
        {
            case "AspNetCore":
            {
                var app = Sessions.Samples.AspNetCore.SampleApp.Build(args);
                try
                {
                    await app.StartAsync();
                }
                catch
                {
                    await app.DisposeAsync();
                    throw;
                }
                return new SampleHost(name, store, storeArgs, new Uri(url + "/"), async () =>
                {
                    await app.StopAsync();
                    await app.DisposeAsync();
                });
            }
            case "HttpListener":
            {
                var server = Sessions.Samples.HttpListener.SampleApp.Start(args);
                return new SampleHost(name, store, storeArgs, new Uri(server.Urls[0] + "/"), server.DisposeAsync);
            }
            case "Owin":
            {
                var server = Sessions.Samples.Owin.SampleApp.Start(args);
                return new SampleHost(name, store, storeArgs, new Uri(server.Urls[0] + "/"), server.DisposeAsync);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown host.");
        }
    }

    private async ValueTask StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        await _stop();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _temporary?.Delete(recursive: true);
        }
    }
}
