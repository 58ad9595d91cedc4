using System.Net;
using System.Net.Sockets;

namespace Sessions.Hosts.Tests;

/// <summary>
/// How a sample that cannot start says why: a mistake the user can fix from the message alone exits with 2 and that
/// message; anything else exits with 1 and the exception's type and stack trace, so a failure like HttpListener's
/// "Value cannot be null." at start-up can be diagnosed.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SampleStartupFailureTests
{
    [TestCase("AspNetCore")]
    [TestCase("HttpListener")]
    [TestCase("Owin")]
    public async Task A_bad_argument_exits_with_code_2_and_the_plain_message(string name)
    {
        var (exitCode, output) = await SampleProcess.RunToExitAsync(name, "--store", "nope");

        exitCode.Should().Be(2, output);
        output.Should().Contain("Unknown --store 'nope'").And.NotContain("   at ", "the message says it all");
    }

    [TestCase("AspNetCore")]
    [TestCase("HttpListener")]
    [TestCase("Owin")]
    public async Task An_unexpected_failure_exits_with_code_1_and_the_exception_type_and_stack_trace(string name)
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0); // the sample's port, taken
        holder.Start();

        var (exitCode, output) = await SampleProcess.RunToExitAsync(name, ((IPEndPoint)holder.LocalEndpoint).Port);

        exitCode.Should().Be(1, output);
        output.Should().Contain("Unexpected failure: ").And.MatchRegex(@"(HttpListenerException|IOException)[^\n]*[Aa]ddress already in use")
            .And.Contain("   at ").And.NotContain("Unhandled exception");
    }
}

/// <summary>
/// Two sample processes sharing one Redis see the same session: whatever one host writes, another reads with the same
/// cookie, and a Destroy on one is final on the other. The samples run as real processes (<c>dotnet Sessions.Samples.HOST.dll
/// --store redis --redis 127.0.0.1:PORT</c>) on the run's <see cref="SharedRedis"/> server.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class RedisSharedBetweenProcessesTests
{
    private readonly List<SampleProcess> _processes = [];

    [TearDown]
    public void StopProcesses()
    {
        foreach (var process in _processes)
            process.Dispose(); // killed by PID and waited for
        _processes.Clear();
    }

    private async Task<SampleProcess> StartAsync(string name)
    {
        var process = await SampleProcess.StartAsync(name, "--store", "redis", "--redis", SharedRedis.Endpoint);
        _processes.Add(process);
        return process;
    }

    [TestCase("AspNetCore", "HttpListener")]
    [TestCase("HttpListener", "Owin")]
    [TestCase("Owin", "AspNetCore")]
    public async Task Two_processes_see_the_same_session_and_a_destroy_on_one_is_final_on_the_other(string first, string second)
    {
        var one = await StartAsync(first);
        var two = await StartAsync(second);
        using var a = new SampleClient(one.BaseAddress);
        using var b = new SampleClient(two.BaseAddress);

        (await a.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        var id = a.Cookie!;
        b.Cookie = id;
        var get = await b.GetAsync("/get");
        get.Body.Should().Be("The name on the /set was: iris", $"{second} reads what {first} wrote");
        get.SetCookies.Should().BeEmpty();

        (await a.GetAsync("/flash/set?key=k&value=v")).Body.Should().Be("flash set: k=v");
        (await b.GetAsync("/flash/peek?key=k")).Body.Should().Be("v");
        (await b.GetAsync("/flash/get?key=k")).Body.Should().Be("v");
        (await a.GetAsync("/flash/get?key=k")).Status.Should().Be(404, "the flash was consumed by the other process");

        (await a.GetAsync("/counter")).Body.Should().Be("1");
        (await b.GetAsync("/counter")).Body.Should().Be("2");
        (await a.GetAsync("/counter")).Body.Should().Be("3");
        (await b.GetAsync("/all")).Body.Should().Be("""{"name":"iris","counter":3}""");

        var renewed = await b.GetAsync("/renew");
        renewed.Body.Should().Be("renewed: true");
        var newId = b.Cookie!;
        newId.Should().NotBe(id);
        (await a.SendAsync(HttpMethod.Get, "/get", "sid=" + id)).Body.Should().Be("The name on the /set was: ", "the old ID died in Redis");
        a.Cookie = newId;
        (await a.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris");

        (await a.GetAsync("/destroy")).Body.Should().Be("destroyed: true");
        var afterDestroy = await b.GetAsync("/all");
        afterDestroy.Body.Should().Be("{}", $"{first} destroyed the session");
        afterDestroy.SetCookies.Should().BeEmpty();
        (await b.GetAsync("/destroy")).Body.Should().Be("destroyed: false");
        var write = await b.SendAsync(HttpMethod.Get, "/set", "sid=" + newId);
        write.CookieValue.Should().NotBeNull().And.NotBe(newId, "a destroyed ID is never adopted again");
        (await a.SendAsync(HttpMethod.Get, "/get", "sid=" + newId)).Body.Should().Be("The name on the /set was: ", "the destroy is final");
    }
}

/// <summary>
/// The embedded database through sample processes: a session outlives its process (stopped or killed), and a second
/// process cannot open a file another one holds (its lock), exiting with code 2 and the reason.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class EmbeddedStoreProcessTests
{
    private readonly List<SampleProcess> _processes = [];
    private DirectoryInfo _directory = null!;
    private string _db = null!;

    [SetUp]
    public void CreateDatabaseFolder()
    {
        _directory = Directory.CreateTempSubdirectory("sessions-embedded-");
        _db = Path.Combine(_directory.FullName, "sessions.db");
    }

    [TearDown]
    public void StopProcessesAndDeleteDatabase()
    {
        foreach (var process in _processes)
            process.Dispose(); // killed by PID and waited for
        _processes.Clear();
        _directory.Delete(recursive: true);
    }

    private async Task<SampleProcess> StartAsync(string name)
    {
        var process = await SampleProcess.StartAsync(name, "--store", "embedded", "--db", _db);
        _processes.Add(process);
        return process;
    }

    [TestCase("AspNetCore", "HttpListener", false)]
    [TestCase("HttpListener", "Owin", true)]
    [TestCase("Owin", "AspNetCore", true)]
    public async Task A_session_outlives_a_restart_of_the_process(string first, string second, bool kill)
    {
        var one = await StartAsync(first);
        string id;
        using (var client = new SampleClient(one.BaseAddress))
        {
            (await client.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
            (await client.GetAsync("/counter")).Body.Should().Be("1");
            id = client.Cookie!;
        }
        await one.StopAsync(kill);
        if (!kill)
            one.ExitCode.Should().Be(0, $"SIGTERM is a clean shutdown: {one.Output}");

        var two = await StartAsync(second);
        using var again = new SampleClient(two.BaseAddress) { Cookie = id };
        var get = await again.GetAsync("/get");
        get.Body.Should().Be("The name on the /set was: iris", kill ? "an acknowledged commit survives a crash" : "the file keeps the session");
        get.SetCookies.Should().BeEmpty();
        (await again.GetAsync("/counter")).Body.Should().Be("2");
    }

    [TestCase("AspNetCore")]
    [TestCase("HttpListener")]
    [TestCase("Owin")]
    public async Task A_second_process_on_the_same_file_exits_with_code_2_and_says_the_file_is_in_use(string second)
    {
        var holder = await StartAsync(second == "AspNetCore" ? "HttpListener" : "AspNetCore");

        var (exitCode, output) = await SampleProcess.RunToExitAsync(second, "--store", "embedded", "--db", _db);
        exitCode.Should().Be(2, output);
        output.Should().Contain($"Cannot open the session database '{_db}': it is in use by another process")
            .And.Contain(_db + ".lock")
            .And.NotContain("Unhandled exception", "the sample reports the reason, not a crash");

        // The holder is unaffected.
        using var client = new SampleClient(holder.BaseAddress);
        (await client.GetAsync("/set")).Body.Should().Be("All ok session setted to: iris");
        (await client.GetAsync("/get")).Body.Should().Be("The name on the /set was: iris");
    }
}
