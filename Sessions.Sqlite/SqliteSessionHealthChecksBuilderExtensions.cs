using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.Sqlite;

/// <summary>Adds the <see cref="SqliteSessionDatabaseHealthCheck"/> to ASP.NET Core health checks: <c>services.AddHealthChecks().AddSqliteSessionDatabaseCheck()</c>.</summary>
public static class SqliteSessionHealthChecksBuilderExtensions
{
    /// <summary>The default name of the check.</summary>
    public const string DefaultName = "sessions-sqlite";

    /// <summary>
    /// Checks the <see cref="SqliteSessionDatabase"/> registered in the container (by <c>AddSqliteSessionDatabase</c>):
    /// the file is still there and one read succeeds within the database's operation timeout.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name (default <c>sessions-sqlite</c>).</param>
    /// <param name="failureStatus">What a failure reports (default <see cref="HealthStatus.Unhealthy"/>).</param>
    /// <param name="tags">Tags to filter checks by, e.g. <c>ready</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddSqliteSessionDatabaseCheck(this IHealthChecksBuilder builder, string name = DefaultName,
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        if (builder is null)
            throw new ArgumentNullException(nameof(builder));
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A health check name is required.", nameof(name));
        return builder.Add(new HealthCheckRegistration(name,
            provider => new SqliteSessionDatabaseHealthCheck(provider.GetRequiredService<SqliteSessionDatabase>()), failureStatus, tags));
    }
}
