using System.Globalization;
using System.Text.Json;

namespace Sessions.Samples;

/// <summary>
/// What a route answers: status, content type (none when <see langword="null"/>: the empty bodies of 404 and 405), body,
/// and the <c>Allow</c> header a 405 carries. Every text body says <c>text/plain; charset=utf-8</c> and every response
/// <c>X-Content-Type-Options: nosniff</c>, so a browser never sniffs stored session text (a flash) as HTML or script.
/// </summary>
internal readonly record struct RouteResult(int StatusCode, string? ContentType, string Body, string? Allow = null);

/// <summary>The session operations of one request, on one host (each sample maps them onto its adapter's extension methods).</summary>
internal interface IRequestSessions
{
    ValueTask<Session> StartAsync();
    Session StartDeferred();
    ValueTask<bool> ShiftExpirationAsync();
    ValueTask<bool> DestroyAsync();
    ValueTask<bool> RenewIdAsync();
    SessionManager Manager { get; }
}

/// <summary>
/// The route contract (docs/samples.md), written once for the hosts without a router (HttpListener, OWIN): the same routes,
/// status codes, content types and bodies as samples/AspNetCore/SampleApp.cs. The cross-host test suite compares them.
/// </summary>
internal static class RouteContract
{
    private const string TextPlain = "text/plain; charset=utf-8";
    private const string TextHtml = "text/html; charset=utf-8";
    private const string Json = "application/json; charset=utf-8";

    // The serialiser's defaults (property names as declared), as the ASP.NET Core sample's /all and as the stores that
    // keep copies write values: a value read back from Redis or the embedded database is JSON that keeps those names.
    private static readonly JsonSerializerOptions JsonOptions = JsonSerializerOptions.Default;

    private static readonly string[] Paths =
    [
        "/", "/set", "/get", "/delete", "/clear", "/update", "/destroy", "/set_immutable", "/get_immutable",
        "/flash/set", "/flash/get", "/flash/peek", "/counter", "/renew", "/all", .. UserRoutes.Paths,
    ];

    /// <summary>Serves one request. <paramref name="path"/> is the decoded path, <paramref name="query"/> the raw query without <c>?</c>.</summary>
    public static async ValueTask<RouteResult> HandleAsync<TSessions>(TSessions sessions, string method, string path, string? query)
        where TSessions : IRequestSessions
    {
        var route = Match(path);
        if (route is null)
            return new RouteResult(404, null, "");
        // Minimal APIs' MapGet: other methods on a known route get 405 with an empty body.
        if (!string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
            return new RouteResult(405, null, "", Allow: "GET");
        if (Array.IndexOf(UserRoutes.Paths, route) >= 0)
            return await UserRoutes.HandleAsync(sessions, route, query).ConfigureAwait(false);

        switch (route)
        {
            case "/":
                return new RouteResult(200, TextPlain, Routes.List);
            case "/set":
            {
                var session = sessions.StartDeferred(); // writes only: one database call
                session.Set("name", "iris");
                return Ok("All ok session setted to: " + session.GetString("name"));
            }
            case "/get":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                return Ok("The name on the /set was: " + session.GetString("name", ""));
            }
            case "/delete":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                return Ok("deleted: " + (session.Delete("name") ? "true" : "false"));
            }
            case "/clear":
            {
                var session = sessions.StartDeferred(); // writes only: one database call
                session.Clear();
                return Ok("cleared");
            }
            case "/update":
                return Ok("updated: " + (await sessions.ShiftExpirationAsync().ConfigureAwait(false) ? "true" : "false"));
            case "/destroy":
                return Ok("destroyed: " + (await sessions.DestroyAsync().ConfigureAwait(false) ? "true" : "false"));
            case "/set_immutable":
            {
                var session = sessions.StartDeferred(); // writes only: one database call
                session.SetImmutable("businessEdit", BusinessModel.Defaults());
                // Changing what Get returned does not change the session: the value is immutable.
                session.Get<List<BusinessModel>>("businessEdit")[0].Name = "Gabriel";
                return Ok("[]businessModel[0].Name set to: " + session.Get<List<BusinessModel>>("businessEdit")[0].Name);
            }
            case "/get_immutable":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                if (!session.TryGet<List<BusinessModel>>("businessEdit", out var models))
                    return new RouteResult(200, TextHtml, "please navigate to the <a href='/set_immutable'>/set_immutable</a> first");
                models[0].Name = "Kataras";
                return Ok("[]businessModel[0].Name remains: " + session.Get<List<BusinessModel>>("businessEdit")[0].Name);
            }
            case "/flash/set":
            {
                var key = QueryValue(query, "key");
                if (key.Length == 0)
                    return MissingKey();
                var value = QueryValue(query, "value");
                var session = sessions.StartDeferred();
                session.SetFlash(key, value);
                return Ok($"flash set: {key}={value}");
            }
            case "/flash/get":
            case "/flash/peek":
            {
                var key = QueryValue(query, "key");
                if (key.Length == 0)
                    return MissingKey();
                var session = await sessions.StartAsync().ConfigureAwait(false);
                var value = route == "/flash/get" ? session.GetFlash(key) : session.PeekFlash(key);
                return value is null ? new RouteResult(404, TextPlain, "no flash: " + key) : Ok(value.ToString() ?? "");
            }
            case "/counter":
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                return Ok(session.Increment("counter").ToString(CultureInfo.InvariantCulture));
            }
            case "/renew":
                return Ok("renewed: " + (await sessions.RenewIdAsync().ConfigureAwait(false) ? "true" : "false"));
            default: // "/all"
            {
                var session = await sessions.StartAsync().ConfigureAwait(false);
                return new RouteResult(200, Json, JsonSerializer.Serialize(session.GetAll(), JsonOptions));
            }
        }
    }

    private static RouteResult Ok(string body) => new(200, TextPlain, body);

    private static RouteResult MissingKey() => new(400, TextPlain, "missing query parameter 'key'");

    /// <summary>The route a path names, matched as ASP.NET Core routing does: case-insensitive, one optional trailing slash.</summary>
    private static string? Match(string path)
    {
        if (path.Length > 1 && path[path.Length - 1] == '/')
            path = path.Substring(0, path.Length - 1);
        foreach (var candidate in Paths)
        {
            if (string.Equals(candidate, path, StringComparison.OrdinalIgnoreCase))
                return candidate;
        }
        return null;
    }

    /// <summary>A query parameter as ASP.NET Core's <c>Request.Query[name].ToString()</c> gives it: decoded, <c>+</c> as space, repeats joined with commas, empty when absent.</summary>
    internal static string QueryValue(string? query, string name)
    {
        if (string.IsNullOrEmpty(query))
            return "";
        string? result = null;
        foreach (var pair in query!.Split('&'))
        {
            if (pair.Length == 0)
                continue;
            var equals = pair.IndexOf('=');
            var key = Decode(equals < 0 ? pair : pair.Substring(0, equals));
            if (!string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
                continue;
            var value = equals < 0 ? "" : Decode(pair.Substring(equals + 1));
            result = result is null ? value : result + "," + value;
        }
        return result ?? "";
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
