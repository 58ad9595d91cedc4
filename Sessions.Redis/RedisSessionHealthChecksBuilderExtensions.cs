using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Sessions.Redis;

/// <summary>Adds the <see cref="RedisSessionDatabaseHealthCheck"/> to ASP.NET Core health checks: <c>services.AddHealthChecks().AddRedisSessionDatabaseCheck()</c>.</summary>
public static class RedisSessionHealthChecksBuilderExtensions
{
    /// <summary>The default name of the check.</summary>
    public const string DefaultName = "sessions-redis";

    /// <summary>
    /// Checks the <see cref="RedisSessionDatabase"/> registered in the container (by <c>AddRedisSessionDatabase</c>):
    /// PING and the session scripts on every primary, within the database's operation timeout.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name (default <c>sessions-redis</c>).</param>
    /// <param name="failureStatus">What a failure reports (default <see cref="HealthStatus.Unhealthy"/>).</param>
    /// <param name="tags">Tags to filter checks by, e.g. <c>ready</c>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddRedisSessionDatabaseCheck(this IHealthChecksBuilder builder, string name = DefaultName,
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        if (builder is null)
            throw new ArgumentNullException(nameof(builder));
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A health check name is required.", nameof(name));
        return builder.Add(new HealthCheckRegistration(name,
            provider => new RedisSessionDatabaseHealthCheck(provider.GetRequiredService<RedisSessionDatabase>()), failureStatus, tags));
    }
}
