using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sessions;

/// <summary>
/// What one <see cref="SessionManager"/> tells the outside world: its metrics (one <see cref="Meter"/> named
/// <see cref="SessionDiagnostics.MeterName"/>), its traces (activities of <see cref="SessionDiagnostics.ActivitySourceName"/>
/// around database calls, started only while something listens), its log events (<see cref="SessionLog"/>), and the
/// fingerprints that name sessions in all three. Every database call of the core goes through one of the wrappers here,
/// so each is timed, traced and, when it fails, counted and logged in exactly one place.
/// </summary>
internal sealed class SessionTelemetry : IDisposable
{
    public const string DatabaseTag = "sessions.database";
    public const string OperationTag = "sessions.operation";
    public const string ReasonTag = "sessions.reason";
    public const string FingerprintTag = "sessions.fingerprint";
    public const string ErrorTypeTag = "error.type";

    private static readonly string? Version = typeof(SessionTelemetry).Assembly.GetName().Version?.ToString();
    internal static readonly ActivitySource ActivitySource = new(SessionDiagnostics.ActivitySourceName, Version);

    // Buckets from 100 µs (an in-process database) to 10 s (past any sane operation timeout).
    private static readonly double[] DurationBuckets = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly bool _ownsMeter;
    private readonly byte[] _fingerprintKey = new byte[32];
    private readonly Counter<long> _created;
    private readonly Counter<long> _renewed;
    private readonly Counter<long> _destroyed;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _loadDuration;
    private readonly Histogram<double> _commitDuration;
    private readonly Histogram<long> _payloadSize;
    private DatabaseName? _databaseName;

    public SessionTelemetry(ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        Logger = loggerFactory?.CreateLogger<SessionManager>() ?? NullLogger<SessionManager>.Instance;
        var options = new MeterOptions(SessionDiagnostics.MeterName) { Version = Version };
        Meter = meterFactory?.Create(options) ?? new Meter(options);
        _ownsMeter = meterFactory is null;
        using (var random = RandomNumberGenerator.Create())
            random.GetBytes(_fingerprintKey);
        _created = Meter.CreateCounter<long>("sessions.created", "{session}", "Sessions stored for the first time.");
        _renewed = Meter.CreateCounter<long>("sessions.renewed", "{session}", "Sessions moved to a new ID (RenewId).");
        _destroyed = Meter.CreateCounter<long>("sessions.destroyed", "{session}", "Sessions destroyed by Destroy or DestroyById.");
        _expired = Meter.CreateCounter<long>("sessions.expired", "{session}", "Sessions found or swept past their idle or absolute deadline.");
        _rejected = Meter.CreateCounter<long>("sessions.cookies.rejected", "{cookie}", "Session cookie values that named no live session, by reason: an abuse signal.");
        _errors = Meter.CreateCounter<long>("sessions.database.errors", "{error}", "Database calls that failed with SessionDatabaseException.");
        var durationAdvice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };
        _loadDuration = Meter.CreateHistogram("sessions.load.duration", "s", "How long loading a request's session from the database took.", tags: null, durationAdvice);
        _commitDuration = Meter.CreateHistogram("sessions.commit.duration", "s", "How long committing a request's session to the database took.", tags: null, durationAdvice);
        _payloadSize = Meter.CreateHistogram<long>("sessions.payload.size", "By", "Bytes of values and flashes a commit sends to a database that stores copies.");
    }

    public ILogger Logger { get; }

    public Meter Meter { get; }

    /// <summary>The session's fingerprint: the first 8 bytes of HMAC-SHA256(ID) under this manager's random key, as 11 base64url characters.</summary>
    public string Fingerprint(string id)
    {
        if (id is null)
            throw new ArgumentNullException(nameof(id));
        var bytes = System.Text.Encoding.UTF8.GetBytes(id);
#if NET
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_fingerprintKey, bytes, mac);
#else
        byte[] mac;
        using (var hmac = new HMACSHA256(_fingerprintKey))
            mac = hmac.ComputeHash(bytes);
#endif
        var chars = new char[11];
        SessionIds.Encode(((ReadOnlySpan<byte>)mac).Slice(0, 8), chars);
        return new string(chars);
    }

    // ----- events -------------------------------------------------------------------------------------------------

    /// <summary>Counts a manager event (the one place they are raised). DestroyAll is not counted: the database does not say how many it ended.</summary>
    public void Raised(SessionEventReason reason, ISessionDatabase database)
    {
        var counter = reason switch
        {
            SessionEventReason.Created => _created,
            SessionEventReason.Renewed => _renewed,
            SessionEventReason.Destroyed => _destroyed,
            SessionEventReason.Expired => _expired,
            _ => null,
        };
        if (counter is { Enabled: true })
            counter.Add(1, new KeyValuePair<string, object?>(DatabaseTag, NameOf(database)));
    }

    /// <summary>Counts rejected cookie values (see <see cref="SessionCounters"/>, which calls this).</summary>
    public void Rejected(string reason, int count)
    {
        if (count <= 0)
            return;
        if (_rejected.Enabled)
            _rejected.Add(count, new KeyValuePair<string, object?>(ReasonTag, reason));
        SessionLog.CookiesRejected(Logger, count, reason);
    }

    /// <summary>The exception for a session another request ended, logged (once) here.</summary>
    public SessionEndedException Ended(string? id)
    {
        var exception = new SessionEndedException();
        SessionLog.Failure(Logger, exception, fingerprint: id is null ? SessionLog.None : Fingerprint(id));
        return exception;
    }

    // ----- database calls -----------------------------------------------------------------------------------------

    public ValueTask<SessionRecord?> LoadAsync(ISessionDatabase database, string id, CancellationToken cancellationToken) =>
        RunAsync(Operation.Load, database, id, (database, id), static (s, ct) => s.database.LoadAsync(s.id, ct), cancellationToken);

    public ValueTask<SessionRecord?[]> LoadManyAsync(ISessionDatabase database, ISessionBatchLoader loader, string[] ids, CancellationToken cancellationToken) =>
        RunAsync(Operation.Load, database, null, (loader, ids), static (s, ct) => s.loader.LoadManyAsync(s.ids, ct), cancellationToken);

    /// <summary>
    /// Whether a load is measured or traced now (its duration histogram is listened to, or its activity). When not, the
    /// manager awaits the database itself, one async layer less per request, and reports a failure through <see cref="LoadFailed"/>.
    /// </summary>
    public bool ObservesLoads => _loadDuration.Enabled || ActivitySource.HasListeners();

    /// <summary>What <see cref="LoadAsync"/> records when the load fails, for a load awaited without it (see <see cref="ObservesLoads"/>).</summary>
    public void LoadFailed(ISessionDatabase database, string id, Exception exception) => Failed(Operation.Load, database, id, exception);

    /// <summary>
    /// Whether a commit is measured or traced now (its duration or payload histogram is listened to, or its activity). When
    /// not, a session awaits the database itself, one async layer less per request, and reports a failure through
    /// <see cref="CommitFailed"/>.
    /// </summary>
    public bool ObservesCommits => _commitDuration.Enabled || _payloadSize.Enabled || ActivitySource.HasListeners();

    /// <summary>What <see cref="CommitAsync"/> records when the commit fails, for a commit awaited without it (see <see cref="ObservesCommits"/>).</summary>
    public void CommitFailed(ISessionDatabase database, string id, Exception exception) => Failed(Operation.Commit, database, id, exception);

    public ValueTask<bool> CommitAsync(ISessionDatabase database, string id, SessionRecord record, SessionChanges changes, CancellationToken cancellationToken)
    {
        if (_payloadSize.Enabled && !database.SharesRecords)
            _payloadSize.Record(PayloadOf(changes), new KeyValuePair<string, object?>(DatabaseTag, NameOf(database)));
        return RunAsync(Operation.Commit, database, id, (database, id, record, changes), static (s, ct) => s.database.CommitAsync(s.id, s.record, s.changes, ct), cancellationToken);
    }

    public ValueTask<bool> UpdateExpirationAsync(ISessionDatabase database, string id, DateTimeOffset? absolute, DateTimeOffset idle, CancellationToken cancellationToken) =>
        RunAsync(Operation.UpdateExpiration, database, id, (database, id, absolute, idle), static (s, ct) => s.database.UpdateExpirationAsync(s.id, s.absolute, s.idle, ct), cancellationToken);

    public ValueTask<SessionRenewResult> RenewAsync(ISessionDatabase database, string id, string newId, CancellationToken cancellationToken) =>
        RunAsync(Operation.Renew, database, id, (database, id, newId), static (s, ct) => s.database.RenewAsync(s.id, s.newId, ct), cancellationToken);

    public ValueTask<bool> DestroyAsync(ISessionDatabase database, string id, CancellationToken cancellationToken) =>
        RunAsync(Operation.Destroy, database, id, (database, id), static (s, ct) => s.database.DestroyAsync(s.id, ct), cancellationToken);

    public ValueTask<bool> DestroyExpiredAsync(ISessionDatabase database, ISessionExpiredDestroyer expiry, string id, CancellationToken cancellationToken) =>
        RunAsync(Operation.Destroy, database, id, (expiry, id), static (s, ct) => s.expiry.DestroyExpiredAsync(s.id, ct), cancellationToken);

    public ValueTask<IReadOnlyList<string>> DestroyAllListedAsync(ISessionDatabase database, ISessionDestroyAllListing listing, CancellationToken cancellationToken) =>
        RunAsync(Operation.DestroyAll, database, null, listing, static (l, ct) => l.DestroyAllListedAsync(ct), cancellationToken);

    public async ValueTask DestroyAllAsync(ISessionDatabase database, CancellationToken cancellationToken) =>
        await RunAsync(Operation.DestroyAll, database, null, database, static async (d, ct) =>
        {
            await d.DestroyAllAsync(ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    private enum Operation
    {
        Load,
        Commit,
        UpdateExpiration,
        Renew,
        Destroy,
        DestroyAll,
    }

    private static readonly string[] OperationNames = ["load", "commit", "update_expiration", "renew", "destroy", "destroy_all"];
    private static readonly string[] ActivityNames = ["sessions.load", "sessions.commit", "sessions.update_expiration", "sessions.renew", "sessions.destroy", "sessions.destroy_all"];

    /// <summary>Runs one database call: times it, traces it while a listener is active, and counts and logs its failure.</summary>
    /// <remarks>Its state machine is pooled: a database call that completes asynchronously (Redis, SQLite) costs no allocation here.</remarks>
#if NET
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
#endif
    private async ValueTask<T> RunAsync<TState, T>(Operation operation, ISessionDatabase database, string? id, TState state,
        Func<TState, CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        var histogram = operation switch
        {
            Operation.Load => _loadDuration,
            Operation.Commit => _commitDuration,
            _ => null,
        };
        var started = histogram is { Enabled: true } ? Stopwatch.GetTimestamp() : 0;
        using var activity = ActivitySource.HasListeners() ? ActivitySource.StartActivity(ActivityNames[(int)operation]) : null;
        if (activity is not null)
        {
            activity.SetTag(DatabaseTag, NameOf(database));
            if (id is not null)
                activity.SetTag(FingerprintTag, Fingerprint(id));
        }
        try
        {
            var result = await call(state, cancellationToken).ConfigureAwait(false);
            if (started != 0)
                histogram!.Record(Elapsed(started), new KeyValuePair<string, object?>(DatabaseTag, NameOf(database)));
            return result;
        }
        catch (Exception e)
        {
            var errorType = e.GetType().FullName;
            if (started != 0)
                histogram!.Record(Elapsed(started), new KeyValuePair<string, object?>(DatabaseTag, NameOf(database)), new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
            if (activity is not null)
            {
                activity.SetTag(ErrorTypeTag, errorType);
                activity.SetStatus(ActivityStatusCode.Error, e is OperationCanceledException ? "cancelled" : e.GetType().Name);
            }
            Failed(operation, database, id, e);
            throw;
        }
    }

    /// <summary>Counts a database failure and logs it (once, here); a cancellation or a caller's mistake is neither.</summary>
    private void Failed(Operation operation, ISessionDatabase database, string? id, Exception e)
    {
        if (e is SessionDatabaseException && _errors.Enabled)
        {
            _errors.Add(1, new KeyValuePair<string, object?>(DatabaseTag, NameOf(database)),
                new KeyValuePair<string, object?>(OperationTag, OperationNames[(int)operation]), new KeyValuePair<string, object?>(ErrorTypeTag, e.GetType().FullName));
        }
        if (e is SessionDatabaseException or SessionLimitExceededException)
            SessionLog.Failure(Logger, e, NameOf(database), OperationNames[(int)operation], id is null ? SessionLog.None : Fingerprint(id));
    }

    private static double Elapsed(long started) => (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;

    /// <summary>The bytes a commit sends, counted as the databases count them (<see cref="SessionValueCodec.PayloadSize"/>); runs only while the histogram is listened to.</summary>
    private static long PayloadOf(SessionChanges changes)
    {
        long total = 0;
        try
        {
            foreach (var item in changes.SetValues)
                total += SessionValueCodec.PayloadSize(item.Key, SessionValueCodec.Encode(item.Key, item.Value));
            foreach (var item in changes.SetFlashes)
                total += SessionValueCodec.PayloadSize(item.Key, SessionValueCodec.EncodeFlash(item.Key, item.Value));
        }
        catch (ArgumentException)
        {
            // A value that cannot be serialised: the database's own encoding reports it.
        }
        return total;
    }

    /// <summary>
    /// The <c>sessions.database</c> tag of a database: <c>memory</c>, <c>redis</c>, <c>sqlite</c>; for other databases
    /// their type name without <c>SessionDatabase</c> (or <c>Database</c>), in lower case. Computed once per database.
    /// </summary>
    public string NameOf(ISessionDatabase database)
    {
        var known = Volatile.Read(ref _databaseName);
        if (known is not null && ReferenceEquals(known.Database, database))
            return known.Name;
        var name = database is MemorySessionDatabase ? "memory" : database.GetType().Name;
        foreach (var suffix in (string[])["SessionDatabase", "Database"])
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal))
            {
                name = name.Substring(0, name.Length - suffix.Length);
                break;
            }
        }
        name = name.ToLowerInvariant();
        Volatile.Write(ref _databaseName, new DatabaseName(database, name));
        return name;
    }

    private sealed class DatabaseName(ISessionDatabase database, string name)
    {
        public ISessionDatabase Database { get; } = database;

        public string Name { get; } = name;
    }

    /// <summary>Disposes the meter when this manager created it (a meter from an <see cref="IMeterFactory"/> is the factory's to dispose).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
            Meter.Dispose();
    }
}
