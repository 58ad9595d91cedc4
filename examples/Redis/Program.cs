using Sessions.AspNetCore;
using Sessions.Redis;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSessions(config => config.Cookie = "app_sid");
builder.Services.AddRedisSessionDatabase(builder.Configuration["Redis"] ?? "127.0.0.1:6379");   // --Redis host:port
var app = builder.Build();
app.UseSessions();

app.MapGet("/", async (HttpContext context) =>
{
    var session = await context.GetSessionAsync();   // Redis: always the async API
    return $"visits: {session.Increment("visits")}";
});

app.Run();
