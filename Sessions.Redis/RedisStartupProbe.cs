using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sessions.Redis;

/// <summary>
/// At application start, in the background, checks the registered <see cref="RedisSessionDatabase"/> once and logs a
/// warning (event 6, SessionDatabaseUnreachableAtStart) when Redis cannot serve sessions: the application starts while
/// Redis is down, and this says so at once rather than at the first failed request. It never delays or fails the start.
/// </summary>
internal sealed class RedisStartupProbe(RedisSessionDatabase database, ILoggerFactory? loggerFactory = null) : IHostedService
{
    private Task? _probe;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (loggerFactory is not null)
            _probe = Task.Run(ProbeAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _probe ?? Task.CompletedTask;

    private async Task ProbeAsync()
    {
        var logger = loggerFactory!.CreateLogger<RedisSessionDatabase>();
        try
        {
            // The first connection attempt ends within StackExchange.Redis's connect timeout; then one check.
            await database.Connection.ConfigureAwait(false);
            var result = await new RedisSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext()).ConfigureAwait(false);
            if (result.Status != HealthStatus.Healthy)
                SessionLog.DatabaseUnreachableAtStart(logger, "redis", result.Description ?? result.Status.ToString(), result.Exception);
        }
        catch (Exception e)
        {
            SessionLog.DatabaseUnreachableAtStart(logger, "redis", e.Message, e);
        }
    }
}
