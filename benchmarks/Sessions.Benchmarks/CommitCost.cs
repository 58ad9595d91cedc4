using System.Globalization;
using Sessions.Redis;
using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Benchmarks;

/// <summary>
/// Server CPU per Redis commit: runs commits of the shapes a request makes (a create with one value; one value set on
/// an existing session, loaded first or started deferred) through <see cref="RedisSessionDatabase"/> against a redis-server of its own, and prints what
/// <c>INFO commandstats</c> says each <c>EVALSHA</c> cost (loads are HGETALL, so every EVALSHA is a commit).
/// </summary>
internal static class CommitCost
{
    public static async Task ReportAsync(int commits)
    {
        using var server = RedisProcess.Start(LoopbackPorts.Free());
        var endpoint = $"127.0.0.1:{server.Port}";
        using var admin = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true");
        var stats = admin.GetServer(endpoint);
        using var database = new RedisSessionDatabase(endpoint);
        using var sessions = new SessionManager(new SessionConfig { Database = database });
        var carrier = new BenchCarrier();

        var created = await MeasureAsync(stats, commits, async _ =>
        {
            var session = await sessions.StartAsync(carrier.Next(null));
            session.Set("name", "iris");
            await session.CommitAsync();
        });

        var first = await sessions.StartAsync(carrier.Next(null));
        first.Set("name", "iris");
        await first.CommitAsync();
        var cookie = "sid=" + first.Id;
        var set = await MeasureAsync(stats, commits, async i =>
        {
            var session = await sessions.StartAsync(carrier.Next(cookie));
            session.Set("counter", i);
            await session.CommitAsync();
        });

        var deferred = await MeasureAsync(stats, commits, async i =>
        {
            var request = carrier.Next(cookie);
            sessions.StartDeferred(request).Set("counter", i);
            await sessions.CommitAsync(request);
        });

        Console.WriteLine($"commit cost: create {created}; set {set}; deferred set {deferred} (redis-server CPU per EVALSHA, {commits:N0} commits each)");
    }

    // A warm-up first (the script cache, the connection), then the counted run between CONFIG RESETSTAT and INFO.
    private static async Task<string> MeasureAsync(IServer stats, int commits, Func<int, Task> commit)
    {
        for (var i = 0; i < Math.Min(1_000, commits); i++)
            await commit(i);
        await stats.ConfigResetStatisticsAsync();
        for (var i = 0; i < commits; i++)
            await commit(i);
        var info = await stats.InfoRawAsync("commandstats") ?? "";
        var line = info.Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_evalsha:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("INFO commandstats has no cmdstat_evalsha line: " + info);
        var fields = line.Trim()["cmdstat_evalsha:".Length..].Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        var calls = long.Parse(fields["calls"], CultureInfo.InvariantCulture);
        if (calls != commits)
            throw new InvalidOperationException($"expected {commits} EVALSHA calls, INFO counted {calls}");
        return $"{fields["usec_per_call"]} usec_per_call";
    }
}
