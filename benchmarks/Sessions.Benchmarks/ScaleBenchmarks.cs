using BenchmarkDotNet.Attributes;

namespace Sessions.Benchmarks;

/// <summary>Start + GetString on an existing session while the memory database holds 10³, 10⁵ or 10⁶ live sessions.</summary>
[MemoryDiagnoser]
public class ScaleBenchmarks
{
    private const int Probes = 1024;
    private readonly BenchCarrier _carrier = new();
    private SessionManager _sessions = null!;
    private string[] _cookies = null!;
    private int _next;

    [Params(1_000, 100_000, 1_000_000)]
    public int LiveSessions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _sessions = new SessionManager(new SessionConfig { MemoryMaxSessions = LiveSessions });
        var ids = Population.Fill(_sessions.Database, LiveSessions, TimeProvider.System);
        _cookies = new string[Probes];
        var random = new Random(42);
        for (var i = 0; i < Probes; i++)
            _cookies[i] = "sid=" + ids[random.Next(ids.Length)];
        foreach (var cookie in _cookies)
            _sessions.Start(_carrier.Next(cookie)).Set("name", "iris");
    }

    [GlobalCleanup]
    public void Cleanup() => _sessions.Dispose();

    [Benchmark]
    public string StartGetString() => _sessions.Start(_carrier.Next(_cookies[_next++ & (Probes - 1)])).GetString("name", "");
}
