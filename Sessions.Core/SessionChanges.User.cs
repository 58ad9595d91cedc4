namespace Sessions;

/// <content>A sign-in: the request bound the session to a user (see <see cref="Session.SetUser"/>).</content>
public sealed partial class SessionChanges
{
    /// <summary>Whether this request signed the session in as <see cref="User"/>: store it, and index the session under that user.</summary>
    public bool BindsUser { get; private set; }

    /// <summary>The user the session is signed in as, when <see cref="BindsUser"/>.</summary>
    public string? User { get; private set; }

    /// <summary>When the session was signed in, when <see cref="BindsUser"/>.</summary>
    public DateTimeOffset SignedInAt { get; private set; }

    /// <summary>The user the session was signed in as before this request (its index entry goes), or <see langword="null"/>.</summary>
    public string? PreviousUser { get; private set; }

    internal void BindUser(string user, DateTimeOffset signedInAt, string? previousUser)
    {
        if (!BindsUser)
            PreviousUser = previousUser; // the user as loaded: a second sign-in in one request keeps the first's "before"
        BindsUser = true;
        User = user;
        SignedInAt = signedInAt;
    }

    private void ApplyUserTo(SessionRecord record)
    {
        if (!BindsUser)
            return;
        record.User = User;
        record.SignedInAt = SignedInAt;
    }
}
