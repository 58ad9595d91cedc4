namespace Sessions;

/// <summary>
/// How many session cookie values a <see cref="SessionManager"/> rejected since it was built, by outcome: the trace left by
/// a client that presents guessed, replayed or forged session IDs (brute force, fixation attempts, a stolen cookie used
/// after its session ended). Thread-safe; each count only grows.
/// </summary>
/// <remarks>
/// A value is counted when the manager decides it names no session, so one request with several values for the cookie
/// may count several. Nothing about the value is kept, and counting costs no database call: a malformed or undecodable
/// value never reaches the database, and unknown or expired are the answers of the lookup the request makes anyway.
/// An empty value (<c>sid=</c>) and a request without the cookie count nothing. The same counts feed the
/// <c>sessions.cookies.rejected</c> instrument of the <c>Sessions</c> meter, tagged by reason (docs/observability.md),
/// for applications that publish metrics rather than read these properties.
/// </remarks>
public sealed class SessionCounters
{
    private long _malformed;
    private long _undecodable;
    private long _unknown;
    private long _expired;
    private readonly SessionTelemetry? _telemetry;

    internal SessionCounters(SessionTelemetry? telemetry = null) => _telemetry = telemetry;

    /// <summary>Values that are not a well-formed session ID (wrong length or characters, or longer than <see cref="SessionConfig.MaxCookieBytes"/>), or that the encoder decoded into something that is not one.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Values that <see cref="SessionConfig.Encoder"/> refused to decode (tampered with, or signed with a key no longer known).</summary>
    public long Undecodable => Interlocked.Read(ref _undecodable);

    /// <summary>Well-formed IDs that name no session in the database: never issued, destroyed, renewed away, or already removed on expiry.</summary>
    public long Unknown => Interlocked.Read(ref _unknown);

    /// <summary>IDs of a stored session found past its idle or absolute deadline (and destroyed then).</summary>
    public long Expired => Interlocked.Read(ref _expired);

    // Each count also feeds the sessions.cookies.rejected instrument and a Debug log event (SessionTelemetry.Rejected).
    internal void AddMalformed(int count = 1)
    {
        Interlocked.Add(ref _malformed, count);
        _telemetry?.Rejected("malformed", count);
    }

    internal void AddUndecodable()
    {
        Interlocked.Increment(ref _undecodable);
        _telemetry?.Rejected("undecodable", 1);
    }

    internal void AddUnknown(int count = 1)
    {
        Interlocked.Add(ref _unknown, count);
        _telemetry?.Rejected("unknown", count);
    }

    internal void AddExpired()
    {
        Interlocked.Increment(ref _expired);
        _telemetry?.Rejected("expired", 1);
    }
}
