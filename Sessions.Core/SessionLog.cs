using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Sessions;

/// <summary>
/// Every log event of Sessions, with its stable ID (docs/observability.md lists them). A session ID never appears in a
/// message: a session is named by its fingerprint (<see cref="SessionManager.Fingerprint"/>). A failure is logged once:
/// where the core raises it, or else by the host that answers it, and <see cref="TryMark"/> tells the second apart.
/// </summary>
internal static partial class SessionLog
{
    /// <summary>What stands for a fingerprint, database or operation that is not known where the event is logged.</summary>
    public const string None = "-";

    private static readonly ConditionalWeakTable<Exception, object> Logged = new();
    private static readonly object Marker = new();

    [LoggerMessage(EventId = 1, EventName = "SessionDatabaseFailed", Level = LogLevel.Error,
        Message = "The session database ({Database}) failed to {Operation} session {Fingerprint}; nothing was stored.")]
    public static partial void DatabaseFailed(ILogger logger, string database, string operation, string fingerprint, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "SessionEnded", Level = LogLevel.Information,
        Message = "Session {Fingerprint} was ended by another request (destroyed, renewed or expired) before this request's changes were stored; they were not stored.")]
    public static partial void SessionEnded(ILogger logger, string fingerprint);

    [LoggerMessage(EventId = 3, EventName = "SessionLimitExceeded", Level = LogLevel.Warning,
        Message = "Session {Fingerprint} went over a limit; the write was refused and the session is unchanged: {Reason}")]
    public static partial void LimitExceeded(ILogger logger, string fingerprint, string reason);

    [LoggerMessage(EventId = 4, EventName = "SessionDatabaseFull", Level = LogLevel.Warning,
        Message = "The session database ({Database}) is full; a new session was refused: {Reason}")]
    public static partial void DatabaseFull(ILogger logger, string database, string reason);

    [LoggerMessage(EventId = 5, EventName = "SessionCookiesRejected", Level = LogLevel.Debug,
        Message = "Rejected {Count} session cookie value(s) as {Reason}.")]
    public static partial void CookiesRejected(ILogger logger, int count, string reason);

    [LoggerMessage(EventId = 6, EventName = "SessionDatabaseUnreachableAtStart", Level = LogLevel.Warning,
        Message = "The session database ({Database}) is not usable at start-up; requests that need a session fail (503) until it is: {Description}")]
    public static partial void DatabaseUnreachableAtStart(ILogger logger, string database, string description, Exception? exception);

    /// <summary>
    /// Logs a session failure the core has not logged yet (a host answering it calls this): a database failure, a session
    /// ended meanwhile, or a limit. Returns whether it logged.
    /// </summary>
    public static bool Failure(ILogger logger, Exception exception, string database = None, string operation = "use", string fingerprint = None)
    {
        if (!TryMark(exception))
            return false;
        switch (exception)
        {
            case SessionDatabaseException:
                DatabaseFailed(logger, database, operation, fingerprint, exception);
                return true;
            case SessionEndedException:
                SessionEnded(logger, fingerprint);
                return true;
            case SessionLimitExceededException { IsDatabaseFull: true }:
                DatabaseFull(logger, database, exception.Message);
                return true;
            case SessionLimitExceededException:
                LimitExceeded(logger, fingerprint, exception.Message);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Marks <paramref name="exception"/> as logged; <see langword="false"/> when it already was.</summary>
    private static bool TryMark(Exception exception)
    {
        var fresh = false;
        Logged.GetValue(exception, _ =>
        {
            fresh = true;
            return Marker;
        });
        return fresh;
    }
}
