// The build: ./build.sh [--target=CI|Clean|Build|Test|Smoke|Bench] [--configuration=Release|Debug]
// CI (the default) = Test (every test project) + Smoke (every benchmark once).
var target = Argument("target", "CI");
var configuration = Argument("configuration", "Release");
var solution = "./Sessions.sln";

Task("Clean").Does(() =>
{
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration, Verbosity = DotNetVerbosity.Quiet });
});

Task("Build").Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test").IsDependentOn("Build").Does(() =>
{
    DotNetTest(solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
    });
});

// Every benchmark once, in process, to prove it runs (no timing is asserted anywhere).
Task("Smoke").IsDependentOn("Build").Does(() =>
{
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--smoke"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

// The full benchmarks: BenchmarkDotNet, memory per session, and the wrk load runs (see benchmarks/README.md).
Task("Bench").IsDependentOn("Build").Does(() =>
{
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--filter").Append("*"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
    DotNetRun("./benchmarks/Sessions.Benchmarks/Sessions.Benchmarks.csproj", new ProcessArgumentBuilder().Append("--memory"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

Task("CI").IsDependentOn("Test").IsDependentOn("Smoke");

RunTarget(target);
