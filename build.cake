// The build: ./build.sh [--target=Clean|Build|Test|Smoke] [--configuration=Release|Debug]
var target = Argument("target", "Test");
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
        Loggers = { "console;verbosity=normal" },
    });
});

RunTarget(target);
