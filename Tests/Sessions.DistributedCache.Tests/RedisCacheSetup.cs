using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;
using Sessions.Testing;

namespace Sessions.DistributedCache.Tests;

/// <summary>A real redis-server and a <see cref="RedisCache"/> on it, for one fixture.</summary>
internal sealed class RedisCacheServer : IDisposable
{
    private RedisCacheServer(RedisProcess process, RedisCache cache)
    {
        Process = process;
        Cache = cache;
    }

    public RedisProcess Process { get; }

    public RedisCache Cache { get; }

    public static RedisCacheServer Start(string instanceName = "")
    {
        var process = RedisProcess.Start(LoopbackPorts.Free());
        var cache = new RedisCache(Options.Create(new RedisCacheOptions
        {
            Configuration = $"127.0.0.1:{process.Port},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000",
            InstanceName = instanceName,
        }));
        return new RedisCacheServer(process, cache);
    }

    public void Dispose()
    {
        Cache.Dispose();
        Process.Dispose();
    }
}
