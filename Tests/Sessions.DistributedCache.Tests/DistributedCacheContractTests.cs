using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Sessions.Testing;

namespace Sessions.DistributedCache.Tests;

/// <summary>
/// The store contract over an <see cref="IDistributedCache"/>. The database cannot enumerate its sessions, so DestroyAll
/// is checked to fail with <see cref="NotSupportedException"/> (see <see cref="SessionDatabaseContract.CanDestroyAll"/>);
/// every other contract test runs as it does on the other databases.
/// </summary>
public abstract class DistributedCacheContract : SessionDatabaseContract
{
    protected override bool CanDestroyAll => false;

    /// <summary>The cache under test, fresh (or under a fresh key prefix) for each test.</summary>
    protected abstract IDistributedCache CreateCache();

    protected override ISessionDatabase CreateDatabase() =>
        new DistributedCacheSessionDatabase(CreateCache(), new DistributedCacheSessionOptions { KeyPrefix = $"t{Guid.NewGuid():N}:" }, Time);
}

/// <summary>The contract over <see cref="MemoryDistributedCache"/> (what <c>AddDistributedMemoryCache()</c> registers).</summary>
[TestFixture]
public sealed class MemoryDistributedCacheContractTests : DistributedCacheContract
{
    protected override IDistributedCache CreateCache() => new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
}

/// <summary>The contract over <see cref="RedisCache"/> (what <c>AddStackExchangeRedisCache()</c> registers) on a real redis-server.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisCacheContractTests : DistributedCacheContract
{
    private RedisCacheServer _redis = null!;

    [OneTimeSetUp]
    public void StartRedis() => _redis = RedisCacheServer.Start();

    [OneTimeTearDown]
    public void StopRedis() => _redis.Dispose();

    protected override IDistributedCache CreateCache() => _redis.Cache;
}
