using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.Sqlite;

/// <summary>
/// Whether a <see cref="SqliteSessionDatabase"/> can serve sessions: its file is still at its path (not deleted or moved
/// while open, which would lose every session written afterwards at the next start) and one keyed read through the
/// connection pool succeeds within <see cref="SqliteSessionDatabaseOptions.OperationTimeout"/>. Unhealthy when the file
/// is gone, the read fails or times out (every connection busy, the file locked or damaged) or the database is disposed;
/// degraded when the read took more than half the operation timeout. Descriptions name the file, never a session.
/// </summary>
public sealed class SqliteSessionDatabaseHealthCheck : IHealthCheck
{
    // A well-formed ID no session has: the read is the one a request makes, on an index, and finds nothing.
    private const string ProbeId = "sessions-health-check-probe";

    private readonly SqliteSessionDatabase _database;

    /// <summary>Creates the check of <paramref name="database"/>.</summary>
    public SqliteSessionDatabaseHealthCheck(SqliteSessionDatabase database) =>
        _database = database ?? throw new ArgumentNullException(nameof(database));

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy;
        var file = Path.GetFileName(_database.Path);
        if (!File.Exists(_database.Path))
            return new HealthCheckResult(failure, $"The session database file '{file}' is gone (deleted or moved while open): sessions written now would be lost at the next start.");
        var timeout = _database.Options.OperationTimeout;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await _database.LoadAsync(ProbeId, cancellationToken).ConfigureAwait(false);
        }
        catch (SessionDatabaseException e)
        {
            return new HealthCheckResult(failure, $"The session database '{file}' cannot be read: {e.Message}", e);
        }
        catch (ObjectDisposedException e)
        {
            return new HealthCheckResult(failure, $"The session database '{file}' is closed (disposed).", e);
        }
        var elapsed = stopwatch.Elapsed;
        var data = new Dictionary<string, object> { ["readMilliseconds"] = Math.Round(elapsed.TotalMilliseconds, 1) };
        if (elapsed > TimeSpan.FromTicks(timeout.Ticks / 2))
            return HealthCheckResult.Degraded($"A read of the session database '{file}' took {elapsed.TotalMilliseconds:0} ms, more than half the operation timeout ({timeout.TotalMilliseconds:0} ms).", data: data);
        return HealthCheckResult.Healthy($"The session database '{file}' answers.", data);
    }
}
