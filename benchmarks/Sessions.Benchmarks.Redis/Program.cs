// Median load and commit latency of RedisSessionDatabase against a redis-server on loopback.
//   dotnet run -c Release --project benchmarks/Sessions.Benchmarks.Redis [-- ITERATIONS [HOST:PORT]]
// Without HOST:PORT it starts its own redis-server (no persistence) on a free port and stops it by PID at the end.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Sessions;
using Sessions.Redis;

var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5000;
Process? server = null;
string endpoint;
if (args.Length > 1)
{
    endpoint = args[1];
}
else
{
    int port;
    using (var listener = new TcpListener(IPAddress.Loopback, 0))
    {
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }
    var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var arg in new[] { "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        start.ArgumentList.Add(arg);
    server = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start (is it installed?)");
    server.BeginOutputReadLine();
    endpoint = $"127.0.0.1:{port}";
}

try
{
    using var database = new RedisSessionDatabase(endpoint);
    using var manager = new SessionManager(new SessionConfig { Database = database });
    var cookie = "";
    for (var attempt = 0; ; attempt++)
    {
        try
        {
            var carrier = new Carrier(null);
            var created = await manager.StartAsync(carrier);
            created.Set("name", "iris");
            created.Set("user", new { Id = 42, Roles = new[] { "admin", "editor" } });
            created.Set("counter", 0);
            created.SetFlash("notice", "welcome");
            await created.CommitAsync();
            cookie = $"{SessionConfig.DefaultCookieName}={created.Id}";
            break;
        }
        catch (SessionDatabaseException) when (attempt < 50)
        {
            await Task.Delay(100); // the server is still starting
        }
    }
    var id = cookie[(cookie.IndexOf('=', StringComparison.Ordinal) + 1)..];

    var load = new double[iterations];
    var commit = new double[iterations];
    var request = new double[iterations];
    for (var round = 0; round < 2; round++) // the first round warms up (JIT, script cache, connection)
    {
        for (var i = 0; i < iterations; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await database.LoadAsync(id, CancellationToken.None);
            var t1 = Stopwatch.GetTimestamp();
            var session = await manager.StartAsync(new Carrier(cookie));
            session.Set("counter", i);
            var t2 = Stopwatch.GetTimestamp();
            await session.CommitAsync();
            var t3 = Stopwatch.GetTimestamp();
            load[i] = Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds;
            commit[i] = Stopwatch.GetElapsedTime(t2, t3).TotalMicroseconds;
            request[i] = Stopwatch.GetElapsedTime(t1, t3).TotalMicroseconds;
        }
    }
    Console.WriteLine($"redis {endpoint}, {iterations} iterations (after as many warm-up ones), one session of 3 values and a flash");
    Report("load (HGETALL)", load);
    Report("commit of one changed key (EVALSHA)", commit);
    Report("request: load, set, commit", request);
}
finally
{
    if (server is not null)
    {
        server.Kill();
        server.WaitForExit(5000);
    }
}

static void Report(string name, double[] microseconds)
{
    var sorted = microseconds.OrderBy(x => x).ToArray();
    double At(double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
    Console.WriteLine(FormattableString.Invariant($"{name,-38} median {At(0.5),8:0.0} us   p90 {At(0.9),8:0.0} us   p99 {At(0.99),8:0.0} us"));
}

sealed class Carrier(string? cookieHeader) : ICookieCarrier
{
    public string? CookieHeader { get; } = cookieHeader;

    public string? Host => "localhost";

    public bool IsHttps => false;

    public Session? Session { get; set; }

    public void WriteCookie(in SessionCookie cookie)
    {
    }
}
