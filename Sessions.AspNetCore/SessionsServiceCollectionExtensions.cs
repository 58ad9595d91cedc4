using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Sessions.AspNetCore;

/// <summary>Registers Sessions in an ASP.NET Core application: <c>services.AddSessions(...)</c> and <c>app.UseSessions()</c>.</summary>
public static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SessionManager"/> built from the <see cref="SessionConfig"/> options (bindable, e.g.
    /// <c>services.Configure&lt;SessionConfig&gt;(configuration.GetSection("Sessions"))</c>), validated at start-up.
    /// When the options name no database, an <see cref="ISessionDatabase"/> registered in the container is used, else the
    /// memory database; when they keep the system clock, a <see cref="TimeProvider"/> registered in the container is used.
    /// Unless the options set their own, the manager logs to the container's <see cref="Microsoft.Extensions.Logging.ILoggerFactory"/>
    /// and creates its meter with the container's <see cref="System.Diagnostics.Metrics.IMeterFactory"/> (docs/observability.md).
    /// </summary>
    public static IServiceCollection AddSessions(this IServiceCollection services, Action<SessionConfig>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        var options = services.AddOptions<SessionConfig>();
        if (configure is not null)
            options.Configure(configure);
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SessionConfig>, SessionConfigValidation>());
        services.TryAddSingleton(provider => CreateManager(provider, provider.GetRequiredService<IOptions<SessionConfig>>().Value, provider.GetService<ISessionDatabase>()));
        return services;
    }

    /// <summary>A manager on <paramref name="config"/>, taking <paramref name="registered"/> and the container's clock where the configuration names none.</summary>
    internal static SessionManager CreateManager(IServiceProvider provider, SessionConfig config, ISessionDatabase? registered)
    {
        var database = config.Database ?? registered;
        var time = config.TimeProvider == TimeProvider.System ? provider.GetService<TimeProvider>() ?? TimeProvider.System : config.TimeProvider;
        var loggerFactory = config.LoggerFactory ?? provider.GetService<Microsoft.Extensions.Logging.ILoggerFactory>();
        var meterFactory = config.MeterFactory ?? provider.GetService<System.Diagnostics.Metrics.IMeterFactory>();
        if (database != config.Database || time != config.TimeProvider || loggerFactory != config.LoggerFactory || meterFactory != config.MeterFactory)
        {
            config = config.Clone();
            config.Database = database;
            config.TimeProvider = time;
            config.LoggerFactory = loggerFactory;
            config.MeterFactory = meterFactory;
        }
        return new SessionManager(config);
    }

    /// <summary>
    /// Registers the <see cref="SessionManager"/> as <see cref="AddSessions(IServiceCollection, Action{SessionConfig}?)"/> does,
    /// binding <see cref="SessionSettings"/> (the settings configuration can hold) from <paramref name="section"/> (e.g. <c>Cookie</c>, <c>Expires</c> "02:00:00",
    /// <c>IdleTimeout</c> "00:30:00", <c>CookieSecure</c> "Always"); <paramref name="configure"/> runs after binding. The
    /// settings are validated at start-up, and a key that names no <see cref="SessionConfig"/> setting fails the start too,
    /// so a misspelt setting is not silently ignored.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section, e.g. <c>builder.Configuration.GetSection("Sessions")</c>.</param>
    /// <param name="configure">Adjusts the settings after binding (e.g. objects configuration cannot hold).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddSessions(this IServiceCollection services, IConfiguration section, Action<SessionConfig>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (section is null)
            throw new ArgumentNullException(nameof(section));
        services.AddOptions<SessionSettings>().Bind(section, binder => binder.ErrorOnUnknownConfiguration = true);
        services.AddOptions<SessionConfig>().Configure<IOptions<SessionSettings>>((config, settings) => settings.Value.ApplyTo(config));
        return services.AddSessions(configure);
    }

    /// <summary>Adds the middleware that commits each request's session after the pipeline.</summary>
    public static IApplicationBuilder UseSessions(this IApplicationBuilder app)
    {
        if (app is null)
            throw new ArgumentNullException(nameof(app));
        return app.UseMiddleware<SessionsMiddleware>();
    }

    internal sealed class SessionConfigValidation : IValidateOptions<SessionConfig>
    {
        public ValidateOptionsResult Validate(string? name, SessionConfig options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (ArgumentException e)
            {
                return ValidateOptionsResult.Fail(e.Message);
            }
        }
    }
}
