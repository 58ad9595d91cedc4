// The build: ./build.sh [--target=CI|Clean|Build|Test|Smoke|Pack|Examples|Bench|PublicApi] [--configuration=Release|Debug]
// CI (the default) = Test (every test project) + Smoke (every benchmark once) + Pack (every package) + Examples (the
// examples built against those packages, the Redis one run against a real redis-server).
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;

var target = Argument("target", "CI");
var configuration = Argument("configuration", "Release");
var solution = "./Sessions.sln";
var packages = "./artifacts/packages";

Task("Clean").Does(() =>
{
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration, Verbosity = DotNetVerbosity.Quiet });
    if (DirectoryExists("./artifacts"))
        DeleteDirectory("./artifacts", new DeleteDirectorySettings { Recursive = true });
});

Task("Build").Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

// Every test project of the solution; ends with one line summed over the test assemblies.
Task("Test").IsDependentOn("Build").Does(() =>
{
    var summary = new Regex(@"(?:Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+)");
    int passed = 0, failed = 0, skipped = 0, assemblies = 0;
    var exitCode = StartProcess("dotnet", new ProcessSettings
    {
        Arguments = new ProcessArgumentBuilder().Append("test").AppendQuoted(solution).Append("-c").Append(configuration)
            .Append("--no-build").Append("--no-restore"),
        RedirectStandardOutput = true,
        RedirectedStandardOutputHandler = line =>
        {
            if (line is null)
                return null;
            Console.WriteLine(line);
            var match = summary.Match(line);
            if (match.Success)
            {
                assemblies++;
                failed += int.Parse(match.Groups[1].Value);
                passed += int.Parse(match.Groups[2].Value);
                skipped += int.Parse(match.Groups[3].Value);
            }
            return line;
        },
    });
    Console.WriteLine($"tests: {passed} passed, {failed} failed, {skipped} skipped");
    if (exitCode != 0)
        throw new CakeException($"dotnet test exited with {exitCode}.");
    if (assemblies == 0)
        throw new CakeException("No test assembly ran.");
});

// Every benchmark once, in process, to prove it runs (no timing is asserted anywhere).
Task("Smoke").IsDependentOn("Build").Does(() =>
{
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--smoke"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

// One package (+ symbols) per project in a top-level folder, the same rule Directory.Build.props packs by.
Task("Pack").IsDependentOn("Build").Does(() =>
{
    CleanDirectory(packages);
    var version = XmlPeek("./Directory.Build.props", "/Project/PropertyGroup/Version");
    foreach (var project in GetFiles("./*/*.csproj"))
    {
        DotNetPack(project.FullPath, new DotNetPackSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            OutputDirectory = packages,
        });
        var id = project.GetFilenameWithoutExtension().ToString();
        foreach (var file in new[] { $"{packages}/{id}.{version}.nupkg", $"{packages}/{id}.{version}.snupkg" })
            if (!FileExists(file))
                throw new CakeException($"Pack: {file} was not produced.");
    }
});

// The examples, restored from the packed packages into a fresh package folder (so a stale cache cannot hide a broken
// pack) and built; the README shows each Program.cs verbatim; the Redis one answers two requests through Redis.
Task("Examples").IsDependentOn("Pack").Does(() =>
{
    CheckReadmeShowsExamples();
    var cache = "./artifacts/examples-packages";
    EnsureDirectoryExists(cache);
    CleanDirectory(cache);
    foreach (var project in GetFiles("./examples/*/*.csproj"))
    {
        // --force: a no-op restore would trust obj/ and skip the emptied package folder.
        DotNetRestore(project.FullPath, new DotNetRestoreSettings { PackagesDirectory = cache, Force = true });
        DotNetBuild(project.FullPath, new DotNetBuildSettings { Configuration = configuration, NoRestore = true, NoIncremental = true });
    }
    RunRedisExample();
});

// Refreshes every package's PublicAPI.Unshipped.txt from its code (after a merge, or a public API change): resets it
// and lets the PublicApiAnalyzers code fix list every public symbol not in PublicAPI.Shipped.txt (docs/contributing.md).
Task("PublicApi").Does(() =>
{
    foreach (var project in GetFiles("./*/*.csproj"))
    {
        var folder = project.GetDirectory();
        var shipped = folder.CombineWithFilePath("PublicAPI.Shipped.txt").FullPath;
        if (!FileExists(shipped))
            System.IO.File.WriteAllText(shipped, "#nullable enable\n");
        System.IO.File.WriteAllText(folder.CombineWithFilePath("PublicAPI.Unshipped.txt").FullPath, "#nullable enable\n");
        var exitCode = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = new ProcessArgumentBuilder().Append("format").Append("analyzers").AppendQuoted(project.FullPath)
                .Append("--diagnostics").Append("RS0016").Append("--severity").Append("warn"),
        });
        if (exitCode != 0)
            throw new CakeException($"dotnet format analyzers {project.GetFilename()} exited with {exitCode}.");
        Information("{0}: PublicAPI.Unshipped.txt refreshed.", project.GetFilenameWithoutExtension());
    }
});

// The full benchmarks: BenchmarkDotNet, memory per session, and the wrk load runs (see benchmarks/README.md).
Task("Bench").IsDependentOn("Build").Does(() =>
{
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--filter").Append("*"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--memory"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

Task("CI").IsDependentOn("Test").IsDependentOn("Smoke").IsDependentOn("Pack").IsDependentOn("Examples");

RunTarget(target);

// README.md shows every examples/NAME/Program.cs verbatim: the first ```csharp block after the link to the file.
void CheckReadmeShowsExamples()
{
    var readme = System.IO.File.ReadAllText("README.md").Replace("\r\n", "\n");
    foreach (var program in GetFiles("./examples/*/Program.cs"))
    {
        var path = $"examples/{program.GetDirectory().GetDirectoryName()}/Program.cs";
        var code = System.IO.File.ReadAllText(program.FullPath).Replace("\r\n", "\n").TrimEnd('\n');
        var link = readme.IndexOf($"]({path})", StringComparison.Ordinal);
        var start = link < 0 ? -1 : readme.IndexOf("```csharp\n", link, StringComparison.Ordinal);
        var end = start < 0 ? -1 : readme.IndexOf("\n```", start + 10, StringComparison.Ordinal);
        if (end < 0 || readme.Substring(start + 10, end - start - 10) != code)
            throw new CakeException($"README.md must link {path} and show it verbatim in the ```csharp block after the link.");
    }
}

// Runs the Redis example against a redis-server of its own on loopback: two requests with one cookie jar count 1, 2.
void RunRedisExample()
{
    var redisPort = FreePort();
    var httpPort = FreePort();
    using var redis = StartAndReturnProcess("redis-server", new ProcessSettings
    {
        Arguments = $"--port {redisPort} --bind 127.0.0.1 --save \"\" --appendonly no",
        RedirectStandardOutput = true,
    });
    IProcess app = null;
    try
    {
        WaitForPort(redisPort);
        app = StartAndReturnProcess("dotnet", new ProcessSettings
        {
            Arguments = $"examples/Redis/bin/{configuration}/net10.0/RedisExample.dll --urls http://127.0.0.1:{httpPort} " +
                $"--Redis 127.0.0.1:{redisPort} --Logging:LogLevel:Default=Warning",
        });
        WaitForPort(httpPort);
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        foreach (var expected in new[] { "visits: 1", "visits: 2" })
        {
            var answer = client.GetStringAsync("").GetAwaiter().GetResult();
            if (answer != expected)
                throw new CakeException($"examples/Redis answered '{answer}', expected '{expected}'.");
        }
        Information("examples/Redis: two requests through redis-server on port {0} counted 1, 2.", redisPort);
    }
    finally
    {
        app?.Kill();
        app?.Dispose();
        redis.Kill();
    }
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

static void WaitForPort(int port)
{
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (true)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return;
        }
        catch (SocketException) when (DateTime.UtcNow < deadline)
        {
            System.Threading.Thread.Sleep(100);
        }
    }
}
