namespace Sessions;

/// <summary>
/// An optional capability: a database that indexes its sessions by the user they are signed in as, exactly, in the
/// database itself (so every process sharing it sees the same index), at a cost of O(that user's sessions) per call, never
/// a scan of all sessions. The memory, SQLite and Redis databases implement it.
/// </summary>
/// <remarks>
/// A database learns a session's user from <see cref="SessionChanges.BindsUser"/> in <see cref="ISessionDatabase.CommitAsync"/>
/// and keeps the index right through every later change of that session: renew moves the entry, destroy, destroy-all and
/// expiry remove it. A handle is <see cref="SessionIds.HashText(string)"/> of the session ID: the name the databases already store
/// a session under, a one-way SHA-256 of at least 128 random bits, so it can neither be turned back into the ID nor
/// presented as one (the manager hashes a presented ID, so a handle used as a cookie names no session).
/// </remarks>
public interface IUserSessionIndex
{
    /// <summary>The user's stored sessions, in no particular order; expired ones may be included (the manager filters them).</summary>
    ValueTask<IReadOnlyList<UserSessionEntry>> ListUserSessionsAsync(string user, CancellationToken cancellationToken);

    /// <summary>Destroys the session <paramref name="handle"/> names, only if it is signed in as <paramref name="user"/>; <see langword="true"/> when it was.</summary>
    ValueTask<bool> DestroyUserSessionAsync(string user, string handle, CancellationToken cancellationToken);

    /// <summary>Destroys every session signed in as <paramref name="user"/> except the one <paramref name="exceptHandle"/> names; returns how many.</summary>
    ValueTask<int> DestroyUserSessionsAsync(string user, string? exceptHandle, CancellationToken cancellationToken);
}

/// <summary>One of a user's sessions as a database lists it (see <see cref="IUserSessionIndex"/>).</summary>
/// <param name="handle">The session's handle (<see cref="SessionIds.HashText(string)"/> of its ID).</param>
/// <param name="signedInAt">When the session was signed in as the user.</param>
/// <param name="absoluteDeadline">The session's absolute deadline, or <see langword="null"/>.</param>
/// <param name="idleDeadline">The session's idle deadline as the database holds it.</param>
public sealed class UserSessionEntry(string handle, DateTimeOffset signedInAt, DateTimeOffset? absoluteDeadline, DateTimeOffset idleDeadline)
{
    /// <summary>The session's handle.</summary>
    public string Handle { get; } = handle ?? throw new ArgumentNullException(nameof(handle));

    /// <summary>When the session was signed in as the user.</summary>
    public DateTimeOffset SignedInAt { get; } = signedInAt;

    /// <summary>The absolute deadline, or <see langword="null"/>.</summary>
    public DateTimeOffset? AbsoluteDeadline { get; } = absoluteDeadline;

    /// <summary>The idle deadline.</summary>
    public DateTimeOffset IdleDeadline { get; } = idleDeadline;

    /// <summary>When the session ends: the earlier deadline.</summary>
    public DateTimeOffset EndsAt => AbsoluteDeadline is { } absolute && absolute < IdleDeadline ? absolute : IdleDeadline;
}

/// <summary>One of a user's live sessions (a "device"), as <see cref="SessionManager.ListUserSessionsAsync(string, CancellationToken)"/> returns it.</summary>
public sealed class UserSession
{
    internal UserSession(string handle, DateTimeOffset created, DateTimeOffset lastSeen, bool isCurrent)
    {
        Handle = handle;
        Created = created;
        LastSeen = lastSeen;
        IsCurrent = isCurrent;
    }

    /// <summary>An opaque name for the session, to revoke it with <see cref="SessionManager.DestroyUserSessionAsync(string, string, CancellationToken)"/>; never the session ID, nor convertible into it.</summary>
    public string Handle { get; }

    /// <summary>When the session was signed in as the user.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>
    /// When the session was last used, as precise as the idle deadline is stored: its idle deadline minus
    /// <see cref="SessionConfig.IdleTimeout"/>. Databases that store copies refresh it once a tenth of the idle timeout has
    /// passed, so it can be up to that much behind (never before <see cref="Created"/>); the memory database refreshes it on every request.
    /// </summary>
    public DateTimeOffset LastSeen { get; }

    /// <summary>Whether this is the session of the request that asked.</summary>
    public bool IsCurrent { get; }
}

/// <summary>The checks on user names and handles, shared by the manager and the databases.</summary>
public static class UserNames
{
    /// <summary>The longest user name accepted.</summary>
    public const int MaxLength = 256;

    /// <summary>Throws unless <paramref name="user"/> is 1 to <see cref="MaxLength"/> characters without control characters.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="user"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="user"/> is empty, too long, or holds a control character.</exception>
    public static void Validate(string user)
    {
        if (user is null)
            throw new ArgumentNullException(nameof(user));
        if (user.Length == 0 || user.Length > MaxLength)
            throw new ArgumentException($"A user name must be 1 to {MaxLength} characters long; this one has {user.Length}.", nameof(user));
        foreach (var c in user)
        {
            if (char.IsControl(c))
                throw new ArgumentException("The user name contains a control character.", nameof(user));
        }
    }

    /// <summary>Whether <paramref name="handle"/> has the shape of a handle (43 base64url characters); anything else names no session.</summary>
    public static bool IsHandle(string? handle) =>
        handle is not null && handle.Length == SessionIds.DefaultLength && SessionIds.IsWellFormed(handle.AsSpan());
}
