namespace Sessions.Samples;

/// <summary>The go-sessions example's business model, for the immutable routes.</summary>
public sealed class BusinessModel
{
    /// <summary>A name.</summary>
    public string Name { get; set; } = "";

    /// <summary>The two models of the go-sessions example.</summary>
    public static List<BusinessModel> Defaults() => [new() { Name = "Edward" }, new() { Name = "value 2" }];
}

/// <summary>The route list served on <c>/</c> by every sample.</summary>
internal static class Routes
{
    /// <summary>One route per line.</summary>
    public const string List = """
        Sessions sample routes:
        /                      this list
        /set                   sets name=iris
        /get                   reads name
        /delete                deletes name
        /clear                 removes every value
        /update                ShiftExpiration
        /destroy               Destroy
        /set_immutable         SetImmutable businessEdit
        /get_immutable         reads businessEdit
        /flash/set?key=K&value=V  sets a flash
        /flash/get?key=K       reads a flash (consumes it)
        /flash/peek?key=K      reads a flash without consuming it
        /counter               Increment counter
        /renew                 RenewId
        /all                   GetAll as JSON
        /login?user=U          RenewId, then sign in as U
        /secret                200 when signed in, else 403
        /logout                Destroy
        /devices               the signed-in user's sessions as JSON, newest first
        /devices/revoke?handle=H  signs that device out
        /logout/everywhere     signs out every session of the user (body: how many)
        /logout/others         signs out every other session of the user (body: how many)
        """;
}
