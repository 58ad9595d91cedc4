using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Sessions.Benchmarks;

// dotnet run -c Release --project benchmarks/Sessions.Benchmarks -- --filter '*'      (BenchmarkDotNet)
// dotnet run -c Release --project benchmarks/Sessions.Benchmarks -- --memory          (bytes per empty session at 10⁶)
// dotnet run -c Release --project benchmarks/Sessions.Benchmarks -- --smoke           (each benchmark once, in process: CI)
// dotnet run -c Release --project benchmarks/Sessions.Benchmarks -- --redis-commit-cost (redis-server CPU per commit script run)
// dotnet run -c Release --project benchmarks/Sessions.Benchmarks -- --redis-client-cost (client CPU and allocations per write-only and read-only request)
if (args.Contains("--memory"))
{
    MemoryPerSession.Report(1_000_000);
    return 0;
}
if (args.Contains("--redis-commit-cost"))
{
    await CommitCost.ReportAsync(20_000);
    return 0;
}
if (args.Contains("--redis-client-cost"))
{
    await ClientCost.ReportAsync(200_000, 32, 5);
    return 0;
}
if (args.Contains("--smoke"))
{
    var smoke = DefaultConfig.Instance.AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)).WithOptions(ConfigOptions.DisableOptimizationsValidator);
    var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(["--filter", "*"], smoke);
    var failed = summaries.Sum(s => s.Reports.Count(r => !r.Success)) + summaries.Sum(s => s.ValidationErrors.Count(e => e.IsCritical));
    Console.WriteLine(failed == 0 ? "smoke: every benchmark ran" : $"smoke: {failed} benchmark(s) failed");
    MemoryPerSession.Report(10_000);
    return failed == 0 ? 0 : 1;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
