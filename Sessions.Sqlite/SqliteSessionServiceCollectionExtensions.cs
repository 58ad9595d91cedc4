using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sessions.Sqlite;

/// <summary>Registers a <see cref="SqliteSessionDatabase"/> as the application's <see cref="ISessionDatabase"/>.</summary>
public static class SqliteSessionServiceCollectionExtensions
{
    /// <summary>The configuration key holding the database file path in <see cref="AddSqliteSessionDatabase(IServiceCollection, IConfiguration, Action{SqliteSessionDatabaseOptions}?)"/>.</summary>
    public const string PathKey = "Path";

    /// <summary>
    /// Registers a <see cref="SqliteSessionDatabase"/> singleton, also as <see cref="ISessionDatabase"/> (which the host
    /// adapters' session registration picks from the container), on the file at <paramref name="path"/>. The database is
    /// opened when first resolved, uses the container's <see cref="TimeProvider"/> when one is registered, and is disposed
    /// with the container.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="path">The database file; a relative path is resolved against the current directory at registration.</param>
    /// <param name="configure">Adjusts the settings; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddSqliteSessionDatabase(this IServiceCollection services, string path, Action<SqliteSessionDatabaseOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("A session database file path is required.", nameof(path));
        var options = new SqliteSessionDatabaseOptions();
        configure?.Invoke(options);
        return Register(services, path, options);
    }

    /// <summary>
    /// Registers a <see cref="SqliteSessionDatabase"/> singleton as <see cref="AddSqliteSessionDatabase(IServiceCollection, string, Action{SqliteSessionDatabaseOptions}?)"/>
    /// does, reading the file from the <c>Path</c> key of <paramref name="section"/> and binding the other keys to
    /// <see cref="SqliteSessionDatabaseOptions"/> (e.g. <c>Synchronous</c>, <c>BusyTimeout</c> "00:00:05", <c>MaxConnections</c>).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="section">The configuration section, e.g. <c>configuration.GetSection("Sessions:Sqlite")</c>.</param>
    /// <param name="configure">Adjusts the settings after binding; they are checked here, at registration.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddSqliteSessionDatabase(this IServiceCollection services, IConfiguration section, Action<SqliteSessionDatabaseOptions>? configure = null)
    {
        if (services is null)
            throw new ArgumentNullException(nameof(services));
        if (section is null)
            throw new ArgumentNullException(nameof(section));
        var path = section[PathKey];
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException($"The configuration has no '{PathKey}' key for the session database file{Where(section)}.", nameof(section));
        var options = new SqliteSessionDatabaseOptions();
        section.Bind(options);
        configure?.Invoke(options);
        return Register(services, path!, options);
    }

    private static IServiceCollection Register(IServiceCollection services, string path, SqliteSessionDatabaseOptions options)
    {
        options.Validate();
        var fullPath = Path.GetFullPath(path);
        services.AddSingleton(provider => new SqliteSessionDatabase(fullPath, options, provider.GetService<TimeProvider>()));
        services.AddSingleton<ISessionDatabase>(provider => provider.GetRequiredService<SqliteSessionDatabase>());
        services.AddHostedService(provider => new SqliteStartupProbe(provider, provider.GetService<ILoggerFactory>()));
        return services;
    }

    private static string Where(IConfiguration section) => section is IConfigurationSection s ? $" (section '{s.Path}')" : "";
}
