using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sessions.AspNetCore;

/// <summary>
/// Several <see cref="SessionManager"/>s side by side in one application, as .NET keyed services: e.g. the site's session
/// and a separate administration session, each with its own cookie, lifetime and database.
/// </summary>
public static class KeyedSessionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SessionManager"/> under <paramref name="serviceKey"/>, resolved with
    /// <c>[FromKeyedServices("admin")] SessionManager admin</c>, <c>provider.GetRequiredKeyedService&lt;SessionManager&gt;("admin")</c>
    /// or <c>await context.GetSessionAsync("admin")</c>. Its settings are the named <see cref="SessionConfig"/> options
    /// <paramref name="serviceKey"/> (bind them with <c>services.Configure&lt;SessionConfig&gt;("admin", section)</c>),
    /// validated at start-up. Its database is, in order: <see cref="SessionConfig.Database"/>, the keyed
    /// <see cref="ISessionDatabase"/> registered under the same key (e.g.
    /// <c>services.AddKeyedSingleton&lt;ISessionDatabase&gt;("admin", ...)</c>), else a memory database of its own; never
    /// the unkeyed database of <c>AddSessions</c>. Give each manager its own <see cref="SessionConfig.Cookie"/>:
    /// two managers reading one cookie would each refuse the other's sessions. <c>app.UseSessions()</c> commits the
    /// session of every manager the request used.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The manager's key (also the name of its options).</param>
    /// <param name="configure">Sets the manager's settings.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddKeyedSessions(this IServiceCollection services, string serviceKey, Action<SessionConfig>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (string.IsNullOrEmpty(serviceKey))
            throw new ArgumentException("A keyed session manager needs a non-empty key, e.g. \"admin\".", nameof(serviceKey));
        var options = services.AddOptions<SessionConfig>(serviceKey);
        if (configure is not null)
            options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionConfig>, SessionsServiceCollectionExtensions.SessionConfigValidation>());
        services.TryAddKeyedSingleton(serviceKey, static (provider, key) =>
        {
            var name = (string)key!;
            var config = provider.GetRequiredService<IOptionsMonitor<SessionConfig>>().Get(name);
            return SessionsServiceCollectionExtensions.CreateManager(provider, config, provider.GetKeyedService<ISessionDatabase>(name));
        });
        return services;
    }
}
