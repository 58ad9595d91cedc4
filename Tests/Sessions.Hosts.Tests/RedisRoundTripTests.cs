using System.Globalization;
using Sessions.Testing;

namespace Sessions.Hosts.Tests;

/// <summary>
/// What each route of the samples costs on Redis, over real HTTP on every host: the commands redis-server executed for
/// one request (<c>CONFIG RESETSTAT</c>, the request, <c>INFO commandstats</c>), on a server of this fixture's own so no
/// other test's commands are counted. A request without a cookie costs nothing, one that reads costs one <c>HGETALL</c>,
/// and one that only writes (<c>/set</c>, started deferred) one <c>EVALSHA</c> and no load.
/// </summary>
[TestFixtureSource(typeof(SampleHost), nameof(SampleHost.Names))]
public sealed class RedisRoundTripTests(string hostName)
{
    private static readonly HashSet<string> Bookkeeping = ["info", "config", "ping", "client", "hello", "cluster", "command", "select", "echo", "subscribe", "script", "role", "time"];

    private RedisProcess _redis = null!;
    private RespClient _admin = null!;
    private SampleHost _host = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _redis = RedisProcess.Start(LoopbackPorts.Free());
        _admin = _redis.Admin();
        _host = await SampleHost.StartAsync(hostName, "memory", "--store", "redis", "--redis", "127.0.0.1:" + _redis.Port.ToString(CultureInfo.InvariantCulture));
        // The first requests connect to Redis and load the scripts: done before any count.
        using var warmUp = new SampleClient(_host.BaseAddress);
        await warmUp.GetAsync("/set");
        await warmUp.GetAsync("/get");
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await _host.DisposeAsync();
        _admin.Dispose();
        _redis.Dispose();
        Directory.Delete(_redis.Directory, recursive: true);
    }

    [Test]
    public async Task Without_a_cookie_a_read_costs_nothing()
    {
        using var client = new SampleClient(_host.BaseAddress);

        var commands = await CountAsync(() => client.GetAsync("/get"));

        commands.Should().BeEmpty();
    }

    [Test]
    public async Task A_write_only_request_costs_one_script_run_and_no_load_and_a_read_one_hgetall()
    {
        using var client = new SampleClient(_host.BaseAddress);
        (await CountAsync(() => client.GetAsync("/set"))).Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 }, "a new session is created in one script run");
        var cookie = client.Cookie;

        var set = await CountAsync(async () => (await client.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris"));
        var get = await CountAsync(async () => (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris"));

        set.Should().Equal(new Dictionary<string, long> { ["evalsha"] = 1 }, "/set only writes: one round trip, no HGETALL");
        get.Should().Equal(new Dictionary<string, long> { ["hgetall"] = 1 });
        client.Cookie.Should().Be(cookie, "the write went into the cookie's session");
    }

    [Test]
    public async Task A_write_only_request_on_a_destroyed_session_stores_a_new_one_and_never_the_old_id()
    {
        using var client = new SampleClient(_host.BaseAddress);
        await client.GetAsync("/set");
        var old = client.Cookie!;
        (await client.SendAsync(HttpMethod.Get, "/destroy", "sid=" + old)).Status.Should().Be(200);

        var set = await client.SendAsync(HttpMethod.Get, "/set", "sid=" + old);

        set.Status.Should().Be(200);
        set.CookieValue.Should().NotBeNullOrEmpty().And.NotBe(old, "the write went to a new session with its own cookie");
        client.Cookie = set.CookieValue;
        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris");
        (await client.SendAsync(HttpMethod.Get, "/get", "sid=" + old)).Body.Should().Be("The name on the /set was: ", "the destroyed session stays destroyed");
    }

    /// <summary>The commands redis-server executed while <paramref name="request"/> ran, by name, less those a script ran inside it.</summary>
    private async Task<Dictionary<string, long>> CountAsync(Func<Task> request)
    {
        _admin.Call("CONFIG", "RESETSTAT");
        await request();
        var counts = new Dictionary<string, long>();
        foreach (var line in (_admin.Call("INFO", "commandstats") ?? "").Split('\n'))
        {
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal))
                continue;
            var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)].Split('|')[0];
            var calls = long.Parse(line.Split(':')[1].Split(',')[0]["calls=".Length..], CultureInfo.InvariantCulture);
            if (!Bookkeeping.Contains(name))
                counts[name] = calls;
        }
        if (counts.ContainsKey("evalsha"))
        {
            // Commands the commit script runs inside Redis are not round trips.
            foreach (var inside in new[] { "hmget", "hset", "pexpireat", "hdel", "hlen", "exists", "publish" })
                counts.Remove(inside);
        }
        return counts;
    }
}
