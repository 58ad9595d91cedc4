using System.Diagnostics;
using Sessions.Redis;
using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Benchmarks;

/// <summary>
/// Client CPU per Redis request: this process's CPU time per operation while 32 callers run write-only requests
/// (StartDeferred + Set + commit) through <see cref="RedisSessionDatabase"/>, against the same callers each sending one
/// plain <c>HSET</c> (what one round trip costs the client), then read-only requests (StartAsync + GetString + commit)
/// against a plain <c>HGETALL</c> of the same session's hash, in alternation, against a redis-server of its own (whose CPU
/// is not counted), and the bytes each allocates. CPU time, unlike throughput, hardly moves with what else the machine runs.
/// </summary>
internal static class ClientCost
{
    public static async Task ReportAsync(int operations, int callers, int rounds)
    {
        using var server = RedisProcess.Start(LoopbackPorts.Free());
        var endpoint = $"127.0.0.1:{server.Port}";
        using var plain = await ConnectionMultiplexer.ConnectAsync(endpoint);
        var db = plain.GetDatabase();
        using var database = new RedisSessionDatabase(endpoint);
        using var sessions = new SessionManager(new SessionConfig { Database = database });
        var first = await sessions.StartAsync(new BenchCarrier().Next(null));
        first.Set("name", "iris");
        await first.CommitAsync();
        var cookie = "sid=" + first.Id;

        var sessionKey = database.KeyOf(first.Id);
        Func<BenchCarrier, Task> hset = _ => db.HashSetAsync("plain", "name", "iris");
        Func<BenchCarrier, Task> hgetall = _ => db.HashGetAllAsync(sessionKey);
        Func<BenchCarrier, Task> writeOnly = carrier =>
        {
            var request = carrier.Next(cookie);
            sessions.StartDeferred(request).Set("name", "iris");
            return sessions.CommitAsync(request).AsTask();
        };
        Func<BenchCarrier, Task> readOnly = async carrier =>
        {
            var request = carrier.Next(cookie);
            (await sessions.StartAsync(request)).GetString("name", "");
            await sessions.CommitAsync(request);
        };
        foreach (var warmUp in new[] { hset, writeOnly, hgetall, readOnly })
            await MeasureAsync(warmUp, operations / 10, callers); // JIT tiers, connections, script cache
        for (var round = 1; round <= rounds; round++)
        {
            var (plainCost, plainBytes) = await MeasureAsync(hset, operations, callers);
            var (sessionCost, sessionBytes) = await MeasureAsync(writeOnly, operations, callers);
            var (readPlainCost, readPlainBytes) = await MeasureAsync(hgetall, operations, callers);
            var (readCost, readBytes) = await MeasureAsync(readOnly, operations, callers);
            Console.WriteLine($"client CPU per operation, round {round}: HSET {plainCost:F2} us, {plainBytes:F0} B allocated; write-only request {sessionCost:F2} us, {sessionBytes:F0} B; "
                + $"HGETALL {readPlainCost:F2} us, {readPlainBytes:F0} B; read-only request {readCost:F2} us, {readBytes:F0} B ({callers} callers, {operations:N0} operations each)");
        }
    }

    private static async Task<(double Microseconds, double Bytes)> MeasureAsync(Func<BenchCarrier, Task> operation, int operations, int callers)
    {
        async Task CallerAsync(int count)
        {
            var carrier = new BenchCarrier();
            for (var i = 0; i < count; i++)
                await operation(carrier);
        }
        using var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => CallerAsync(operations / callers)));
        process.Refresh();
        var done = operations / callers * callers;
        return ((process.TotalProcessorTime - before).TotalMilliseconds * 1000 / done, (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)done);
    }
}
