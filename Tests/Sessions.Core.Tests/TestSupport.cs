using Microsoft.Extensions.Time.Testing;
using Sessions.Testing;

namespace Sessions.Core.Tests;

/// <summary>Builders shared by the core tests: a fake clock, managers on it, and requests.</summary>
internal static class TestSupport
{
    /// <summary>A whole-second start instant, so cookie dates format exactly.</summary>
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider NewClock() => new(Epoch);

    /// <summary>A manager on its own memory database and the given clock (a new fake clock when none is given).</summary>
    public static SessionManager NewManager(FakeTimeProvider? clock = null, Action<SessionConfig>? configure = null)
    {
        var config = new SessionConfig { TimeProvider = clock ?? NewClock() };
        configure?.Invoke(config);
        return new SessionManager(config);
    }

    /// <summary>Runs one request that writes <paramref name="key"/> and returns it, so its <see cref="TestCarrier.NextRequest"/> carries the cookie.</summary>
    public static TestCarrier EstablishedRequest(SessionManager manager, string key = "k", object? value = null, string? host = "localhost")
    {
        var request = new TestCarrier(host: host);
        manager.Start(request).Set(key, value ?? "v");
        return request;
    }

    /// <summary>A Cookie header for the default cookie name.</summary>
    public static string CookieHeader(string value, string name = SessionConfig.DefaultCookieName) => $"{name}={value}";

    /// <summary>The value of the last cookie the response wrote.</summary>
    public static SessionCookie LastCookie(TestCarrier carrier) => carrier.Written[^1];

    /// <summary>The session count of the manager's memory database.</summary>
    public static int StoredSessions(SessionManager manager) => manager.Database switch
    {
        MemorySessionDatabase memory => memory.Count,
        CountingDatabase counting => counting.Inner.Count,
        _ => throw new InvalidOperationException("Not a memory database."),
    };
}

/// <summary>
/// A decorator over a real <see cref="MemorySessionDatabase"/> that counts the calls the manager makes, so tests can
/// assert that a malformed cookie never reaches the database. Everything is forwarded; nothing is faked.
/// </summary>
internal sealed class CountingDatabase : ISessionDatabase, ISessionExpirationSource, IDisposable
{
    private int _loads;
    private int _commits;
    private int _destroys;

    public CountingDatabase(MemorySessionDatabase inner)
    {
        Inner = inner;
        inner.SessionExpired += id => SessionExpired?.Invoke(id);
    }

    public MemorySessionDatabase Inner { get; }

    public int Loads => Volatile.Read(ref _loads);

    public int Commits => Volatile.Read(ref _commits);

    public int Destroys => Volatile.Read(ref _destroys);

    /// <summary>Every ID passed to <see cref="LoadAsync"/>.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> LoadedIds { get; } = new();

    public event Action<string>? SessionExpired;

    public bool SharesRecords => Inner.SharesRecords;

    public bool CompletesSynchronously => Inner.CompletesSynchronously;

    public ValueTask<SessionRenewResult> RenewAsync(string id, string newId, CancellationToken cancellationToken) => Inner.RenewAsync(id, newId, cancellationToken);

    public ValueTask<SessionRecord?> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        LoadedIds.Enqueue(id);
        return Inner.LoadAsync(id, cancellationToken);
    }

    public ValueTask<bool> CommitAsync(string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _commits);
        return Inner.CommitAsync(id, record, changes, cancellationToken);
    }

    public ValueTask<bool> UpdateExpirationAsync(string id, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline, CancellationToken cancellationToken) =>
        Inner.UpdateExpirationAsync(id, absoluteDeadline, idleDeadline, cancellationToken);

    public ValueTask<bool> DestroyAsync(string id, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _destroys);
        return Inner.DestroyAsync(id, cancellationToken);
    }

    public ValueTask DestroyAllAsync(CancellationToken cancellationToken) => Inner.DestroyAllAsync(cancellationToken);

    public void Dispose() => Inner.Dispose();
}
