using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sessions.Testing;
using StackExchange.Redis;

namespace Sessions.Redis.Tests;

/// <summary><c>services.AddRedisSessionDatabase(...)</c>: what it registers, what it checks, and that it works on a real server.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RegistrationTests
{
    private RedisProcess? _redis;

    private RedisProcess Redis => _redis ?? throw new InvalidOperationException("redis-server did not start.");

    [OneTimeSetUp]
    public void StartServer() => _redis = RedisProcess.Start(LoopbackPorts.Free());

    [OneTimeTearDown]
    public void StopServer() => _redis?.Dispose();

    [Test]
    public async Task AddRedisSessionDatabase_RegistersOneSingleton_AsISessionDatabase_ThatWorks()
    {
        var services = new ServiceCollection().AddRedisSessionDatabase($"127.0.0.1:{Redis.Port}", o => o.KeyPrefix = "di:");
        await using (var provider = services.BuildServiceProvider())
        {
            var database = provider.GetRequiredService<ISessionDatabase>();
            database.Should().BeOfType<RedisSessionDatabase>().And.BeSameAs(provider.GetRequiredService<RedisSessionDatabase>());
            database.SharesRecords.Should().BeFalse();

            using var manager = new SessionManager(new SessionConfig { Database = database });
            var session = await manager.StartAsync(new TestCarrier());
            session.Set("name", "iris");
            await session.CommitAsync();
            (await database.LoadAsync(session.Id, CancellationToken.None))!.Count.Should().Be(1);
            ((RedisSessionDatabase)database).KeyOf(session.Id).Should().StartWith("di:{");
        }
        RedisTarget.KeysOn(Redis.Port, "di:*").Should().HaveCount(1);
    }

    [Test]
    public async Task AddRedisSessionDatabase_WithoutConfiguration_UsesTheRegisteredMultiplexer_AndLeavesItOpen()
    {
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Redis.Port}");
        var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(multiplexer)
            .AddRedisSessionDatabase();
        await using (var provider = services.BuildServiceProvider())
        {
            var database = provider.GetRequiredService<ISessionDatabase>();
            (await database.LoadAsync(SessionIds.NewId(), CancellationToken.None)).Should().BeNull();
        }
        multiplexer.IsConnected.Should().BeTrue("the application owns the multiplexer it registered");
    }

    [Test]
    public void AddRedisSessionDatabase_ChecksItsArguments_AtRegistration()
    {
        var services = new ServiceCollection();
        FluentActions.Invoking(() => services.AddRedisSessionDatabase("  ")).Should().Throw<ArgumentException>().WithMessage("*configuration*");
        FluentActions.Invoking(() => services.AddRedisSessionDatabase("localhost:6379", o => o.KeyPrefix = "{bad}")).Should().Throw<ArgumentException>().WithMessage("*KeyPrefix*");
        FluentActions.Invoking(() => services.AddRedisSessionDatabase("localhost:6379", o => o.OperationTimeout = TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentException>().WithMessage("*OperationTimeout*");
        services.Should().BeEmpty();
    }

    [Test]
    public async Task AddRedisSessionDatabase_FromConfiguration_BindsTheOptions_AndTheConnectionString_AndTheManagerUsesIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sessions:Redis:Configuration"] = $"127.0.0.1:{Redis.Port}",
            ["Sessions:Redis:KeyPrefix"] = "cfg:",
            ["Sessions:Redis:OperationTimeout"] = "00:00:03",
            ["Sessions:Redis:ExpirySlack"] = "01:00:00",
        }).Build();
        var services = new ServiceCollection().AddRedisSessionDatabase(configuration.GetSection("Sessions:Redis"));
        await using (var provider = services.BuildServiceProvider())
        {
            var database = provider.GetRequiredService<RedisSessionDatabase>();
            provider.GetRequiredService<ISessionDatabase>().Should().BeSameAs(database);

            using var manager = new SessionManager(new SessionConfig { Database = provider.GetRequiredService<ISessionDatabase>() });
            var session = await manager.StartAsync(new TestCarrier());
            session.Set("name", "iris");
            await session.CommitAsync();
            (await database.LoadAsync(session.Id, CancellationToken.None))!.Count.Should().Be(1);
            database.KeyOf(session.Id).Should().StartWith("cfg:{");

            // the same session written with the default slack (5 s): the bound slack (1 h) shows in the key's lifetime
            using var defaults = new RedisSessionDatabase($"127.0.0.1:{Redis.Port}", new RedisSessionOptions { KeyPrefix = "default:" });
            using var defaultManager = new SessionManager(new SessionConfig { Database = defaults });
            var other = await defaultManager.StartAsync(new TestCarrier());
            other.Set("name", "iris");
            await other.CommitAsync();
            using var resp = RespClient.Connect(Redis.Port);
            var bound = long.Parse(resp.Call("PTTL", database.KeyOf(session.Id))!, System.Globalization.CultureInfo.InvariantCulture);
            var byDefault = long.Parse(resp.Call("PTTL", defaults.KeyOf(other.Id))!, System.Globalization.CultureInfo.InvariantCulture);
            (bound - byDefault).Should().BeCloseTo((long)TimeSpan.FromMinutes(60).TotalMilliseconds - 5000, 60_000, "ExpirySlack was bound from configuration");
        }
        RedisTarget.KeysOn(Redis.Port, "cfg:*").Should().HaveCount(1);
    }

    [Test]
    public async Task AddRedisSessionDatabase_FromConfiguration_WithoutAConnectionString_UsesTheRegisteredMultiplexer()
    {
        using var multiplexer = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Redis.Port}");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Redis:KeyPrefix"] = "shared:" }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConnectionMultiplexer>(multiplexer)
            .AddRedisSessionDatabase(configuration.GetSection("Redis"));
        await using (var provider = services.BuildServiceProvider())
        {
            var database = provider.GetRequiredService<RedisSessionDatabase>();
            using var manager = new SessionManager(new SessionConfig { Database = database });
            var session = await manager.StartAsync(new TestCarrier());
            session.Set("name", "iris");
            await session.CommitAsync();
        }
        multiplexer.IsConnected.Should().BeTrue("the application owns the multiplexer it registered");
        RedisTarget.KeysOn(Redis.Port, "shared:*").Should().HaveCount(1);
    }

    [Test]
    public void AddRedisSessionDatabase_FromConfiguration_ChecksTheBoundValues_AtRegistration()
    {
        var services = new ServiceCollection();
        var badPrefix = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["KeyPrefix"] = "{bad}", ["Configuration"] = "localhost:6379" }).Build();
        var badTimeout = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["OperationTimeout"] = "-00:00:01" }).Build();
        FluentActions.Invoking(() => services.AddRedisSessionDatabase(badPrefix)).Should().Throw<ArgumentException>().WithMessage("*KeyPrefix*");
        FluentActions.Invoking(() => services.AddRedisSessionDatabase(badTimeout)).Should().Throw<ArgumentException>().WithMessage("*OperationTimeout*");
        services.Should().BeEmpty();
    }

    [Test]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RedisSessionOptions();
        options.KeyPrefix.Should().Be("session:");
        options.OperationTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.ExpirySlack.Should().Be(TimeSpan.FromSeconds(5));
    }
}
