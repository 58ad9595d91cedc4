using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sessions.Redis;
using Sessions.Sqlite;
using Sessions.Testing;

namespace Sessions.AspNetCore.Tests;

/// <summary>
/// The databases the <c>HttpContext.Session</c> bridge is tested on: memory, a real redis-server, SQLite in a temporary
/// directory. One instance per fixture; <see cref="Register"/> adds a fresh database to each application.
/// </summary>
internal sealed class BridgeDatabases : IDisposable
{
    private readonly string _kind;
    private RedisProcess? _redis;
    private string? _directory;

    public BridgeDatabases(string kind)
    {
        _kind = kind;
        if (kind == "redis")
            _redis = RedisProcess.Start(LoopbackPorts.Free());
        else if (kind == "sqlite")
            _directory = Directory.CreateTempSubdirectory("sessions-bridge-").FullName;
        else if (kind != "memory")
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "memory, redis or sqlite");
    }

    /// <summary>Registers the database as the application's <see cref="ISessionDatabase"/> (nothing for memory, the default).</summary>
    public void Register(IServiceCollection services)
    {
        switch (_kind)
        {
            case "redis":
                services.AddRedisSessionDatabase($"127.0.0.1:{_redis!.Port}", o => o.KeyPrefix = $"bridge{Guid.NewGuid():N}:");
                break;
            case "sqlite":
                services.AddSingleton<ISessionDatabase>(_ => new SqliteSessionDatabase(Path.Combine(_directory!, Guid.NewGuid().ToString("N") + ".db")));
                break;
        }
    }

    public void Dispose()
    {
        _redis?.Dispose();
        if (_directory is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // a file still closing; leftovers in the temp folder are harmless
            }
        }
    }
}

/// <summary>Starts applications on Kestrel (loopback, free port) for the bridge and keyed-manager tests.</summary>
internal static class BridgeApp
{
    /// <summary>Builds and starts an application; <paramref name="pipeline"/> adds the middleware and endpoints.</summary>
    public static Task<RunningApp> StartAsync(Action<IServiceCollection> services, Action<WebApplication> pipeline)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        services(builder.Services);
        var app = builder.Build();
        pipeline(app);
        return RunningApp.StartAsync(app);
    }
}
