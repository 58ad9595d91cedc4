using Sessions.Samples;

namespace Sessions.Hosts.Tests;

/// <summary>
/// The samples' command line as a user meets it: a mistyped or unknown option stops the sample with exit code 2 and,
/// on stderr, the list of valid options (it used to be ignored silently); a sample that starts says which store it uses.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Self)]
public sealed class SampleCommandLineTests
{
    // The options every sample takes today; more may be added, so the message is checked to name these, not only these.
    private static readonly string[] ValidOptions = ["--urls URL[;URL]", "--store memory|redis|embedded", "--redis HOST:PORT", "--db PATH"];

    [TestCase("AspNetCore")]
    [TestCase("HttpListener")]
    [TestCase("Owin")]
    public async Task An_unknown_option_exits_with_code_2_and_lists_the_valid_options_on_stderr(string name)
    {
        using var process = await SampleProcess.StartToExitAsync(name, "--stroe", "redis");

        process.ExitCode.Should().Be(2, process.Output);
        var error = process.StandardError;
        TestContext.Out.WriteLine($"{name} stderr: {error}");
        error.Should().StartWith("Unknown option '--stroe': the valid options are ").And.NotContain("   at ", "the message says it all");
        foreach (var option in ValidOptions)
            error.Should().Contain(option);
        process.Output.Should().NotContain("Now listening on:");
    }

    [TestCase("AspNetCore", "--db", "The option --db needs a value: ")]
    [TestCase("HttpListener", "--store=memory --store=redis", "The option --store is given twice.")]
    [TestCase("Owin", "memory", "Unknown option 'memory': the valid options are ")]
    public async Task A_malformed_command_line_exits_with_code_2_and_says_what_is_wrong(string name, string args, string message)
    {
        using var process = await SampleProcess.StartToExitAsync(name, args.Split(' '));

        process.ExitCode.Should().Be(2, process.Output);
        process.StandardError.Should().StartWith(message);
    }

    [TestCase("AspNetCore", "memory")]
    [TestCase("HttpListener", "memory")]
    [TestCase("Owin", "memory")]
    [TestCase("AspNetCore", "redis")]
    [TestCase("HttpListener", "embedded")]
    [TestCase("Owin", "embedded")]
    public async Task A_started_sample_prints_the_store_it_uses(string name, string store)
    {
        var folder = Directory.CreateTempSubdirectory("sessions-store-line-");
        try
        {
            var db = Path.Combine(folder.FullName, "sessions.db");
            var (args, line) = store switch
            {
                "redis" => (new[] { "--store", "redis", "--redis", SharedRedis.Endpoint }, $"sessions: store=redis {SharedRedis.Endpoint} prefix=session:"),
                "embedded" => (new[] { "--store", "embedded", "--db", db }, "sessions: store=embedded " + db),
                _ => (Array.Empty<string>(), "sessions: store=memory"),
            };
            using var process = await SampleProcess.StartAsync(name, args);

            var output = process.Output;
            TestContext.Out.WriteLine($"{name} stdout: {output}");
            var lines = output.Split('\n', StringSplitOptions.TrimEntries);
            lines.Should().Contain(line);
            Array.IndexOf(lines, line).Should().BeLessThan(
                Array.FindIndex(lines, l => l.StartsWith("Now listening on: ", StringComparison.Ordinal)), "the store is named at start-up");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

/// <summary>The option table itself (the OWIN sample's copy of the shared code): parsing forms and the store line's secrecy.</summary>
[TestFixture]
public sealed class SampleOptionsTests
{
    [Test]
    public void Both_option_forms_are_read()
    {
        var options = SampleOptions.Parse(["--store=embedded", "--db", "x.db", "--urls=http://127.0.0.1:1/"]);

        options.Store.Should().Be("embedded");
        options.Db.Should().Be("x.db");
        options.Urls.Should().Equal("http://127.0.0.1:1");
        options.Redis.Should().Be("127.0.0.1:6379", "the default");
    }

    [Test]
    public void The_store_line_never_shows_a_redis_password()
    {
        var line = SampleOptions.Parse(["--store", "redis", "--redis", "127.0.0.1:6390,password=hunter2,ssl=false"]).Describe();

        line.Should().StartWith("sessions: store=redis 127.0.0.1:6390").And.EndWith(" prefix=session:").And.NotContain("hunter2");
    }

    [Test]
    public void The_store_line_names_the_full_path_of_the_embedded_database()
    {
        SampleOptions.Parse(["--store", "embedded", "--db", "relative.db"]).Describe()
            .Should().Be("sessions: store=embedded " + Path.GetFullPath("relative.db"));
    }

    [Test]
    public void An_unknown_option_is_refused_naming_it_and_every_valid_option()
    {
        var parse = () => SampleOptions.Parse(["--urls", "http://127.0.0.1:1", "--nope", "header"]);

        parse.Should().Throw<ArgumentException>()
            .WithMessage("Unknown option '--nope': the valid options are --urls URL[;URL], --store memory|redis|embedded, --redis HOST:PORT, --db PATH*");
    }
}
