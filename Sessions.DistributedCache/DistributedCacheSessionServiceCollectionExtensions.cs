using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;

namespace Sessions.DistributedCache;

/// <summary>Registers a <see cref="DistributedCacheSessionDatabase"/> on the application's <see cref="IDistributedCache"/>.</summary>
public static class DistributedCacheSessionServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="DistributedCacheSessionDatabase"/> singleton, also as <see cref="ISessionDatabase"/> (which the
    /// host adapters' session registration picks from the container), on the <see cref="IDistributedCache"/> registered in
    /// the container (e.g. by <c>AddStackExchangeRedisCache</c>, <c>AddDistributedSqlServerCache</c> or
    /// <c>AddDistributedMemoryCache</c>) and the registered <see cref="TimeProvider"/>, if any.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the settings; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddDistributedCacheSessionDatabase(this IServiceCollection services, Action<DistributedCacheSessionOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        var options = Options(configure);
        services.AddSingleton(provider => Create(provider, options));
        services.AddSingleton<ISessionDatabase>(provider => provider.GetRequiredService<DistributedCacheSessionDatabase>());
        return services;
    }

    /// <summary>
    /// Registers a <see cref="DistributedCacheSessionDatabase"/> as the keyed <see cref="ISessionDatabase"/> of
    /// <paramref name="serviceKey"/>, which <c>AddKeyedSessions(serviceKey, ...)</c> uses. Give each keyed database its own
    /// <see cref="DistributedCacheSessionOptions.KeyPrefix"/> when several share one cache.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key of the session manager that uses this database.</param>
    /// <param name="configure">Adjusts the settings; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddKeyedDistributedCacheSessionDatabase(this IServiceCollection services, object serviceKey, Action<DistributedCacheSessionOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (serviceKey is null)
            throw new ArgumentNullException(nameof(serviceKey));
        var options = Options(configure);
        services.AddKeyedSingleton<ISessionDatabase>(serviceKey, (provider, _) => Create(provider, options));
        return services;
    }

    private static DistributedCacheSessionDatabase Create(IServiceProvider provider, DistributedCacheSessionOptions options) =>
        new(provider.GetService<IDistributedCache>()
            ?? throw new InvalidOperationException("No IDistributedCache is registered: register one (e.g. services.AddStackExchangeRedisCache(...) or services.AddDistributedMemoryCache()) before AddDistributedCacheSessionDatabase()."),
            options, provider.GetService<TimeProvider>());

    private static DistributedCacheSessionOptions Options(Action<DistributedCacheSessionOptions>? configure)
    {
        var options = new DistributedCacheSessionOptions();
        configure?.Invoke(options);
        return options.Validated();
    }
}
