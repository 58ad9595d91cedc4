namespace Sessions;

/// <summary>
/// The one answer every host gives a session failure while its response has not started: the status code, and
/// whether it carries <c>Retry-After</c>. Each adapter applies it its own way (middleware, or a helper on HttpListener).
/// </summary>
internal static class SessionFailures
{
    /// <summary>
    /// 503 for a database that failed or is full (the condition passes: retry later); 409 for a session another request
    /// ended meanwhile; 413 for a session over a limit (keys, payload, cookie size); <see langword="null"/> for anything else.
    /// </summary>
    public static int? StatusCode(Exception exception) => exception switch
    {
        SessionDatabaseException or SessionLimitExceededException { IsDatabaseFull: true } => 503,
        SessionEndedException => 409,
        SessionLimitExceededException => 413,
        _ => null,
    };

    /// <summary>Whether the answer to <paramref name="status"/> carries <c>Retry-After</c>.</summary>
    public static bool HasRetryAfter(int status) => status == 503;
}
