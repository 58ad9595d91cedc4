namespace Sessions;

/// <summary>
/// The settings of a <see cref="SessionManager"/> (go-sessions' <c>Config</c>). The manager validates them once, when it is
/// built, throws <see cref="ArgumentException"/> naming the bad field, and keeps its own frozen copy: changing this object
/// afterwards has no effect.
/// </summary>
public sealed class SessionConfig
{
    /// <summary>The default cookie name; it does not reveal the framework.</summary>
    public const string DefaultCookieName = "sid";

    /// <summary>
    /// The cookie name (default <c>sid</c>). A <c>__Host-</c> name requires <see cref="CookieSecureMode.Always"/>, path
    /// <c>/</c> and no domain; a <c>__Secure-</c> name requires <see cref="CookieSecureMode.Always"/>. The prefixes are
    /// matched in any case (<c>__HOST-sid</c> too), as browsers match them.
    /// </summary>
    public string Cookie { get; set; } = DefaultCookieName;

    /// <summary>When the cookie is <c>Secure</c> (default: when the request is HTTPS).</summary>
    public CookieSecureMode CookieSecure { get; set; } = CookieSecureMode.SameAsRequest;

    /// <summary>The cookie's <c>Path</c> (default <c>/</c>).</summary>
    public string CookiePath { get; set; } = "/";

    /// <summary>The cookie's <c>SameSite</c> (default <see cref="CookieSameSite.Lax"/>).</summary>
    public CookieSameSite SameSite { get; set; } = CookieSameSite.Lax;

    /// <summary>Whether the cookie is <c>HttpOnly</c> (default <see langword="true"/>).</summary>
    public bool HttpOnly { get; set; } = true;

    /// <summary>
    /// When <see langword="true"/> (the default) the cookie is host-only (no <c>Domain</c>). When <see langword="false"/>,
    /// <see cref="CookieDomain"/> if set, otherwise the registrable domain of the request's host from <see cref="PublicSuffixes"/>
    /// (never a public suffix, never for IP addresses or <c>localhost</c>).
    /// </summary>
    public bool DisableSubdomainPersistence { get; set; } = true;

    /// <summary>An explicit cookie <c>Domain</c>, used when <see cref="DisableSubdomainPersistence"/> is <see langword="false"/>.</summary>
    public string? CookieDomain { get; set; }

    /// <summary>
    /// The public suffix list used to find registrable domains. When <see langword="null"/> and needed, the system's list is
    /// loaded (<see cref="PublicSuffixList.LoadSystemDefault"/>); if there is none, validation asks for <see cref="CookieDomain"/>.
    /// </summary>
    public PublicSuffixList? PublicSuffixes { get; set; }

    /// <summary>With it, a <c>Start</c> after <c>Destroy</c> in the same request issues a new session (default <see langword="false"/>: that session stays destroyed).</summary>
    public bool AllowReclaim { get; set; }

    /// <summary>
    /// Transforms the ID into the cookie value and back (none by default). With <see cref="SessionTransport.Header"/> it
    /// transforms the header value the same way, and receives the header name where it would receive the cookie name.
    /// </summary>
    public ISessionIdEncoder? Encoder { get; set; }

    /// <summary>
    /// Where the session ID travels: <see cref="SessionTransport.Cookie"/> (the default) or a request/response header
    /// for API clients (<see cref="SessionTransport.Header"/>, <c>X-Session-Token</c> unless named otherwise).
    /// </summary>
    public SessionTransport Transport { get; set; } = SessionTransport.Cookie;

    /// <summary>
    /// The absolute lifetime, from creation, moved by <c>ShiftExpiration</c> (default 2 hours). Positive: the cookie's
    /// <c>Max-Age</c>/<c>Expires</c> match it exactly. Negative: a browser-session cookie and no absolute deadline.
    /// Zero: no absolute deadline and a persistent cookie of <see cref="PersistentCookieLifetime"/>. The server side is always bounded by <see cref="IdleTimeout"/>.
    /// </summary>
    public TimeSpan Expires { get; set; } = TimeSpan.FromHours(2);

    /// <summary>The sliding idle timeout (default 30 minutes); must be positive so every session ends.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A custom ID generator. Its IDs are checked on every call (base64url, 22 to 128 characters).</summary>
    public Func<string>? SessionIdGenerator { get; set; }

    /// <summary>The most keys one session holds, values and flashes together (default 256); a write of a new key beyond it throws <see cref="SessionLimitExceededException"/>.</summary>
    public int MaxKeys { get; set; } = 256;

    /// <summary>The longest key, in characters (default 256).</summary>
    public int MaxKeyLength { get; set; } = 256;

    /// <summary>
    /// The largest session, in bytes of keys, values and flashes (default 64 KB). Databases that serialise count
    /// <see cref="SessionValueCodec.PayloadSize"/> and refuse the commit; the memory database counts each value or flash
    /// once, when it is written, and refuses the write (strings by their UTF-8 length, other objects by their JSON, see
    /// <see cref="Session.Set"/>). A write that would exceed it throws <see cref="SessionLimitExceededException"/>.
    /// </summary>
    public int MaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// The most sessions the memory database the manager creates (when <see cref="Database"/> is <see langword="null"/>)
    /// holds at once (default <see cref="MemorySessionDatabase.DefaultMaxSessions"/>, 100,000); a new session beyond it
    /// fails on its first write with <see cref="SessionLimitExceededException"/>. A database passed in
    /// <see cref="Database"/> has its own bound (<see cref="MemorySessionDatabase"/>'s constructor).
    /// </summary>
    public int MemoryMaxSessions { get; set; } = MemorySessionDatabase.DefaultMaxSessions;

    /// <summary>The largest <c>Set-Cookie</c> header, in bytes (default 4096, what browsers keep).</summary>
    public int MaxCookieBytes { get; set; } = 4096;

    /// <summary>
    /// What a request gets when the database fails to load its session (default <see cref="SessionDatabaseFailureMode.Fail"/>:
    /// the <see cref="SessionDatabaseException"/> propagates and the host answers 503). A failed commit always fails, whatever the mode:
    /// a write is never reported as saved when it was not.
    /// </summary>
    public SessionDatabaseFailureMode DatabaseFailureMode { get; set; } = SessionDatabaseFailureMode.Fail;

    /// <summary>
    /// How session values are serialised to JSON (go-sessions' <c>Transcoder</c>; <see langword="null"/>, the default, is
    /// System.Text.Json's defaults): by databases that store copies (Redis, SQLite), for <see cref="Session.SetImmutable"/>
    /// snapshots, for the memory database's payload count, and when <c>Get&lt;T&gt;</c> turns stored JSON into the
    /// type it names. For trimmed or native-AOT applications set <see cref="System.Text.Json.JsonSerializerOptions.TypeInfoResolver"/>
    /// to a source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>. Whatever the options, reading
    /// stored data never takes a type from the data: JSON comes back as plain values until a getter names the type.
    /// </summary>
    public System.Text.Json.JsonSerializerOptions? SerializerOptions { get; set; }

    /// <summary>The clock; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The database; <see langword="null"/> means a new <see cref="MemorySessionDatabase"/>.</summary>
    public ISessionDatabase? Database { get; set; }

    /// <summary>
    /// The most live sessions one user may have (0, the default: unlimited). When a sign-in (<see cref="Session.SetUser"/>)
    /// goes past it, the user's least recently seen other sessions are destroyed; the one signing in is never evicted.
    /// </summary>
    public int MaxSessionsPerUser { get; set; }

    /// <summary>Where the manager logs (category <c>Sessions.SessionManager</c>); none when <see langword="null"/>. <c>AddSessions</c> sets the application's.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Creates the manager's <c>Sessions</c> meter; when <see langword="null"/> the manager creates its own. <c>AddSessions</c> sets the application's.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>The cookie lifetime used when <see cref="Expires"/> is zero: 400 days, the longest browsers keep.</summary>
    public static readonly TimeSpan PersistentCookieLifetime = TimeSpan.FromDays(400);

    /// <summary>A shallow copy of every setting.</summary>
    public SessionConfig Clone() => (SessionConfig)MemberwiseClone();

    /// <summary>A validated copy; the manager keeps it.</summary>
    internal SessionConfig Validated()
    {
        var copy = Clone();
        copy.Validate();
        return copy;
    }

    /// <summary>Checks every field; loads the system's public suffix list into <see cref="PublicSuffixes"/> when it is needed and unset.</summary>
    /// <exception cref="ArgumentException">A field is invalid; the message starts with <c>SessionConfig.</c> and the field's name.</exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Cookie) || !CookieText.IsToken(Cookie))
            throw Invalid(nameof(Cookie), $"'{Cookie}' is not a valid cookie name: it must be non-empty and hold no whitespace, control characters or separators such as ; = , \" ( ) [ ].");
        if (string.IsNullOrEmpty(CookiePath) || CookiePath[0] != '/' || !CookieText.IsAttributeValue(CookiePath))
            throw Invalid(nameof(CookiePath), $"'{CookiePath}' is not a valid cookie path: it must start with '/' and hold no ';' or control characters.");
        if (CookieDomain is not null && (CookieDomain.Length == 0 || !CookieText.IsDomain(CookieDomain)))
            throw Invalid(nameof(CookieDomain), $"'{CookieDomain}' is not a valid cookie domain.");
        if (!Enum.IsDefined(typeof(CookieSameSite), SameSite))
            throw Invalid(nameof(SameSite), $"{SameSite} is not a SameSite mode.");
        if (!Enum.IsDefined(typeof(CookieSecureMode), CookieSecure))
            throw Invalid(nameof(CookieSecure), $"{CookieSecure} is not a secure mode.");
        var secureAlways = CookieSecure == CookieSecureMode.Always;
        // Browsers match the prefixes case-insensitively (__HOST-sid is a __Host- cookie to them), so the checks do too.
        if (Cookie.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase))
        {
            if (!secureAlways)
                throw Invalid(nameof(CookieSecure), $"The cookie name '{Cookie}' has the __Host- prefix, which requires CookieSecure = Always.");
            if (CookiePath != "/")
                throw Invalid(nameof(CookiePath), $"The cookie name '{Cookie}' has the __Host- prefix, which requires CookiePath '/', not '{CookiePath}'.");
            if (!DisableSubdomainPersistence)
                throw Invalid(nameof(DisableSubdomainPersistence), $"The cookie name '{Cookie}' has the __Host- prefix, which forbids a Domain: DisableSubdomainPersistence must stay true.");
        }
        if (Cookie.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase) && !secureAlways)
            throw Invalid(nameof(CookieSecure), $"The cookie name '{Cookie}' has the __Secure- prefix, which requires CookieSecure = Always.");
        if (SameSite == CookieSameSite.None && !secureAlways)
            throw Invalid(nameof(SameSite), "SameSite = None requires CookieSecure = Always: browsers reject SameSite=None cookies without Secure.");
        if (IdleTimeout <= TimeSpan.Zero)
            throw Invalid(nameof(IdleTimeout), $"{IdleTimeout} is not a valid idle timeout: it must be positive so every session ends.");
        if (MaxKeys <= 0)
            throw Invalid(nameof(MaxKeys), $"{MaxKeys} must be positive.");
        if (MaxKeyLength <= 0)
            throw Invalid(nameof(MaxKeyLength), $"{MaxKeyLength} must be positive.");
        if (MaxPayloadBytes <= 0)
            throw Invalid(nameof(MaxPayloadBytes), $"{MaxPayloadBytes} must be positive.");
        if (MemoryMaxSessions <= 0)
            throw Invalid(nameof(MemoryMaxSessions), $"{MemoryMaxSessions} must be positive.");
        if (MaxSessionsPerUser < 0)
            throw Invalid(nameof(MaxSessionsPerUser), $"{MaxSessionsPerUser} must be 0 (unlimited) or positive.");
        if (MaxCookieBytes < 128)
            throw Invalid(nameof(MaxCookieBytes), $"{MaxCookieBytes} is too small for a session cookie (at least 128).");
        if (Transport is null)
            throw Invalid(nameof(Transport), "A transport is required: SessionTransport.Cookie or SessionTransport.Header(name).");
        if (TimeProvider is null)
            throw Invalid(nameof(TimeProvider), "A TimeProvider is required.");
        if (!Enum.IsDefined(typeof(SessionDatabaseFailureMode), DatabaseFailureMode))
            throw Invalid(nameof(DatabaseFailureMode), $"{DatabaseFailureMode} is not a failure mode.");
        if (!DisableSubdomainPersistence && CookieDomain is null)
        {
            PublicSuffixes ??= PublicSuffixList.LoadSystemDefault();
            if (PublicSuffixes is null)
                throw Invalid(nameof(CookieDomain), "DisableSubdomainPersistence is false but no public suffix list was found (install the 'publicsuffix' package or set PublicSuffixes): set CookieDomain explicitly rather than let the library guess the registrable domain.");
        }
    }

    private static ArgumentException Invalid(string field, string message) => new($"SessionConfig.{field}: {message}", field);
}

/// <summary>What a request gets when the database fails to load its session (<see cref="SessionConfig.DatabaseFailureMode"/>).</summary>
public enum SessionDatabaseFailureMode
{
    /// <summary>Fail closed (the default): the load's <see cref="SessionDatabaseException"/> propagates; the hosts answer 503 with Retry-After.</summary>
    Fail,

    /// <summary>
    /// Fail open: the request goes on with an empty session that is never stored. Its writes live only for the request,
    /// it writes no cookie, and the client's cookie is left as it is, so its real session is there again once the
    /// database is back. Choose it only where an anonymous page is better than an error page.
    /// </summary>
    ContinueUnsaved,
}
