using System.Text;
using Sessions;
using Sessions.Sqlite;

// Commands (each line printed is flushed at once, so a parent that kills this process knows what was acknowledged):
//   create DB KEY VALUE   create a session with KEY=VALUE, print "ID <id>"
//   read DB ID KEY        print "VALUE <value>" if session ID is adopted, else "NEW"
//   hold DB               open the database, print "READY", keep it open until stdin closes
//   bench DIR [N]         median load and commit latency over N iterations: memory, SQLite FULL, SQLite NORMAL
//   concurrent DIR [N] [C]  C concurrent requests (default 32), each committing to its own session N times (default 200):
//                         commits per second, SQLite FULL then NORMAL
//   crash DB full|normal  commit in a loop forever; print one line per acknowledged commit:
//                         "NEW <id> <key> <n> ." / "SET <id> <key> <n> ." / "DEL <id> ."
//                         ("DELETING <id> ." before a destroy: that session may be gone without "DEL")
var stdout = Console.OpenStandardOutput();

void Print(string line)
{
    var bytes = Encoding.UTF8.GetBytes(line + "\n");
    stdout.Write(bytes, 0, bytes.Length);
    stdout.Flush();
}

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: create|read|hold|crash DB ...");
    return 2;
}

if (args[0] == "concurrent")
{
    var n = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 200;
    var c = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 32;
    await ConcurrentAsync(args[1], n, c);
    return 0;
}

if (args[0] == "bench")
{
    await BenchAsync(args[1], args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 2000);
    return 0;
}

var options = new SqliteSessionDatabaseOptions
{
    Synchronous = args.Length > 2 && args[0] == "crash" && args[2] == "normal" ? SqliteSynchronousMode.Normal : SqliteSynchronousMode.Full,
};
SqliteSessionDatabase database;
try
{
    database = new SqliteSessionDatabase(args[1], options);
}
catch (SessionDatabaseException e)
{
    Print("ERROR " + e.Message);
    return 3;
}

using (database)
{
    using var manager = new SessionManager(new SessionConfig { Database = database });
    switch (args[0])
    {
        case "create":
        {
            var session = await manager.StartAsync(new Carrier(null));
            session.Set(args[2], args[3]);
            session.SetFlash("notice", "created by another process");
            await session.CommitAsync();
            Print("ID " + session.Id);
            return 0;
        }
        case "read":
        {
            var session = await manager.StartAsync(new Carrier(args[2]));
            Print(session.IsNew ? "NEW" : "VALUE " + session.GetString(args[3]));
            return 0;
        }
        case "hold":
            Print("READY");
            await Console.In.ReadToEndAsync();
            return 0;
        case "crash":
            await CrashLoopAsync(manager);
            return 0;
        default:
            Console.Error.WriteLine("unknown command " + args[0]);
            return 2;
    }
}

async Task CrashLoopAsync(SessionManager manager)
{
    var random = new Random();
    var live = new List<string>();
    for (long n = 1; ; n++)
    {
        var action = random.Next(100);
        if (live.Count < 3 || action < 10)
        {
            var session = await manager.StartAsync(new Carrier(null));
            session.Set("k0", n);
            session.SetFlash("f", n);
            await session.CommitAsync();
            live.Add(session.Id);
            Print($"NEW {session.Id} k0 {n} .");
        }
        else if (action < 15 || live.Count > 20)
        {
            var index = random.Next(live.Count);
            var id = live[index];
            live.RemoveAt(index);
            Print($"DELETING {id} ."); // from here the session may be gone before "DEL" is printed
            await manager.DestroyByIdAsync(id);
            Print($"DEL {id} .");
        }
        else
        {
            var id = live[random.Next(live.Count)];
            var key = "k" + random.Next(5);
            var session = await manager.StartAsync(new Carrier(id));
            if (session.IsNew)
                throw new InvalidOperationException("a live session was not adopted");
            session.Set(key, n);
            await session.CommitAsync();
            Print($"SET {id} {key} {n} .");
        }
    }
}

async Task BenchAsync(string directory, int iterations)
{
    Directory.CreateDirectory(directory);
    Print($"{"database",-16} {"db.LoadAsync",14} {"request+load",14} {"request+commit",16}   (median, microseconds, {iterations} iterations)");
    using (var memory = new MemorySessionDatabase())
        await MeasureAsync("memory", memory, iterations);
    foreach (var mode in new[] { SqliteSynchronousMode.Full, SqliteSynchronousMode.Normal })
    {
        var path = Path.Combine(directory, $"bench-{mode}.db");
        foreach (var file in Directory.GetFiles(directory, $"bench-{mode}.db*"))
            File.Delete(file);
        using var sqlite = new SqliteSessionDatabase(path, new SqliteSessionDatabaseOptions { Synchronous = mode });
        await MeasureAsync($"sqlite {mode.ToString().ToLowerInvariant()}", sqlite, iterations);
    }
}

async Task ConcurrentAsync(string directory, int commits, int concurrency)
{
    Directory.CreateDirectory(directory);
    foreach (var mode in new[] { SqliteSynchronousMode.Full, SqliteSynchronousMode.Normal })
    {
        var path = Path.Combine(directory, $"concurrent-{mode}.db");
        foreach (var file in Directory.GetFiles(directory, $"concurrent-{mode}.db*"))
            File.Delete(file);
        using var sqlite = new SqliteSessionDatabase(path, new SqliteSessionDatabaseOptions { Synchronous = mode });
        using var manager = new SessionManager(new SessionConfig { Database = sqlite });
        var ids = new string[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            var created = await manager.StartAsync(new Carrier(null));
            created.Set("counter", 0);
            await created.CommitAsync();
            ids[i] = created.Id;
        }
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await Task.WhenAll(ids.Select(id => Task.Run(async () =>
        {
            for (var i = 0; i < commits; i++)
            {
                var session = await manager.StartAsync(new Carrier(id));
                session.Set("counter", i);
                await session.CommitAsync();
            }
        })));
        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
        Print($"sqlite {mode.ToString().ToLowerInvariant(),-7} {concurrency} concurrent x {commits} commits: {concurrency * commits / seconds:F0} commits/s ({seconds:F2} s)");
    }
}

async Task MeasureAsync(string name, ISessionDatabase database, int iterations)
{
    using var manager = new SessionManager(new SessionConfig { Database = database });
    var ids = new List<string>();
    for (var i = 0; i < 100; i++)
    {
        var created = await manager.StartAsync(new Carrier(null));
        created.Set("name", "iris");
        created.Set("counter", 0);
        created.Set("roles", new[] { "admin", "editor" });
        created.Set("profile", new { Name = "Edward", Age = 42 });
        created.SetFlash("notice", "welcome");
        await created.CommitAsync();
        ids.Add(created.Id);
    }
    var dbLoad = new double[iterations];
    var load = new double[iterations];
    var commit = new double[iterations];
    for (var warm = 0; warm < 2; warm++)
    {
        for (var i = 0; i < iterations; i++)
        {
            var id = ids[i % ids.Count];
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            _ = await database.LoadAsync(id, CancellationToken.None);
            dbLoad[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;

            start = System.Diagnostics.Stopwatch.GetTimestamp();
            var reading = await manager.StartAsync(new Carrier(id));
            _ = reading.GetString("name");
            await reading.CommitAsync();
            load[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;

            start = System.Diagnostics.Stopwatch.GetTimestamp();
            var writing = await manager.StartAsync(new Carrier(id));
            writing.Set("counter", i);
            await writing.CommitAsync();
            commit[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
    }
    static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }
    Print($"{name,-16} {Median(dbLoad),14:F1} {Median(load),14:F1} {Median(commit),16:F1}");
}

/// <summary>A request carrying at most the session cookie.</summary>
internal sealed class Carrier(string? id) : ICookieCarrier
{
    public string? CookieHeader { get; } = id is null ? null : $"{SessionConfig.DefaultCookieName}={id}";

    public string? Host => "localhost";

    public bool IsHttps => false;

    public Session? Session { get; set; }

    public bool HasStarted => false;

    public CancellationToken RequestAborted => default;

    // The caller commits explicitly, as an application on a host without a pipeline does.
    public void OnResponseStarting(Func<object, ValueTask> callback, object state)
    {
    }

    public void WriteCookie(in SessionCookie cookie)
    {
    }

    public void MarkPrivate(string varyOn)
    {
    }

    public string? RequestHeader(string name) => name == "Cookie" ? CookieHeader : null;

    public void WriteHeader(string name, string value)
    {
    }
}
