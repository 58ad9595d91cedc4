using BenchmarkDotNet.Attributes;
using Sessions.Testing;

namespace Sessions.Benchmarks;

/// <summary>
/// A session of many flashes, as a serialising database rebuilds it on every load (SessionRecord.SetFlash per field) and
/// as a request that reads them all consumes them (a removal from the record and a deleted key in the change set each).
/// Linear lookups made both O(N²); indexed past 8 items they are O(N): the time per flash should stay flat from 1k to 8k.
/// </summary>
[MemoryDiagnoser]
public class RecordBuildBenchmarks
{
    private string[] _keys = null!;
    private readonly BenchCarrier _carrier = new();
    private SessionManager? _sessions;
    private string _cookie = null!;

    [Params(1_000, 8_000)]
    public int Flashes { get; set; }

    [GlobalSetup(Target = nameof(BuildRecord))]
    public void Setup()
    {
        _keys = new string[Flashes];
        for (var i = 0; i < Flashes; i++)
            _keys[i] = "flash" + i;
    }

    /// <summary>Builds a record of <see cref="Flashes"/> flashes, as a database's load does.</summary>
    [Benchmark]
    public SessionRecord BuildRecord()
    {
        var record = new SessionRecord(null, DateTimeOffset.UnixEpoch);
        foreach (var key in _keys)
            record.SetFlash(key, "notice");
        return record;
    }

    /// <summary>
    /// One request on a stored session of <see cref="Flashes"/> flashes over a database that stores copies: the load
    /// rebuilds the record, <see cref="Session.GetFlashes"/> consumes every flash (not committed, so each run sees them all).
    /// </summary>
    [Benchmark]
    public int LoadAndReadAllFlashes() => _sessions!.Start(_carrier.Next(_cookie)).GetFlashes().Count;

    [GlobalSetup(Target = nameof(LoadAndReadAllFlashes))]
    public void SetupStored()
    {
        Setup();
        _sessions = new SessionManager(new SessionConfig { Database = new CopyingMemoryDatabase(), MaxKeys = Flashes + 1, MaxPayloadBytes = int.MaxValue });
        var carrier = new TestCarrier();
        var session = _sessions.Start(carrier);
        foreach (var key in _keys)
            session.SetFlash(key, "notice");
        session.CommitAsync().AsTask().GetAwaiter().GetResult();
        _cookie = "sid=" + session.Id;
    }

    [GlobalCleanup]
    public void Cleanup() => _sessions?.Dispose();
}
