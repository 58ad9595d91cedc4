namespace Sessions.AspNetCore;

/// <summary>How <c>app.UseSessions()</c> answers when the session database fails (bind or configure it like any options class).</summary>
public sealed class SessionsMiddlewareOptions
{
    /// <summary>The <c>Retry-After</c> of the <c>503 Service Unavailable</c> answered when the database fails (default 5 seconds; whole seconds, rounded up).</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}
