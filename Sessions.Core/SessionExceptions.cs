namespace Sessions;

/// <summary>A typed getter found no value for the key. The message names the key, never the session ID.</summary>
public sealed class SessionKeyNotFoundException : KeyNotFoundException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public SessionKeyNotFoundException(string key)
        : base($"The session has no value for key '{key}'.") => Key = key;

    /// <summary>The missing key.</summary>
    public string Key { get; }
}

/// <summary>A typed getter found a value it cannot convert to the requested type. The message names the key and both types.</summary>
public sealed class SessionValueConversionException : InvalidCastException
{
    /// <summary>Creates the exception.</summary>
    public SessionValueConversionException(string key, object? value, Type targetType)
        : this(key, targetType, $"The session value for key '{key}' is {(value is null ? "null" : "a " + value.GetType())} and cannot be read as {targetType}.")
    {
    }

    /// <summary>Creates the exception with its own message.</summary>
    internal SessionValueConversionException(string key, Type targetType, string message)
        : base(message)
    {
        Key = key;
        TargetType = targetType;
    }

    /// <summary>The exception for <paramref name="value"/>, read as <paramref name="targetType"/>; an integer too wide for <see cref="int"/> says to read it as a <see cref="long"/>.</summary>
    internal static SessionValueConversionException For(string key, object? value, Type targetType) =>
        (Nullable.GetUnderlyingType(targetType) ?? targetType) == typeof(int) && ValueConverter.TryToInt64(value, out _)
            ? new(key, targetType, $"The session value for key '{key}' is an integer outside the range of System.Int32; read it with GetInt64 (or Get<long>).")
            : new(key, value, targetType);

    /// <summary>The key read.</summary>
    public string Key { get; }

    /// <summary>The type asked for.</summary>
    public Type TargetType { get; }
}

/// <summary>A plain <see cref="Session.Set"/> would replace an immutable value (see <see cref="Session.SetImmutable"/>); the value is unchanged.</summary>
public sealed class SessionImmutableValueException : InvalidOperationException
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    public SessionImmutableValueException(string key)
        : base($"The session key '{key}' holds an immutable value: Set cannot change it (use SetImmutable to replace it, or Delete it first).") => Key = key;

    /// <summary>The key that holds the immutable value.</summary>
    public string Key { get; }
}

/// <summary>A write would exceed a configured limit (keys, key length, payload, cookie size or session count); the previous state is unchanged.</summary>
public sealed class SessionLimitExceededException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public SessionLimitExceededException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception for a limit on the whole database rather than on one session.</summary>
    /// <param name="message">What was refused and why.</param>
    /// <param name="isDatabaseFull"><see langword="true"/> when the database holds as many sessions as it may: no new session can start until some end.</param>
    public SessionLimitExceededException(string message, bool isDatabaseFull)
        : base(message) => IsDatabaseFull = isDatabaseFull;

    /// <summary>
    /// Whether the database is full (its session bound is reached), a condition that passes as sessions end: the hosts
    /// answer it <c>503 Service Unavailable</c> with <c>Retry-After</c>. Otherwise one session went over a limit
    /// (keys, payload, cookie size), which the hosts answer <c>413 Content Too Large</c>.
    /// </summary>
    public bool IsDatabaseFull { get; }
}

/// <summary>The session database failed or did not answer in time. The operation did not happen, or may not have.</summary>
public class SessionDatabaseException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SessionDatabaseException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Another request ended the session (destroyed it, renewed its ID, or it expired) while this request was using it, so
/// this request's changes were not stored. The client's next request starts a new session, or uses the renewed one.
/// </summary>
public sealed class SessionEndedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public SessionEndedException()
        : base("The session ended (another request destroyed it or renewed its ID, or it expired) before this request's changes could be stored; they were not stored.")
    {
    }
}
