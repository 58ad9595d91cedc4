// dotnet Sessions.LoadApp.dll --urls http://127.0.0.1:PORT --mode none|sessions|aspnet|raw|script [--store memory|redis|embedded]
//     [--redis HOST:PORT] [--db PATH]
// /set writes name=iris, /get reads it: the same two routes in every mode. raw is no session library at all, one plain
// StackExchange.Redis command per request (HGET for /get, HSET for /set): what one Redis round trip costs a request.
// script is no session library either, but its /set sends the commit script with the arguments of a write-only
// request (StartDeferred + Set), on a session hash written at start: what the script alone costs, client and server.
using Sessions;
using Sessions.AspNetCore;
using Sessions.Redis;
using Sessions.Sqlite;

var mode = Option("--mode") ?? "sessions";
var store = Option("--store") ?? "memory";
var redis = Option("--redis") ?? "127.0.0.1:6379";
if (store is not ("memory" or "redis" or "embedded") || (store == "embedded" && mode == "aspnet") || (mode is "raw" or "script" && store != "redis"))
{
    Console.Error.WriteLine($"Unknown --store '{store}' for --mode {mode} (memory, redis; embedded for sessions only).");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
switch (mode)
{
    case "sessions":
        builder.Services.AddSessions();
        if (store == "redis")
            builder.Services.AddRedisSessionDatabase(redis);
        else if (store == "embedded")
            builder.Services.AddSingleton<ISessionDatabase>(_ => new SqliteSessionDatabase(Option("--db") ?? Path.Combine(Path.GetTempPath(), "sessions-load.db")));
        break;
    case "aspnet":
        if (store == "redis")
            builder.Services.AddStackExchangeRedisCache(options => options.Configuration = redis);
        else
            builder.Services.AddDistributedMemoryCache();
        builder.Services.AddSession();
        break;
    case "none":
        break;
    case "raw" or "script":
        builder.Services.AddSingleton<StackExchange.Redis.IConnectionMultiplexer>(_ => StackExchange.Redis.ConnectionMultiplexer.Connect(redis));
        break;
    default:
        Console.Error.WriteLine($"Unknown --mode '{mode}' (none, sessions, aspnet, raw, script).");
        return 2;
}
var app = builder.Build();
const string SetBody = "All ok session setted to: iris";
const string GetPrefix = "The name on the /set was: ";

switch (mode)
{
    case "sessions":
        app.UseSessions();
        var sessions = app.Services.GetRequiredService<SessionManager>();
        app.MapGet("/set", async context =>
        {
            sessions.StartDeferred(context).Set("name", "iris"); // writes only: one database call, no load
            await context.Response.WriteAsync(SetBody);
        });
        app.MapGet("/get", async context =>
            await context.Response.WriteAsync(GetPrefix + (await sessions.StartAsync(context)).GetString("name", "")));
        break;
    case "aspnet":
        app.UseSession();
        app.MapGet("/set", async context =>
        {
            await context.Session.LoadAsync();
            context.Session.SetString("name", "iris");
            await context.Response.WriteAsync(SetBody);
        });
        app.MapGet("/get", async context =>
        {
            await context.Session.LoadAsync();
            await context.Response.WriteAsync(GetPrefix + (context.Session.GetString("name") ?? ""));
        });
        break;
    case "raw":
        var raw = app.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>().GetDatabase();
        app.MapGet("/set", async context =>
        {
            await raw.HashSetAsync("raw", "name", "iris");
            await context.Response.WriteAsync(SetBody);
        });
        app.MapGet("/get", async context => await context.Response.WriteAsync(GetPrefix + await raw.HashGetAsync("raw", "name")));
        break;
    case "script":
        var connection = app.Services.GetRequiredService<StackExchange.Redis.IConnectionMultiplexer>();
        var db = connection.GetDatabase();
        var commit = RedisScripts.Commit;
        await connection.GetServer(connection.GetEndPoints()[0]).ScriptLoadAsync(commit.Text);
        var defaults = new SessionConfig();
        var idleTimeout = defaults.IdleTimeout;
        var stored = DateTimeOffset.UtcNow + idleTimeout;
        var payload = SessionValueCodec.Encode("name", new SessionValue("iris", false)); // the bytes a session stores for name=iris
        await db.HashSetAsync("script:{session}", [new("#i", stored.UtcTicks), new("#im", stored.ToUnixTimeMilliseconds()), new("#s", SessionValueCodec.PayloadSize("name", payload)), new("#n", 1), new("vname", (byte[])[.. "1:"u8, .. payload])]);
        // The arguments RedisSessionDatabase sends for StartDeferred + Set("name", "iris"): flags (unloaded), the new idle
        // deadline, slack, payload limit, no deletes, one set field, then the liveness instant and key limit.
        StackExchange.Redis.RedisValue[] Arguments(DateTimeOffset now) =>
            ["000001", (now + idleTimeout).UtcTicks, (now + idleTimeout).ToUnixTimeMilliseconds(), 5000, defaults.MaxPayloadBytes, 0, 1, "vname", payload, now.ToUnixTimeMilliseconds(), defaults.MaxKeys];
        if ((long)await db.ScriptEvaluateAsync(commit.Hash, ["script:{session}"], Arguments(DateTimeOffset.UtcNow)) != 1)
            throw new InvalidOperationException("The commit script refused the probe's arguments: their layout no longer matches RedisScripts.Commit.");
        app.MapGet("/set", async context =>
        {
            await db.ScriptEvaluateAsync(commit.Hash, ["script:{session}"], Arguments(DateTimeOffset.UtcNow));
            await context.Response.WriteAsync(SetBody);
        });
        app.MapGet("/get", async context => await context.Response.WriteAsync(GetPrefix + await db.HashGetAsync("script:{session}", "vname")));
        break;
    default:
        app.MapGet("/set", async context => await context.Response.WriteAsync(SetBody));
        app.MapGet("/get", async context => await context.Response.WriteAsync(GetPrefix + "iris"));
        break;
}
app.Run();
return 0;

string? Option(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
