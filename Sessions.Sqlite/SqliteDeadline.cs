using System.Diagnostics;

namespace Sessions.Sqlite;

/// <summary>
/// One operation's time budget: <see cref="SqliteSessionDatabaseOptions.OperationTimeout"/> from its start, ended early by
/// the caller's token. <see cref="Token"/> is cancelled by whichever comes first; <see cref="Expired"/> tells a time-out
/// (reported as <see cref="SessionDatabaseException"/>) from the caller's cancellation (an <see cref="OperationCanceledException"/>).
/// </summary>
internal sealed class SqliteDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _caller;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public SqliteDeadline(TimeSpan timeout, CancellationToken caller)
    {
        Timeout = timeout;
        _caller = caller;
        _source = CancellationTokenSource.CreateLinkedTokenSource(caller);
        _source.CancelAfter(timeout);
    }

    public TimeSpan Timeout { get; }

    /// <summary>Cancelled at the time-out or when the caller cancels.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The caller's token.</summary>
    public CancellationToken CallerCancelled => _caller;

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>What is left of the budget (zero once spent).</summary>
    public TimeSpan Remaining
    {
        get
        {
            var left = Timeout - _clock.Elapsed;
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }

    /// <summary>The budget is spent and the caller did not cancel.</summary>
    public bool Expired => !_caller.IsCancellationRequested && (_source.IsCancellationRequested || Remaining <= TimeSpan.Zero);

    /// <summary>SQLite's lock wait (busy timeout) was cut to what was left of the budget, so a lock it gave up on means the time is up.</summary>
    public bool LockWaitEndsAtDeadline { get; set; }

    /// <summary>A lock wait that ended with SQLITE_BUSY ended because the budget is spent (and the caller did not cancel).</summary>
    public bool LockWaitTimedOut => !_caller.IsCancellationRequested && (LockWaitEndsAtDeadline || Expired);

    public void Dispose() => _source.Dispose();
}
