using Sessions;
using Sessions.Redis;

// Usage: Sessions.Redis.EventProbe <redis configuration> <key prefix>
// Listens to the session events of one key prefix (configuring keyspace notifications itself) and prints one line per
// event: "EVENT <reason> <remote|local> <id hash> <previous id hash or -> <id|noid>", after "READY" once subscribed.
// It never prints a session ID: "id" only says that the event carried one. It exits when its standard input closes.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Sessions.Redis.EventProbe <redis configuration> <key prefix>");
    return 2;
}

using var database = new RedisSessionDatabase(args[0], new RedisSessionOptions
{
    KeyPrefix = args[1],
    PublishEvents = true,
    SubscribeToEvents = true,
    ConfigureKeyspaceNotifications = true,
});
using var manager = new SessionManager(new SessionConfig { Database = database });
var output = new object();
void Print(SessionEventArgs e)
{
    lock (output)
    {
        Console.WriteLine($"EVENT {e.Reason} {(e.IsRemote ? "remote" : "local")} {e.IdHash ?? "-"} {e.PreviousIdHash ?? "-"} {(e.SessionId is null ? "noid" : "id")}");
        Console.Out.Flush();
    }
}
manager.Created += (_, e) => Print(e);
manager.Renewed += (_, e) => Print(e);
manager.Destroyed += (_, e) => Print(e);
try
{
    await database.EventsReady;
}
catch (SessionDatabaseException e)
{
    Console.WriteLine("ERROR " + e.Message);
    return 1;
}
lock (output)
{
    Console.WriteLine("READY");
    Console.Out.Flush();
}
while (await Console.In.ReadLineAsync() is not null)
{
    // nothing to do: the probe only listens
}
return 0;
