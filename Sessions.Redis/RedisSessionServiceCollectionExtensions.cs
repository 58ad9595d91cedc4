using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Sessions.Redis;

/// <summary>Registers a <see cref="RedisSessionDatabase"/> as the application's <see cref="ISessionDatabase"/>.</summary>
public static class RedisSessionServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="RedisSessionDatabase"/> singleton, also as <see cref="ISessionDatabase"/> (which the host
    /// adapters' session registration picks from the container), that connects with a StackExchange.Redis configuration
    /// string. The application starts while Redis is down (a warning is logged at start, see docs/observability.md); the
    /// container closes the connection on shutdown.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The StackExchange.Redis configuration string, e.g. <c>localhost:6379</c>.</param>
    /// <param name="configure">Adjusts the settings; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddRedisSessionDatabase(this IServiceCollection services, string configuration, Action<RedisSessionOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (string.IsNullOrWhiteSpace(configuration))
            throw new ArgumentException("A Redis configuration string is required, e.g. \"localhost:6379\".", nameof(configuration));
        var options = Options(configure);
        ConfigurationOptions.Parse(configuration); // a malformed string fails at registration, not at the first request
        services.AddSingleton(_ => new RedisSessionDatabase(configuration, options));
        services.AddSingleton<ISessionDatabase>(provider => provider.GetRequiredService<RedisSessionDatabase>());
        services.AddHostedService(provider => new RedisStartupProbe(provider.GetRequiredService<RedisSessionDatabase>(), provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Registers a <see cref="RedisSessionDatabase"/> singleton, also as <see cref="ISessionDatabase"/>, on the
    /// <see cref="IConnectionMultiplexer"/> already registered in the container (the application's shared connection).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the settings; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddRedisSessionDatabase(this IServiceCollection services, Action<RedisSessionOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        var options = Options(configure);
        services.AddSingleton(provider => new RedisSessionDatabase(provider.GetRequiredService<IConnectionMultiplexer>(), options));
        services.AddSingleton<ISessionDatabase>(provider => provider.GetRequiredService<RedisSessionDatabase>());
        services.AddHostedService(provider => new RedisStartupProbe(provider.GetRequiredService<RedisSessionDatabase>(), provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>The configuration key holding the StackExchange.Redis configuration string in <see cref="AddRedisSessionDatabase(IServiceCollection, IConfiguration, Action{RedisSessionOptions}?)"/>.</summary>
    public const string ConfigurationKey = "Configuration";

    /// <summary>
    /// Registers a <see cref="RedisSessionDatabase"/> singleton, also as <see cref="ISessionDatabase"/>, from configuration:
    /// the other keys of <paramref name="section"/> bind to <see cref="RedisSessionOptions"/> (<c>KeyPrefix</c>,
    /// <c>OperationTimeout</c> "00:00:02", <c>ExpirySlack</c>, <c>PublishEvents</c>, <c>SubscribeToEvents</c>,
    /// <c>ConfigureKeyspaceNotifications</c>). With a <c>Configuration</c> key (a StackExchange.Redis
    /// configuration string, e.g. <c>localhost:6379</c>) the database owns its connection as
    /// <see cref="AddRedisSessionDatabase(IServiceCollection, string, Action{RedisSessionOptions}?)"/> does; without one it
    /// uses the <see cref="IConnectionMultiplexer"/> registered in the container.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section, e.g. <c>configuration.GetSection("Sessions:Redis")</c>.</param>
    /// <param name="configure">Adjusts the settings after binding; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddRedisSessionDatabase(this IServiceCollection services, IConfiguration section, Action<RedisSessionOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (section is null)
            throw new ArgumentNullException(nameof(section));
        void Bound(RedisSessionOptions options)
        {
            section.Bind(options);
            configure?.Invoke(options);
        }
        var configuration = section[ConfigurationKey];
        return configuration is null
            ? services.AddRedisSessionDatabase(Bound)
            : services.AddRedisSessionDatabase(configuration, Bound);
    }

    private static RedisSessionOptions Options(Action<RedisSessionOptions>? configure)
    {
        var options = new RedisSessionOptions();
        configure?.Invoke(options);
        return options.Validated();
    }
}
