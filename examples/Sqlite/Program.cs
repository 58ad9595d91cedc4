using Sessions.AspNetCore;
using Sessions.Sqlite;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSessions(config => config.Cookie = "app_sid");
builder.Services.AddSqliteSessionDatabase(builder.Configuration["Db"] ?? "sessions.db");   // --Db path; survives restarts
var app = builder.Build();
app.UseSessions();

app.MapGet("/", async (HttpContext context) =>
{
    var session = await context.GetSessionAsync();   // SQLite: always the async API
    return $"visits: {session.Increment("visits")}";
});

app.Run();
