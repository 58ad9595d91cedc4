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
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RedisSessionOptions();
        options.KeyPrefix.Should().Be("session:");
        options.OperationTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.ExpirySlack.Should().Be(TimeSpan.FromSeconds(5));
    }
}
