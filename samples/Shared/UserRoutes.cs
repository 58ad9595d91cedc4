using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sessions.Samples;

/// <summary>
/// The users-and-devices routes of the contract (docs/samples.md), shared by every host: sign in and out, a protected
/// page, the signed-in user's devices, revoking one, and signing out everywhere or everywhere else.
/// </summary>
internal static class UserRoutes
{
    private const string TextPlain = "text/plain; charset=utf-8";
    private const string Json = "application/json; charset=utf-8";

    /// <summary>The routes served here.</summary>
    public static readonly string[] Paths = ["/login", "/secret", "/logout", "/devices", "/devices/revoke", "/logout/everywhere", "/logout/others"];

    /// <summary>Serves one of <see cref="Paths"/>; <paramref name="query"/> is the raw query without <c>?</c>.</summary>
    public static async ValueTask<RouteResult> HandleAsync<TSessions>(TSessions sessions, string route, string? query)
        where TSessions : IRequestSessions
    {
        switch (route)
        {
            case "/login":
            {
                var user = RouteContract.QueryValue(query, "user");
                if (user.Length == 0 || user.Length > UserNames.MaxLength || user.Any(char.IsControl))
                    return new RouteResult(400, TextPlain, "missing or invalid query parameter 'user'");
                // A new ID at every privilege change (session fixation), then the user: the sign-in.
                await sessions.RenewIdAsync().ConfigureAwait(false);
                var session = await sessions.StartAsync().ConfigureAwait(false);
                session.Set("authenticated", true);
                session.SetUser(user);
                return Text("welcome " + user);
            }
            case "/secret":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                return session.GetBoolean("authenticated", false) ? Text("The cake is a lie!") : new RouteResult(403, TextPlain, "forbidden");
            }
            case "/logout":
                await sessions.DestroyAsync().ConfigureAwait(false);
                return Text("logged out");
            case "/devices":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                if (session.User is null)
                    return new RouteResult(403, TextPlain, "forbidden");
                var devices = await sessions.Manager.ListUserSessionsAsync(session).ConfigureAwait(false);
                return new RouteResult(200, Json, JsonSerializer.Serialize(devices.Select(d => new Device(d.Handle, d.IsCurrent, d.Created, d.LastSeen)), JsonSerializerOptions.Default));
            }
            case "/devices/revoke":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                var revoked = await sessions.Manager.DestroyUserSessionAsync(session, RouteContract.QueryValue(query, "handle")).ConfigureAwait(false);
                return revoked ? Text("revoked") : new RouteResult(404, TextPlain, "no such device");
            }
            default: // "/logout/everywhere", "/logout/others"
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                var destroyed = await sessions.Manager.DestroyUserSessionsAsync(session, keepCurrent: route == "/logout/others").ConfigureAwait(false);
                return Text(destroyed.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    private static RouteResult Text(string body) => new(200, TextPlain, body);

    /// <summary>One device as <c>/devices</c> lists it.</summary>
    private sealed record Device(
        [property: JsonPropertyName("handle")] string Handle,
        [property: JsonPropertyName("current")] bool Current,
        [property: JsonPropertyName("created")] DateTimeOffset Created,
        [property: JsonPropertyName("lastSeen")] DateTimeOffset LastSeen);
}
