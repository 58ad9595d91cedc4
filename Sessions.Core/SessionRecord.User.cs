namespace Sessions;

/// <content>The user a session is signed in as (see <see cref="Session.SetUser"/>), stored with the session by every database.</content>
public sealed partial class SessionRecord
{
    /// <summary>The user this session is signed in as, or <see langword="null"/>.</summary>
    public string? User { get; set; }

    /// <summary>When the session was signed in as <see cref="User"/> (a device's "created" time), or <see langword="null"/>.</summary>
    public DateTimeOffset? SignedInAt { get; set; }
}
