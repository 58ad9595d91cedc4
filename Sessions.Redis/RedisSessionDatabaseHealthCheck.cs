using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Sessions.Redis;

/// <summary>
/// Whether a <see cref="RedisSessionDatabase"/> can serve sessions: every Redis server it knows is connected, each primary
/// answers <c>PING</c> and loads the session scripts (<c>SCRIPT LOAD</c>, which also proves scripting is allowed), all
/// within <see cref="RedisSessionOptions.OperationTimeout"/>. Unhealthy when no primary answers, a primary is unreachable
/// (in a cluster, the sessions in its slots fail) or refuses a script; degraded when only a replica is unreachable, or a
/// <c>PING</c> took more than half the operation timeout. A server that never connected counts as a primary: its role is
/// unknown. Descriptions name servers, never a session.
/// </summary>
public sealed class RedisSessionDatabaseHealthCheck : IHealthCheck
{
    private readonly RedisSessionDatabase _database;

    /// <summary>Creates the check of <paramref name="database"/>.</summary>
    public RedisSessionDatabaseHealthCheck(RedisSessionDatabase database) =>
        _database = database ?? throw new ArgumentNullException(nameof(database));

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        var timeout = _database.OperationTimeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var connection = await WithinAsync(_database.Connection, deadline.Token).ConfigureAwait(false);
            var unreachable = new List<string>();
            var unreachablePrimaries = 0;
            var answered = 0;
            var slowest = TimeSpan.Zero;
            foreach (var endpoint in connection.GetEndPoints())
            {
                var server = connection.GetServer(endpoint);
                if (!server.IsConnected)
                {
                    unreachable.Add(endpoint.ToString() ?? "?");
                    unreachablePrimaries += server.IsReplica ? 0 : 1; // the last role seen
                    continue;
                }
                if (server.IsReplica)
                    continue;
                var stopwatch = Stopwatch.StartNew();
                await WithinAsync(server.PingAsync(), deadline.Token).ConfigureAwait(false);
                slowest = stopwatch.Elapsed > slowest ? stopwatch.Elapsed : slowest;
                foreach (var script in RedisScripts.All)
                {
                    var hash = await WithinAsync(server.ScriptLoadAsync(script.Text), deadline.Token).ConfigureAwait(false);
                    if (!hash.AsSpan().SequenceEqual(script.Hash))
                        return new HealthCheckResult(failure, $"Redis server {endpoint} loaded a session script under an unexpected SHA-1.");
                }
                answered++;
            }
            var data = new Dictionary<string, object>
            {
                ["primaries"] = answered,
                ["unreachable"] = unreachable.Count,
                ["pingMilliseconds"] = Math.Round(slowest.TotalMilliseconds, 1),
            };
            if (answered == 0)
                return new HealthCheckResult(failure, unreachable.Count == 0 ? "No Redis primary is known." : $"No Redis primary answers; unreachable: {string.Join(", ", unreachable)}.", data: data);
            if (unreachablePrimaries > 0)
                return new HealthCheckResult(failure, $"{unreachablePrimaries} Redis primary(ies) are unreachable, so some sessions cannot be served: {string.Join(", ", unreachable)}.", data: data);
            if (unreachable.Count > 0)
                return HealthCheckResult.Degraded($"Redis primaries answer, but {unreachable.Count} replica(s) are unreachable: {string.Join(", ", unreachable)}.", data: data);
            if (slowest > TimeSpan.FromTicks(timeout.Ticks / 2))
                return HealthCheckResult.Degraded($"Redis answered PING in {slowest.TotalMilliseconds:0} ms, more than half the operation timeout ({timeout.TotalMilliseconds:0} ms).", data: data);
            return HealthCheckResult.Healthy($"Redis answers ({answered} primary(ies)); the session scripts are loaded.", data);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Our deadline, or StackExchange.Redis's own: on a connection the database made, it is the same timeout.
            return new HealthCheckResult(failure, $"Redis did not answer within the operation timeout ({timeout.TotalMilliseconds:0} ms).", e as TimeoutException);
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            return new HealthCheckResult(failure, $"Redis cannot serve sessions: {e.GetType().Name}: {FirstLine(e.Message)}", e);
        }
    }

    private static async Task<T> WithinAsync<T>(Task<T> task, CancellationToken cancellationToken)
    {
#if NET
        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
#else
        var cancelled = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken)))
            return await (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
#endif
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message.Substring(0, end);
    }
}
