using System.Net;
using System.Net.Sockets;

namespace Sessions.Hosts.Tests;

/// <summary>One host's sample, started in-process on 127.0.0.1 and a free port.</summary>
public sealed class SampleHost : IAsyncDisposable
{
    /// <summary>The hosts every cross-host test runs against.</summary>
    public static readonly string[] Names = ["AspNetCore", "HttpListener", "Owin"];

    private readonly Func<ValueTask> _stop;

    private SampleHost(string name, Uri baseAddress, Func<ValueTask> stop)
    {
        Name = name;
        BaseAddress = baseAddress;
        _stop = stop;
    }

    public string Name { get; }

    /// <summary>Exactly <c>http://127.0.0.1:PORT/</c>: HttpListener matches the Host header against its prefix.</summary>
    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public static async Task<SampleHost> StartAsync(string name)
    {
        for (var attempt = 1; ; attempt++)
        {
            // HttpListener rejects port 0: take a free port from the OS first (a small race, hence the retries).
            var url = $"http://127.0.0.1:{FreePort()}";
            try
            {
                return await StartAsync(name, url);
            }
            catch (Exception e) when (attempt < 5 && e is IOException or HttpListenerException or SocketException)
            {
                await Task.Delay(50);
            }
        }
    }

    private static async Task<SampleHost> StartAsync(string name, string url)
    {
        string[] args = ["--urls", url];
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
                return new SampleHost(name, new Uri(url + "/"), async () =>
                {
                    await app.StopAsync();
                    await app.DisposeAsync();
                });
            }
            case "HttpListener":
            {
                var server = Sessions.Samples.HttpListener.SampleApp.Start(args);
                return new SampleHost(name, new Uri(server.Urls[0] + "/"), server.DisposeAsync);
            }
            case "Owin":
            {
                var server = Sessions.Samples.Owin.SampleApp.Start(args);
                return new SampleHost(name, new Uri(server.Urls[0] + "/"), server.DisposeAsync);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown host.");
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public ValueTask DisposeAsync() => _stop();
}
