namespace Sessions.AspNetCore;

/// <summary>
/// The <see cref="SessionConfig"/> settings that configuration can hold (strings, numbers, durations, enums), bound by
/// <see cref="SessionsServiceCollectionExtensions.AddSessions(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration, System.Action{SessionConfig}?)"/>.
/// Objects (database, encoder, clock, serializer, logger and meter factories) come from code or the container, so a
/// configuration key can never name one. Each setting left out keeps the <see cref="SessionConfig"/> default.
/// </summary>
public sealed class SessionSettings
{
    /// <summary><see cref="SessionConfig.Cookie"/>.</summary>
    public string? Cookie { get; set; }
    /// <summary><see cref="SessionConfig.CookieSecure"/>.</summary>
    public CookieSecureMode? CookieSecure { get; set; }
    /// <summary><see cref="SessionConfig.CookiePath"/>.</summary>
    public string? CookiePath { get; set; }
    /// <summary><see cref="SessionConfig.SameSite"/>.</summary>
    public CookieSameSite? SameSite { get; set; }
    /// <summary><see cref="SessionConfig.HttpOnly"/>.</summary>
    public bool? HttpOnly { get; set; }
    /// <summary><see cref="SessionConfig.DisableSubdomainPersistence"/>.</summary>
    public bool? DisableSubdomainPersistence { get; set; }
    /// <summary><see cref="SessionConfig.CookieDomain"/>.</summary>
    public string? CookieDomain { get; set; }
    /// <summary><see cref="SessionConfig.AllowReclaim"/>.</summary>
    public bool? AllowReclaim { get; set; }
    /// <summary><see cref="SessionConfig.Transport"/>: <c>Cookie</c> or <c>Header</c>.</summary>
    public string? Transport { get; set; }
    /// <summary>The header of <see cref="SessionTransport.Header"/> (default <see cref="SessionTransport.DefaultHeaderName"/>); only with <see cref="Transport"/> <c>Header</c>.</summary>
    public string? TransportHeader { get; set; }
    /// <summary><see cref="SessionConfig.Expires"/>.</summary>
    public TimeSpan? Expires { get; set; }
    /// <summary><see cref="SessionConfig.IdleTimeout"/>.</summary>
    public TimeSpan? IdleTimeout { get; set; }
    /// <summary><see cref="SessionConfig.MaxKeys"/>.</summary>
    public int? MaxKeys { get; set; }
    /// <summary><see cref="SessionConfig.MaxKeyLength"/>.</summary>
    public int? MaxKeyLength { get; set; }
    /// <summary><see cref="SessionConfig.MaxPayloadBytes"/>.</summary>
    public int? MaxPayloadBytes { get; set; }
    /// <summary><see cref="SessionConfig.MemoryMaxSessions"/>.</summary>
    public int? MemoryMaxSessions { get; set; }
    /// <summary><see cref="SessionConfig.MaxCookieBytes"/>.</summary>
    public int? MaxCookieBytes { get; set; }
    /// <summary><see cref="SessionConfig.DatabaseFailureMode"/>.</summary>
    public SessionDatabaseFailureMode? DatabaseFailureMode { get; set; }
    /// <summary><see cref="SessionConfig.MaxSessionsPerUser"/>.</summary>
    public int? MaxSessionsPerUser { get; set; }

    /// <summary>Copies every setting given onto <paramref name="config"/>.</summary>
    /// <exception cref="ArgumentException"><see cref="Transport"/> names no transport, or <see cref="TransportHeader"/> is given without the header transport.</exception>
    public void ApplyTo(SessionConfig config)
    {
        if (config is null)
            throw new ArgumentNullException(nameof(config));
        if (Cookie is not null) config.Cookie = Cookie;
        if (CookieSecure is { } secure) config.CookieSecure = secure;
        if (CookiePath is not null) config.CookiePath = CookiePath;
        if (SameSite is { } sameSite) config.SameSite = sameSite;
        if (HttpOnly is { } httpOnly) config.HttpOnly = httpOnly;
        if (DisableSubdomainPersistence is { } disable) config.DisableSubdomainPersistence = disable;
        if (CookieDomain is not null) config.CookieDomain = CookieDomain;
        if (AllowReclaim is { } reclaim) config.AllowReclaim = reclaim;
        if (Expires is { } expires) config.Expires = expires;
        if (IdleTimeout is { } idle) config.IdleTimeout = idle;
        if (MaxKeys is { } maxKeys) config.MaxKeys = maxKeys;
        if (MaxKeyLength is { } maxKeyLength) config.MaxKeyLength = maxKeyLength;
        if (MaxPayloadBytes is { } maxPayload) config.MaxPayloadBytes = maxPayload;
        if (MemoryMaxSessions is { } memoryMax) config.MemoryMaxSessions = memoryMax;
        if (MaxCookieBytes is { } maxCookie) config.MaxCookieBytes = maxCookie;
        if (DatabaseFailureMode is { } failureMode) config.DatabaseFailureMode = failureMode;
        if (MaxSessionsPerUser is { } perUser) config.MaxSessionsPerUser = perUser;
        switch (Transport?.ToLowerInvariant())
        {
            case null when TransportHeader is null:
                break;
            case "header":
                config.Transport = SessionTransport.Header(TransportHeader ?? SessionTransport.DefaultHeaderName);
                break;
            case "cookie" when TransportHeader is null:
                config.Transport = SessionTransport.Cookie;
                break;
            default:
                throw new ArgumentException(TransportHeader is not null && Transport?.ToLowerInvariant() is null or "cookie"
                    ? $"Sessions:TransportHeader '{TransportHeader}' is set but Sessions:Transport is '{Transport}': set Transport to Header to carry the ID in a header."
                    : $"Sessions:Transport '{Transport}' names no transport: use Cookie or Header.", nameof(Transport));
        }
    }
}
