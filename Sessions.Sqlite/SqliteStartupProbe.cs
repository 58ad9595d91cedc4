using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sessions.Sqlite;

/// <summary>
/// At application start, in the background, opens the registered <see cref="SqliteSessionDatabase"/> (which the container
/// otherwise opens at the first request) and checks it once, logging a warning (event 6, SessionDatabaseUnreachableAtStart)
/// when the file cannot be used: missing directory, locked by another process, read-only, damaged. It never delays or
/// fails the start; requests keep failing (503) until the file is usable.
/// </summary>
internal sealed class SqliteStartupProbe(IServiceProvider services, ILoggerFactory? loggerFactory = null) : IHostedService
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
        var logger = loggerFactory!.CreateLogger<SqliteSessionDatabase>();
        try
        {
            var database = services.GetRequiredService<SqliteSessionDatabase>();
            var result = await new SqliteSessionDatabaseHealthCheck(database).CheckHealthAsync(new HealthCheckContext()).ConfigureAwait(false);
            if (result.Status != HealthStatus.Healthy)
                SessionLog.DatabaseUnreachableAtStart(logger, "sqlite", result.Description ?? result.Status.ToString(), result.Exception);
        }
        catch (Exception e) when (e is SessionDatabaseException or ObjectDisposedException)
        {
            SessionLog.DatabaseUnreachableAtStart(logger, "sqlite", e.Message, e);
        }
    }
}
